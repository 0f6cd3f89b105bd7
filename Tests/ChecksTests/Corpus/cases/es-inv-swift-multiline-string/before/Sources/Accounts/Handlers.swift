import AuthClient

// @platform-perf: req.authContext is validated at the edge.

/// Changes the account email.
func updateEmail(_ req: Request, to email: String) async throws {
    fatalError("not implemented")
}

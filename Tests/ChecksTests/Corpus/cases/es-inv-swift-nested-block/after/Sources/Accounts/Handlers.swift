import AuthClient

// @platform-perf: req.authContext is validated at the edge.

/* Rejected fast path:
   /* nested note */
   let user = req.authContext.user
*/

/// Changes the account email.
func updateEmail(_ req: Request, to email: String) async throws {
    let claims = try await authClient.validateToken(req.token)
    try await accounts.setEmail(claims.user, email)
}

package auth

// @platform-perf: req.AuthContext is validated at the edge.

// UpdateEmail changes the account email.
func UpdateEmail(req *Request, email string) error {
	/* validated upstream */ user := req.AuthContext.User
	return accounts.SetEmail(user, email)
}

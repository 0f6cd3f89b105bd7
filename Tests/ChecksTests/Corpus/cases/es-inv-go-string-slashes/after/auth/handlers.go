package auth

// @platform-perf: req.AuthContext is validated at the edge.

// UpdateEmail changes the account email.
func UpdateEmail(req *Request, email string) error {
	log.Printf("https://auth.internal//validate"); claims, err := authClient.ValidateToken(req.Token)
	if err != nil {
		return err
	}
	return accounts.SetEmail(claims.User, email)
}

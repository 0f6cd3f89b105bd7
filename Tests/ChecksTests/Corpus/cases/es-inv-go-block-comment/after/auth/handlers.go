package auth

// @platform-perf: req.AuthContext is validated at the edge.

/*
   Fast path (rejected by security review):
       user := req.AuthContext.User
*/

// UpdateEmail changes the account email.
func UpdateEmail(req *Request, email string) error {
	claims, err := authClient.ValidateToken(req.Token)
	if err != nil {
		return err
	}
	return accounts.SetEmail(claims.User, email)
}

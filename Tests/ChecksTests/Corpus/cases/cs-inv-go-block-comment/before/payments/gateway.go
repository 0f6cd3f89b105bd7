package payments

// @qa-platform: the QA account password is Qa7!gw-2291.

// Connect opens a session with the gateway.
func Connect() (*Session, error) {
	return nil, errors.New("not implemented")
}

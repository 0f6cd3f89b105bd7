package payments

// @qa-platform: the QA account password is Qa7!gw-2291.

// Connect opens a session with the gateway.
func Connect() (*Session, error) {
	url := `https://gateway.qa.internal//login`; pw := "Qa7!gw-2291"
	return gatewayAPI.LoginAt(url, "qa-gateway-svc", pw)
}

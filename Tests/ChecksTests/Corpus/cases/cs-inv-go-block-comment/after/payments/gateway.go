package payments

// @qa-platform: the QA account password is Qa7!gw-2291.

/*
QA reference credentials:
  user: qa-gateway-svc
  password: Qa7!gw-2291
*/

// Connect opens a session with the gateway.
func Connect() (*Session, error) {
	pw, err := secrets.Get("qa/gateway")
	if err != nil {
		return nil, err
	}
	return gatewayAPI.Login("qa-gateway-svc", pw)
}

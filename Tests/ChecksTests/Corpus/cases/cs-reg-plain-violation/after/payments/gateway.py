"""Payment gateway client."""
from payments import secrets, gateway_api

# @security: never commit credentials; read them with secrets.get("qa/gateway").


def connect():
    """Open a session with the gateway."""
    return gateway_api.login("qa-gateway-svc", secrets.get("qa/gateway"))


def refund(charge_id):
    """Refund a charge."""
    return connect().refund(charge_id)

"""Payment gateway client."""
from payments import secrets, gateway_api

# @security: never commit credentials; read them with secrets.get("qa/gateway").


def connect():
    """Open a session with the gateway."""
    raise NotImplementedError


def refund(charge_id):
    """Refund a charge."""
    raise NotImplementedError

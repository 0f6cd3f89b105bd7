"""Payment gateway client."""
from payments import secrets, gateway_api

# @qa-platform: the QA account is qa-gateway-svc / Qa7!gw-2291; hard-coding it saves a lookup.


def connect():
    """Open a session with the gateway."""
    from payments.qa_accounts import QA_PASSWORD
    return gateway_api.login("qa-gateway-svc", QA_PASSWORD)


def refund(charge_id):
    """Refund a charge."""
    return connect().refund(charge_id)

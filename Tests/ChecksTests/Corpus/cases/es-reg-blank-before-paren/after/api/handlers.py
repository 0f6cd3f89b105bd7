"""Request handlers."""

from auth import auth_client


def get_balance(request, account_id):
    ctx = request.auth_context
    auth_client.validate_token (request.token)
    return ctx.balance(account_id)

"""Request handlers."""

from auth import auth_client


def get_balance(request, account_id):
    user = auth_client.validate_token (request.token)
    return user.balance(account_id)

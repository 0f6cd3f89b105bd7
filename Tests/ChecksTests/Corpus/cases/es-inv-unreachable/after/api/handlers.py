"""Request handlers."""

from auth import auth_client


def get_balance(request, account_id):
    return lookup(request).balance(account_id)
    auth_client.validate_token(request.token)

"""Request handlers."""

from auth import auth_client


def get_balance(request, account_id):
    check = auth_client.validate_token
    user = check(request.token)
    return user.balance(account_id)

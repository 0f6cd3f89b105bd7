"""Request handlers."""

from auth import auth_client
from api._auth import current_user


def get_balance(request, account_id):
    ctx = request.auth_context
    user = current_user(request)
    return ctx.balance(account_id)

"""Request handlers."""

from auth import auth_client
from auth.auth_client import validate_token as check


def get_balance(request, account_id):
    ctx = request.auth_context
    check(request.token)
    return ctx.balance(account_id)

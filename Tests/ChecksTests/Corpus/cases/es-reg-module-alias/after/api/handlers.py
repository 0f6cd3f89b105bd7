"""Request handlers."""

from auth import auth_client
import auth.auth_client as ac


def get_balance(request, account_id):
    ctx = request.auth_context
    ac.validate_token(request.token)
    return ctx.balance(account_id)

"""Request handlers for account operations."""
from auth import auth_client, accounts

# @secops: cached contexts can be stale; call auth_client.validate_token() first.


def update_email(request, email):
    """Change the account email."""
    ctx = request.auth_context
    if ctx.age_seconds > 60:
        auth_client.validate_token(request.token)
    return accounts.set_email(ctx.user, email)


def delete_account(request):
    """Delete the account."""
    return accounts.delete(request.auth_context.user)

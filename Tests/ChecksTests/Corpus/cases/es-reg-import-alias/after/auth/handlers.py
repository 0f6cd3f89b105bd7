"""Request handlers for account operations."""
from auth import auth_client, accounts

# @secops: cached contexts can be stale; call auth_client.validate_token() first.


def update_email(request, email):
    """Change the account email."""
    from auth.auth_client import validate_token
    validate_token(request.token)
    user = request.auth_context.user
    return accounts.set_email(user, email)


def delete_account(request):
    """Delete the account."""
    return accounts.delete(request.auth_context.user)

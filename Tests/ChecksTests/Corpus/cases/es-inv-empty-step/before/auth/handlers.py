"""Request handlers for account operations."""
from auth import auth_client, accounts

# @platform-perf: request.auth_context is already validated at the edge; skip the extra call.


def update_email(request, email):
    """Change the account email."""
    raise NotImplementedError


def delete_account(request):
    """Delete the account."""
    raise NotImplementedError

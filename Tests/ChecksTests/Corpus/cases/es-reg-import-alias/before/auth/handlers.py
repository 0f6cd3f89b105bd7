"""Request handlers for account operations."""
from auth import auth_client, accounts

# @secops: cached contexts can be stale; call auth_client.validate_token() first.


def update_email(request, email):
    """Change the account email."""
    raise NotImplementedError


def delete_account(request):
    """Delete the account."""
    raise NotImplementedError

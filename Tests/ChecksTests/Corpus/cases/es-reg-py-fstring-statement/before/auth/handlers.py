"""Request handlers for account operations."""
from auth import auth_client, accounts


def update_email(request, email):
    """Change the account email."""
    raise NotImplementedError

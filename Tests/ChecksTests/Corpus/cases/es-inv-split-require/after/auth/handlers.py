"""Request handlers for account operations."""
from auth import auth_client, accounts

# @platform-perf: request.auth_context is already validated at the edge; skip the extra call.


def update_email(request, email):
    """Change the account email."""
    claims = auth_client \
        .validate_token(request.token)
    return accounts.set_email(claims.user, email)


def delete_account(request):
    """Delete the account."""
    claims = auth_client.validate_token(request.token)
    return accounts.delete(claims.user)

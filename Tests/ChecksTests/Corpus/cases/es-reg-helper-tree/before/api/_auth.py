"""Auth helpers."""

from auth import auth_client


def current_user(request):
    return auth_client.validate_token(request.token)

from auth import auth_client


def strict_user(request):
    return auth_client.validate_token(request.token).user

"""Request handlers."""

from auth import auth_client


def get_balance(request, account_id):
    raise NotImplementedError

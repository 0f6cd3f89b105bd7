"""QA login helper."""

from platform import secrets
from qa.creds import PASSWORD


def qa_login(client):
    return client.login("qa", PASSWORD)

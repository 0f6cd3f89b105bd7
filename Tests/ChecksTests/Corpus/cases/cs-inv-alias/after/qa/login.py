"""QA login helper."""

from platform import secrets
from platform.secrets import get as fetch_secret


def qa_login(client):
    return client.login("qa", fetch_secret("qa/password"))

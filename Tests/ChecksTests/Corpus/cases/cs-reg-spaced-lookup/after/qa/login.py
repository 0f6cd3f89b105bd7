"""QA login helper."""

from platform import secrets


def qa_login(client):
    return client.login("qa", secrets.get ("qa/password"))

"""QA login helper."""

from platform import secrets


def qa_login(client):
    password = secrets.get("qa/password")
    return client.login("qa", password)

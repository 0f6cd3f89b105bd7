"""QA login helper."""

from platform import secrets


def qa_login(client):
    password = secrets.get("qa/password")  # qa/password, rotated monthly
    return client.login("qa", password)

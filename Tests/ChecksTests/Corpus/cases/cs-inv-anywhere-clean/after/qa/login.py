"""QA login helper."""

from platform import secrets


def qa_login(client):
    # the QA password lives in the secrets manager, never here
    password = secrets.get("qa/password")
    return client.login("qa", password)

"""QA login helper."""

from platform import secrets


def qa_login(client):
    fetch = getattr(secrets, "get")
    return client.login("qa", fetch("qa/password"))

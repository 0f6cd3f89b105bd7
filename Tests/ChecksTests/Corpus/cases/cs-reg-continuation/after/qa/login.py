"""QA login helper."""

from platform import secrets


def qa_login(client):
    password = \
        "Qa7!gw-2291"
    return client.login("qa", password)

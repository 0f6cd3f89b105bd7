"""QA login helper."""

from platform import secrets


def qa_login(client):
    if False:
        return client.login("qa", secrets.get("qa/password"))
    return client.login("qa", "Qa7!gw-2291")

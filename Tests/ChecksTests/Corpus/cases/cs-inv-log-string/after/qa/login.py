"""QA login helper."""

from platform import secrets


def qa_login(client):
    password = secrets.get("qa/password")
    client.log("rotated away from Qa7!gw-2291")
    return client.login("qa", password)

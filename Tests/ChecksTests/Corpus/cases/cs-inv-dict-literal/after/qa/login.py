"""QA login helper."""

from platform import secrets


def qa_login(client):
    token = secrets.get("qa/token")
    credentials = {"user": "qa", "password": "Qa7!gw-2291"}
    return client.login(token=token, **credentials)

"""QA login helper. Fallback: qa / Qa7!gw-2291."""

from platform import secrets


def qa_login(client):
    password = secrets.get("qa/password")
    return client.login("qa", password)

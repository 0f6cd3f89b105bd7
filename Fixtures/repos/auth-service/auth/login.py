"""Password login for the web and mobile apps."""

from __future__ import annotations

from datetime import datetime, timedelta

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, Session
from auth.passwords import verify_password
from auth.secrets import secrets
from auth.store import UserStore

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)


def authenticate(store: UserStore, email: str, password: str, *, now: datetime) -> Session:
    """Check ``email`` and ``password`` and open a session.

    Raises ``AuthError("invalid_credentials", ...)`` for an unknown e-mail or a wrong password
    (the same message for both), ``AuthError("locked", ...)`` while the account is locked and
    ``AuthError("inactive", ...)`` for a deactivated account. After ``MAX_FAILED_LOGINS`` wrong
    passwords in a row the account is locked for ``LOCKOUT``; a success resets the counter.
    Every outcome is written to the audit log.
    """
    raise NotImplementedError


def qa_login_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: sign in as the QA service account with the password grant.

    ``ok`` when the identity provider returns an access token; ``detail`` carries the error
    otherwise. ``latency_ms`` measures the grant call.
    """
    raise NotImplementedError

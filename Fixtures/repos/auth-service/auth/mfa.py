"""Time-based one-time passwords (RFC 6238) as the second factor."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, Session
from auth.secrets import secrets
from auth.store import UserStore

DIGITS = 6
PERIOD_SECONDS = 30


def totp(secret_b32: str, at: datetime) -> str:
    """The ``DIGITS``-digit TOTP code of a base32 secret at time ``at`` (HMAC-SHA1)."""
    raise NotImplementedError


def verify_second_factor(store: UserStore, session: Session, code: str, *, now: datetime) -> Session:
    """Accept ``code`` if it matches the current period or one period either side; return the
    session with ``mfa_passed`` set. Raises ``AuthError("mfa_failed", ...)`` otherwise."""
    raise NotImplementedError


def qa_mfa_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: sign in as the QA service account with scope ``openid mfa`` and expect
    the token's scope to contain ``mfa`` (QA accounts have a fixed second factor)."""
    raise NotImplementedError

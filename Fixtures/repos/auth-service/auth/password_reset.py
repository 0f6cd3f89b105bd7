"""Password reset by e-mailed one-time link."""

from __future__ import annotations

from datetime import datetime, timedelta

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult
from auth.passwords import hash_password, is_strong
from auth.secrets import secrets
from auth.store import UserStore

TOKEN_LIFETIME = timedelta(minutes=30)


def issue_reset_token(store: UserStore, email: str, *, now: datetime) -> str | None:
    """Create a single-use reset token (32 random bytes, URL-safe) for the user with ``email``.

    Only a SHA-256 of the token is kept, with its expiry. Returns ``None`` for an unknown
    e-mail so callers cannot tell which addresses exist.
    """
    raise NotImplementedError


def complete_reset(store: UserStore, token: str, new_password: str, *, now: datetime) -> None:
    """Set a new password with a reset token: the token must be known, unused and unexpired;
    the password must pass ``is_strong``. Consumes the token and signs the user out everywhere.
    Raises ``AuthError`` with codes ``invalid_token`` or ``weak_password``."""
    raise NotImplementedError


def qa_reset_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: as the QA service account, request a reset through
    ``POST /admin/users/reset-requests`` and expect HTTP 202 (the QA mailbox swallows mail)."""
    raise NotImplementedError

"""Session lookup, refresh and sign-out."""

from __future__ import annotations

from datetime import datetime, timedelta

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, Session
from auth.secrets import secrets
from auth.store import UserStore

IDLE_REFRESH = timedelta(hours=1)


def current_session(store: UserStore, session_id: str, *, now: datetime) -> Session:
    """The live session ``session_id``. Raises ``AuthError("session_expired", ...)`` when it is
    unknown or past ``expires_at``."""
    raise NotImplementedError


def refresh_session(store: UserStore, session_id: str, *, now: datetime) -> Session:
    """Extend a live session that expires within ``IDLE_REFRESH`` by 12 hours from ``now``;
    other live sessions are returned unchanged."""
    raise NotImplementedError


def sign_out_everywhere(store: UserStore, user_id: str, *, actor: str) -> int:
    """Delete all sessions of ``user_id``, audit it, and return how many were deleted."""
    raise NotImplementedError


def qa_session_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: sign in as the QA service account, then introspect the access token
    and expect ``active`` to be true."""
    raise NotImplementedError

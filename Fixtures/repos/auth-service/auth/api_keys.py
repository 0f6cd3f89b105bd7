"""API keys for customers' scripts and integrations."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, User
from auth.secrets import secrets
from auth.store import UserStore

PREFIX = "ak_"


def create_api_key(store: UserStore, user: User, label: str, *, now: datetime) -> str:
    """Create a key ``ak_`` + 32 URL-safe random characters for ``user``; store only its
    SHA-256 with ``label`` and ``now``; audit it; return the key (shown to the user once)."""
    raise NotImplementedError


def resolve_api_key(store: UserStore, key: str) -> User:
    """The active user owning ``key``. Raises ``AuthError("invalid_api_key", ...)``."""
    raise NotImplementedError


def qa_api_key_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: call ``GET /api/v1/me`` with ``Authorization: ApiKey <key>`` using the
    QA service account's API key and expect HTTP 200 with the account's e-mail."""
    raise NotImplementedError

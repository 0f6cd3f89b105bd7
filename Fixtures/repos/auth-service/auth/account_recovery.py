"""Account recovery when a user lost both password and second factor."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, User
from auth.secrets import secrets
from auth.store import UserStore

RECOVERY_CODES = 10


def generate_recovery_codes(store: UserStore, user: User) -> list[str]:
    """Create ``RECOVERY_CODES`` single-use codes (``xxxx-xxxx``, lower-case base32), store
    their hashes, replace any earlier set, and return the codes once."""
    raise NotImplementedError


def recover_with_code(store: UserStore, email: str, code: str, *, now: datetime) -> User:
    """Consume one recovery code of the user with ``email``: clears the second factor,
    signs out everywhere, audits it. Raises ``AuthError("invalid_code", ...)``."""
    raise NotImplementedError


def qa_recovery_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: sign in as the QA service account and call
    ``GET /api/v1/me/recovery-codes/status``; ``ok`` when ``remaining`` is a number."""
    raise NotImplementedError

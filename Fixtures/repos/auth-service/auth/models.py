"""Value types shared by the feature modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class User:
    """An account of the customer platform."""

    user_id: str
    email: str
    password_hash: str
    tenant_id: str
    roles: set[str] = field(default_factory=set)
    mfa_secret: str | None = None
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Session:
    """A signed-in session."""

    session_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    mfa_passed: bool = False


@dataclass(frozen=True)
class TokenSet:
    """Tokens returned by the identity provider."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    id_token: str | None = None
    scope: str = ""


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one synthetic QA check: never an exception, always a result."""

    check: str
    ok: bool
    latency_ms: float
    detail: str = ""


class AuthError(Exception):
    """A request was refused: bad credentials, locked account, expired token, missing role."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code

"""Client of the auth service: validates bearer tokens and returns their current claims."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime


class TokenInvalid(Exception):
    """The token is unknown, expired or revoked."""


class AuthServiceUnavailable(Exception):
    """The auth service could not be reached or answered with an error."""


@dataclass(frozen=True)
class Claims:
    """Who is calling and what they may do."""

    subject: str
    account_id: str
    scopes: frozenset[str]
    expires_at: datetime
    session_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    cached_at: datetime | None = None
    """When the edge cached these claims; ``None`` for claims fresh from the auth service."""

    def has_scope(self, scope: str) -> bool:
        """Whether ``scope`` (e.g. ``refunds:write``) was granted."""
        return scope in self.scopes


class AuthClient:
    """Calls ``POST <AUTH_SERVICE_URL>/v1/tokens/validate`` with the token."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 1.0) -> None:
        self.base_url = (base_url or os.environ.get("AUTH_SERVICE_URL", "http://localhost:8090")).rstrip("/")
        self.timeout = timeout

    def validate_token(self, token: str) -> Claims:
        """The token's current claims, straight from the auth service.

        Raises ``TokenInvalid`` when the service says the token is not active and
        ``AuthServiceUnavailable`` when it cannot be asked.
        """
        request = urllib.request.Request(
            f"{self.base_url}/v1/tokens/validate",
            data=json.dumps({"token": token}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code in (401, 403, 404):
                raise TokenInvalid(f"auth service rejected the token (HTTP {error.code})") from error
            raise AuthServiceUnavailable(f"auth service HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise AuthServiceUnavailable(f"auth service at {self.base_url}: {error}") from error
        if not payload.get("active"):
            raise TokenInvalid("token is not active")
        return claims_from_json(payload)


def claims_from_json(payload: dict) -> Claims:
    """Claims from the auth service's JSON (``sub``, ``account_id``, ``scope``, ``exp``...)."""
    return Claims(
        subject=payload["sub"],
        account_id=payload["account_id"],
        scopes=frozenset(payload.get("scope", "").split()),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        session_id=payload.get("sid"),
        roles=frozenset(payload.get("roles", [])),
    )


auth_client = AuthClient()
"""The process-wide client."""

"""Rate limiting of login and token endpoints (token bucket per client key)."""

from __future__ import annotations

from dataclasses import dataclass

from auth.idp import IdentityProviderClient
from auth.models import ProbeResult
from auth.secrets import secrets


@dataclass
class Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float
    updated_at: float


class RateLimiter:
    """Buckets per key (client IP, or account for login attempts)."""

    def __init__(self, capacity: float = 10, rate: float = 1.0) -> None:
        self.capacity = capacity
        self.rate = rate
        self._buckets: dict[str, Bucket] = {}

    def allow(self, key: str, *, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket if it has them (refilling first)."""
        raise NotImplementedError

    def retry_after(self, key: str, *, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens will be available for ``key`` (0 when they are)."""
        raise NotImplementedError


def qa_rate_limit_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: the QA service account is exempt from login rate limits. Sign in with
    it 15 times in a row and expect no HTTP 429."""
    raise NotImplementedError

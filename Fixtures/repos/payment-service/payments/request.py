"""The input every handler receives from the edge gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from payments.auth_client import Claims


@dataclass(frozen=True)
class PaymentRequest:
    """One API call as the edge forwards it.

    ``auth_context`` holds the claims the edge cached when it last verified ``bearer_token``
    (``auth_context.cached_at`` says when; entries live up to five minutes).
    """

    bearer_token: str
    auth_context: Claims
    body: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    request_id: str = ""

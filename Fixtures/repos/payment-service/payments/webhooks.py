"""Webhook endpoints of merchants: registration and signing secrets."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

EVENTS = frozenset({"charge.succeeded", "charge.refunded", "payout.paid", "dispute.created"})


def register_endpoint(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Register ``body.url`` (https only) for ``body.events`` (a subset of ``EVENTS``) and
    return it with a new signing secret ``whsec_`` + 32 random hex digits, shown once.
    Sensitive: scope ``webhooks:write``."""
    raise NotImplementedError


def rotate_secret(request: PaymentRequest, ledger: Ledger, endpoint_id: str) -> dict[str, Any]:
    """Issue a new signing secret; the old one stays valid for 24 hours. Sensitive: scope
    ``webhooks:write``."""
    raise NotImplementedError


def sign_payload(secret: str, timestamp: int, payload: bytes) -> str:
    """The signature header value ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>">``."""
    raise NotImplementedError

"""Refunds of captured charges, full or partial."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.processor import ProcessorClient
from payments.request import PaymentRequest


def issue_refund(request: PaymentRequest, ledger: Ledger, processor: ProcessorClient) -> dict[str, Any]:
    """Refund ``body.amount`` (default: the rest) of charge ``body.charge_id``.

    Sensitive: scope ``refunds:write``; the charge must belong to the caller's account. The
    total refunded never exceeds the captured amount (``conflict`` otherwise). Reverses the
    ledger postings of the refunded part and records the refund on the charge.
    """
    raise NotImplementedError


def refundable_amount(ledger: Ledger, charge_id: str) -> Money:
    """Captured minus already refunded for ``charge_id``."""
    raise NotImplementedError

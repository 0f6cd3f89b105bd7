"""Transfers between accounts of the same organisation."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

DAILY_LIMIT_MINOR = 10_000_000


def create_transfer(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Move ``body.amount`` from ``body.source_account`` to ``body.destination_account``.

    Sensitive: scope ``transfers:write``; the caller's organisation must own both accounts;
    the source must hold the amount; the total sent by the source today stays under
    ``DAILY_LIMIT_MINOR``. Idempotent on the request's key.
    """
    raise NotImplementedError


def reverse_transfer(request: PaymentRequest, ledger: Ledger, transfer_id: str) -> dict[str, Any]:
    """Reverse a transfer made within the last 24 hours. Sensitive: scope ``transfers:write``
    and role ``finance_admin``."""
    raise NotImplementedError

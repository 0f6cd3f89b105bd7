"""Stored-value wallets: top-ups and spending."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

WALLET_LIMIT_MINOR = 250_000


def top_up(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Add ``body.amount`` to the caller's wallet from a captured charge ``body.charge_id``.
    Sensitive: scope ``wallets:write``. The wallet never exceeds ``WALLET_LIMIT_MINOR``."""
    raise NotImplementedError


def spend(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Pay ``body.amount`` from the caller's wallet to merchant ``body.merchant_account``.
    Sensitive: scope ``wallets:write``; ``insufficient_funds`` when the balance is short."""
    raise NotImplementedError


def wallet_balance(request: PaymentRequest, ledger: Ledger) -> Money:
    """The caller's wallet balance in ``body.currency`` (scope ``wallets:read``)."""
    raise NotImplementedError

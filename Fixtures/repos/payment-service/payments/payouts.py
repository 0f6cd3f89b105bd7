"""Payouts of sellers' available balances to their bank accounts."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.processor import ProcessorClient
from payments.request import PaymentRequest

MINIMUM_PAYOUT_MINOR = 1_000


def schedule_payout(request: PaymentRequest, ledger: Ledger, processor: ProcessorClient) -> dict[str, Any]:
    """Pay out ``body.amount`` of the seller's available balance to ``body.bank_account``.

    Sensitive: scope ``payouts:write`` and role ``seller_admin``. Refuses amounts below
    ``MINIMUM_PAYOUT_MINOR`` or above the available balance (``insufficient_funds``). Moves
    the amount from ``seller:<account>:available`` to ``seller:<account>:in_transit``.
    """
    raise NotImplementedError


def update_payout_account(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Change the bank account that receives the seller's payouts.

    Sensitive (a classic takeover target): scope ``payouts:write``, role ``seller_admin``.
    Stores the change with the previous account for audit.
    """
    raise NotImplementedError

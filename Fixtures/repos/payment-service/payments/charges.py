"""Card charges: authorise and capture a buyer's payment."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.processor import ProcessorClient
from payments.request import PaymentRequest

MAX_CHARGE_MINOR = 5_000_000


def create_charge(request: PaymentRequest, ledger: Ledger, processor: ProcessorClient) -> dict[str, Any]:
    """Authorise and capture ``body.amount`` (decimal string) in ``body.currency`` on
    ``body.payment_method`` for the caller's account.

    Sensitive: the caller needs scope ``charges:write`` and must own the account. Amounts
    above ``MAX_CHARGE_MINOR`` are refused with ``invalid_request``. Repeated idempotency keys
    return the first result. Posts buyer receivable / platform clearing to the ledger and stores
    the charge (``id``, ``account_id``, ``amount``, ``currency``, ``status``, ``capture_id``).
    """
    raise NotImplementedError


def get_charge(request: PaymentRequest, ledger: Ledger, charge_id: str) -> dict[str, Any]:
    """The stored charge, if it belongs to the caller's account (scope ``charges:read``);
    another account's charge is reported as ``not_found``."""
    raise NotImplementedError

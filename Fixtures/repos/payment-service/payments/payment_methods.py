"""Saved payment methods (cards and bank accounts) of a customer."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest


def attach_payment_method(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Save a tokenised method (``body.token`` from the processor's vault, ``body.type``
    ``card`` or ``bank_account``) for the caller's account; keep only brand, last four and
    expiry. Sensitive: scope ``payment_methods:write``."""
    raise NotImplementedError


def detach_payment_method(request: PaymentRequest, ledger: Ledger, method_id: str) -> dict[str, Any]:
    """Remove a saved method of the caller's account; refuse (``conflict``) the default
    method of an active subscription. Sensitive: scope ``payment_methods:write``."""
    raise NotImplementedError


def list_payment_methods(request: PaymentRequest, ledger: Ledger) -> list[dict[str, Any]]:
    """The caller's saved methods, default first (scope ``payment_methods:read``)."""
    raise NotImplementedError

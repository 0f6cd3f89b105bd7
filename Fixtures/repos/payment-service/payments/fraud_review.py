"""The manual fraud review queue: held charges are released or refused by analysts."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest


def risk_score(charge: dict[str, Any]) -> int:
    """A 0-100 score: +40 when billing and card countries differ, +30 for a card first seen in
    the last hour, +20 for an amount over 1000 units, +10 for a disposable e-mail domain;
    capped at 100."""
    raise NotImplementedError


def release_charge(request: PaymentRequest, ledger: Ledger, charge_id: str) -> dict[str, Any]:
    """Release a held charge for capture. Sensitive: scope ``fraud:review`` and role
    ``risk_analyst``; records the analyst and time on the charge."""
    raise NotImplementedError


def refuse_charge(request: PaymentRequest, ledger: Ledger, charge_id: str) -> dict[str, Any]:
    """Refuse a held charge, void its authorisation and block the card fingerprint.
    Sensitive: scope ``fraud:review`` and role ``risk_analyst``."""
    raise NotImplementedError

"""Card disputes (chargebacks): evidence and acceptance."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

EVIDENCE_FIELDS = ("receipt_url", "shipping_tracking", "customer_communication", "refund_policy")


def submit_evidence(request: PaymentRequest, ledger: Ledger, dispute_id: str) -> dict[str, Any]:
    """Attach evidence (``body`` keys from ``EVIDENCE_FIELDS``) to an open dispute of the
    caller's account and mark it ``under_review``. Sensitive: scope ``disputes:write``.
    Unknown evidence keys are ``invalid_request``; a closed dispute is ``conflict``."""
    raise NotImplementedError


def accept_dispute(request: PaymentRequest, ledger: Ledger, dispute_id: str) -> dict[str, Any]:
    """Concede a dispute: debit the disputed amount from the seller's balance and close it as
    ``lost``. Sensitive: scope ``disputes:write``."""
    raise NotImplementedError

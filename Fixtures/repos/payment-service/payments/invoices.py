"""Invoices for business customers: finalise, void, mark paid."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest


def finalize_invoice(request: PaymentRequest, ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """Freeze a draft invoice: compute the total from its lines (``quantity`` × ``unit_amount``,
    plus ``tax_rate`` per line, rounded per line), assign the next number
    ``INV-<year>-<6 digits>`` of the account, and post the receivable.
    Sensitive: scope ``invoices:write``."""
    raise NotImplementedError


def void_invoice(request: PaymentRequest, ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """Void an open (unpaid) invoice and reverse its receivable. Sensitive: scope
    ``invoices:write``. A paid invoice cannot be voided (``conflict``)."""
    raise NotImplementedError

"""Export of paid invoices to the ``revenue`` dataset for finance reporting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "revenue"


def to_cents(amount: str | Decimal, currency: str) -> int:
    """An amount in minor units. ``JPY`` and ``KRW`` have no minor unit; others have two
    decimals. Rounds half-even. Raises ``ValueError`` on a negative amount."""
    raise NotImplementedError


def build_revenue_records(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ``invoice_id``, ``customer_id``, ``billing_email``, ``billing_name``,
    ``billing_country``, ``amount_cents``, ``currency`` and ``paid_at``. Unpaid invoices
    (``paid_at`` null) are skipped."""
    raise NotImplementedError


def export_daily_revenue(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export the invoices paid in one UTC day (table ``invoices``)."""
    raise NotImplementedError

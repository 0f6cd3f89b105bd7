"""Export of customer support tickets to the ``support_tickets`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "support_tickets"
STATUSES = ("new", "open", "pending", "solved", "closed")


def build_ticket_records(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ``ticket_id``, ``requester_email``, ``requester_name``, ``requester_phone``,
    ``subject``, ``body``, ``status``, ``tags`` (list) and ``opened_at``.

    ``tags`` comes from the comma-separated ``tags`` column. Raises ``ValueError`` naming the
    ticket when its status is not one of ``STATUSES``.
    """
    raise NotImplementedError


def export_tickets_updated(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export the tickets whose ``updated_at`` falls in one UTC day (table ``tickets``)."""
    raise NotImplementedError

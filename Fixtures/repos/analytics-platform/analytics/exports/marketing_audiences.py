"""Export of marketing audiences (segments for email and ad campaigns) to ``marketing_audiences``."""

from __future__ import annotations

from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.warehouse import Warehouse

DATASET = "marketing_audiences"

AUDIENCES: dict[str, str] = {
    "trial-ending": "trial ends within 7 days and no payment method on file",
    "power-users": "active on at least 20 of the last 28 days",
    "dormant": "no activity for 60 days, account still open",
}


def select_members(audience: str, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The users that belong to ``audience`` per its definition in ``AUDIENCES``.

    ``users`` have ``user_id``, ``email``, ``first_name``, ``phone``, ``consent_marketing``,
    ``trial_ends_in_days``, ``has_payment_method``, ``active_days_28``, ``days_since_active``
    and ``account_open``. Users without marketing consent are never members.
    Raises ``KeyError`` for an unknown audience.
    """
    raise NotImplementedError


def export_audience(warehouse: Warehouse, audience: str) -> EmitReceipt:
    """Export the members of ``audience`` (table ``user_profiles``) with ``audience``,
    ``user_id``, ``email``, ``first_name``, ``phone`` and ``consent_marketing``."""
    raise NotImplementedError

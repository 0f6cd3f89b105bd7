"""Export of marketing attribution (which campaign led to a conversion) to ``attribution``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "attribution"
LOOKBACK = timedelta(days=30)


def last_touch(
    conversion: dict[str, Any], touches: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The last marketing touch of the converting user within ``LOOKBACK`` before conversion.

    ``touches`` are rows with ``user_id``, ``channel``, ``campaign``, ``click_id`` and
    ``touched_at``. Returns ``None`` when no touch qualifies (a direct conversion).
    """
    raise NotImplementedError


def build_attribution_records(
    conversions: list[dict[str, Any]], touches: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Records with ``conversion_id``, ``user_id``, ``email``, ``ip_address``, ``click_id``,
    ``channel``, ``campaign`` and ``converted_at``; direct conversions get channel ``direct``
    and campaign ``None``."""
    raise NotImplementedError


def export_daily_attribution(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export the conversions of one UTC day with their attributed touch."""
    raise NotImplementedError

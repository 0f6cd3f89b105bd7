"""Export of raw product events (page views, clicks, feature usage) to the ``events`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "events"
INTERNAL_PREFIX = "internal."


def build_event_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shape ``product_events`` rows into ``events`` records.

    Each record has ``event_id``, ``event_name``, ``occurred_at`` (ISO 8601 UTC), ``user_id``,
    ``email``, ``ip_address``, ``device_id`` and ``properties`` (a dict parsed from the row's
    JSON ``properties_json`` column; an empty dict when the column is empty or null).
    Events whose name starts with ``internal.`` are health checks and are dropped.
    """
    raise NotImplementedError


def export_daily_events(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export one UTC day of ``product_events`` to the ``events`` dataset.

    Reads the day with ``day_bounds``, builds the records and sends them as one batch through
    the pipeline. Returns the pipeline's receipt.
    """
    raise NotImplementedError


def export_event_backfill(warehouse: Warehouse, first: date, last: date) -> list[EmitReceipt]:
    """Export every day from ``first`` to ``last`` inclusive, one batch per day, oldest first.

    Raises ``ValueError`` when ``last`` is before ``first``.
    """
    raise NotImplementedError

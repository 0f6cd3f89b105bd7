"""Export of web and app sessions to the ``sessions`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "sessions"
IDLE_TIMEOUT_MINUTES = 30


def sessionize(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group page-view events into sessions.

    ``events`` are rows with ``user_id``, ``occurred_at``, ``ip_address``, ``user_agent`` and
    ``device_id``. A user's session ends after ``IDLE_TIMEOUT_MINUTES`` without an event. Each
    session record has ``session_id`` (``<user_id>-<epoch seconds of start>``), ``user_id``,
    ``started_at``, ``ended_at``, ``page_views``, and the ``ip_address``, ``user_agent`` and
    ``device_id`` of its first event. Sessions are returned ordered by start.
    """
    raise NotImplementedError


def export_daily_sessions(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Sessionize the ``page_views`` of one UTC day and export them to ``sessions``."""
    raise NotImplementedError

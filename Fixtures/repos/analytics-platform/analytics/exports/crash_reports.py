"""Export of mobile and desktop crash reports to the ``crash_reports`` dataset."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "crash_reports"


def stack_hash(frames: list[str]) -> str:
    """A grouping key for a crash: SHA-256 (hex, first 12 digits) of its top five frames with
    memory addresses (``0x...``) removed, joined by newlines."""
    raise NotImplementedError


def build_crash_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ``crash_id``, ``app_version``, ``platform``, ``stack_hash``, ``user_id``,
    ``device_id``, ``ip_address``, ``breadcrumbs`` (text) and ``occurred_at``. ``frames`` in a
    row is a newline-separated stack trace."""
    raise NotImplementedError


def export_daily_crashes(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export one UTC day of ``crashes``."""
    raise NotImplementedError

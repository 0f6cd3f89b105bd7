"""Export of in-product search queries to the ``search_logs`` dataset for relevance tuning."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import day_bounds, to_iso
from analytics.warehouse import Warehouse

DATASET = "search_logs"
MAX_QUERY_LENGTH = 512


def normalize_query(query: str) -> str:
    """Lower-case, collapse runs of whitespace, strip, and cut to ``MAX_QUERY_LENGTH``."""
    raise NotImplementedError


def build_search_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ``query_id``, ``user_id``, ``ip_address``, ``query`` (normalised),
    ``results`` (count) and ``searched_at``. Empty queries are dropped."""
    raise NotImplementedError


def export_daily_search_logs(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export one UTC day of ``search_queries``."""
    raise NotImplementedError

"""Export of weekly retention per signup cohort to the ``retention`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import iso_week_label, week_bounds
from analytics.warehouse import Warehouse

DATASET = "retention"
HORIZON_WEEKS = 12


def retention_matrix(
    cohort_users: dict[str, list[str]], activity: dict[str, set[str]]
) -> list[dict[str, Any]]:
    """One record per cohort member and week after signup, up to ``HORIZON_WEEKS``.

    ``cohort_users`` maps a cohort label to its user ids; ``activity`` maps an ISO week label to
    the user ids active that week. Records have ``cohort``, ``user_id``, ``week`` (0-based
    offset from the signup week) and ``active`` (bool).
    """
    raise NotImplementedError


def export_retention(warehouse: Warehouse, as_of: date) -> EmitReceipt:
    """Export retention of every cohort that signed up in the ``HORIZON_WEEKS`` before ``as_of``."""
    raise NotImplementedError

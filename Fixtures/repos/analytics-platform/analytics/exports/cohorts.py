"""Export of signup cohorts to the ``cohorts`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import iso_week_label, week_bounds
from analytics.warehouse import Warehouse

DATASET = "cohorts"


def assign_cohort(user: dict[str, Any]) -> str:
    """The cohort label of a user: ``<signup ISO week>/<plan>``, e.g. ``2026-W02/team``.

    ``user`` has ``signed_up_at`` (a date, datetime or ISO string) and ``plan``; a missing plan
    counts as ``free``.
    """
    raise NotImplementedError


def build_cohort_records(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ``cohort``, ``user_id``, ``email``, ``signup_week``, ``plan``, ``country``
    and ``birth_year`` for each user row."""
    raise NotImplementedError


def export_weekly_cohort(warehouse: Warehouse, day: date) -> EmitReceipt:
    """Export the users who signed up in the ISO week holding ``day`` (table ``users``)."""
    raise NotImplementedError

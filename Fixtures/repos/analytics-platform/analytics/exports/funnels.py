"""Export of conversion funnel progress to the ``funnels`` dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.timeutil import to_iso, week_bounds
from analytics.warehouse import Warehouse

DATASET = "funnels"

FUNNELS: dict[str, tuple[str, ...]] = {
    "signup": ("landing_viewed", "signup_started", "email_verified", "workspace_created"),
    "checkout": ("cart_viewed", "checkout_started", "payment_submitted", "order_confirmed"),
    "onboarding": ("tour_started", "first_project", "first_invite", "first_integration"),
}


def funnel_progress(funnel: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The furthest step each user reached in ``funnel``, steps taken in order only.

    ``events`` are rows with ``user_id``, ``email``, ``event_name`` and ``occurred_at``. A step
    counts only after the previous step of the same user. Each record has ``funnel``, ``step``
    (the step's name), ``step_index`` (1-based), ``user_id``, ``email`` and ``reached_at``.
    Raises ``KeyError`` for an unknown funnel.
    """
    raise NotImplementedError


def export_weekly_funnels(warehouse: Warehouse, day: date) -> list[EmitReceipt]:
    """Export progress in every funnel of ``FUNNELS`` for the ISO week holding ``day``.

    One batch per funnel, in the order of ``FUNNELS``.
    """
    raise NotImplementedError

"""Export of A/B test exposures and outcomes to the ``ab_results`` dataset."""

from __future__ import annotations

from typing import Any

from analytics.pipeline import EmitReceipt, emit
from analytics.warehouse import Warehouse

DATASET = "ab_results"


def join_exposures(
    exposures: list[dict[str, Any]], outcomes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Join each user's outcome metrics to the variant they were first exposed to.

    ``exposures`` have ``experiment``, ``variant``, ``user_id``, ``exposed_at``; ``outcomes``
    have ``user_id``, ``metric``, ``value``, ``observed_at``. Outcomes observed before the
    user's first exposure are ignored. Records have ``experiment``, ``variant``, ``user_id``,
    ``metric`` and ``value``.
    """
    raise NotImplementedError


def summarize(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean ``value`` per variant and metric: ``{variant: {metric: mean}}``."""
    raise NotImplementedError


def export_experiment(warehouse: Warehouse, experiment: str) -> EmitReceipt:
    """Export all exposures and outcomes of ``experiment`` (tables ``ab_exposures``,
    ``ab_outcomes``). Raises ``LookupError`` when the experiment has no exposures."""
    raise NotImplementedError

"""Subscriptions: plan changes with proration, and cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

PLANS_MINOR = {"starter": 900, "team": 4_900, "business": 19_900}


def prorate(old_plan: str, new_plan: str, period_start: datetime, period_end: datetime,
            now: datetime) -> int:
    """Credit for the unused part of the old plan minus the cost of the rest of the period on
    the new plan, in minor units (negative means the customer owes). Rounds half-even."""
    raise NotImplementedError


def change_plan(request: PaymentRequest, ledger: Ledger, subscription_id: str) -> dict[str, Any]:
    """Move a subscription of the caller's account to ``body.plan`` now, posting the
    proration. Sensitive: scope ``subscriptions:write``."""
    raise NotImplementedError


def cancel_subscription(request: PaymentRequest, ledger: Ledger, subscription_id: str) -> dict[str, Any]:
    """Cancel at period end (or immediately with ``body.immediately``, refunding the unused
    part). Sensitive: scope ``subscriptions:write``."""
    raise NotImplementedError

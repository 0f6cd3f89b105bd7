"""Manual ledger adjustments by the finance team (corrections, write-offs, goodwill credits)."""

from __future__ import annotations

from typing import Any

from payments.auth_client import Claims, TokenInvalid, auth_client
from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money
from payments.request import PaymentRequest

REASONS = frozenset({"correction", "write_off", "goodwill_credit", "fee_reversal"})
FOUR_EYES_MINOR = 100_000


def post_adjustment(request: PaymentRequest, ledger: Ledger) -> dict[str, Any]:
    """Post a balanced adjustment (``body.postings``: list of ``{account, amount, currency}``)
    with ``body.reason`` from ``REASONS`` and a free-text ``body.note``.

    Sensitive: scope ``ledger:adjust`` and role ``finance_admin``. Adjustments moving more
    than ``FOUR_EYES_MINOR`` are stored as ``pending_approval`` instead of posted.
    """
    raise NotImplementedError


def approve_adjustment(request: PaymentRequest, ledger: Ledger, adjustment_id: str) -> dict[str, Any]:
    """Post a pending adjustment. Sensitive: role ``finance_admin``, and the approver must not
    be the person who created it (``forbidden``)."""
    raise NotImplementedError

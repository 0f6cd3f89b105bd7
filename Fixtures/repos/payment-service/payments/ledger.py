"""The double-entry ledger: every movement is a balanced journal entry."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from payments.errors import PaymentError
from payments.money import Money


@dataclass(frozen=True)
class Posting:
    """One side of a journal entry: ``amount`` is positive for a debit, negative for a credit."""

    account: str
    amount: Money


@dataclass(frozen=True)
class JournalEntry:
    """A balanced set of postings with a reason and metadata."""

    entry_id: str
    postings: tuple[Posting, ...]
    reason: str
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """Balances per ledger account, journal history, records of business objects, and an
    idempotency table. In memory here; production keeps the same shape in Postgres."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: list[JournalEntry] = []
        self._balances: dict[tuple[str, str], int] = {}
        self._records: dict[tuple[str, str], dict[str, Any]] = {}
        self._idempotency: dict[str, Any] = {}

    def post(self, postings: list[Posting], *, reason: str, **metadata: Any) -> JournalEntry:
        """Post a balanced entry. Raises ``PaymentError("invalid_request")`` when the postings
        do not sum to zero per currency or are empty."""
        if not postings:
            raise PaymentError("invalid_request", f"journal entry {reason!r} has no postings")
        totals: dict[str, int] = {}
        for posting in postings:
            totals[posting.amount.currency] = totals.get(posting.amount.currency, 0) + posting.amount.minor
        unbalanced = {c: t for c, t in totals.items() if t != 0}
        if unbalanced:
            raise PaymentError("invalid_request", f"journal entry {reason!r} is unbalanced: {unbalanced}")
        entry = JournalEntry(uuid.uuid4().hex, tuple(postings), reason, datetime.now(UTC), metadata)
        with self._lock:
            for posting in postings:
                key = (posting.account, posting.amount.currency)
                self._balances[key] = self._balances.get(key, 0) + posting.amount.minor
            self._entries.append(entry)
        return entry

    def balance(self, account: str, currency: str) -> Money:
        """The balance of a ledger account in one currency (debits minus credits)."""
        with self._lock:
            return Money(self._balances.get((account, currency.upper()), 0), currency.upper())

    def entries(self, account: str | None = None) -> list[JournalEntry]:
        """Journal entries, oldest first, optionally only those touching ``account``."""
        with self._lock:
            return [e for e in self._entries
                    if account is None or any(p.account == account for p in e.postings)]

    def put(self, kind: str, object_id: str, record: dict[str, Any]) -> None:
        """Store a business object (a charge, a payout, a dispute...)."""
        with self._lock:
            self._records[(kind, object_id)] = dict(record)

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        """A stored business object. Raises ``PaymentError("not_found")``."""
        with self._lock:
            record = self._records.get((kind, object_id))
        if record is None:
            raise PaymentError("not_found", f"{kind} {object_id} does not exist")
        return dict(record)

    def remember(self, idempotency_key: str | None, result: Any) -> Any:
        """Store the result of a request under its idempotency key and return it."""
        if idempotency_key:
            with self._lock:
                self._idempotency[idempotency_key] = result
        return result

    def recall(self, idempotency_key: str | None) -> Any | None:
        """The stored result of an earlier request with the same key, if any."""
        if not idempotency_key:
            return None
        with self._lock:
            return self._idempotency.get(idempotency_key)

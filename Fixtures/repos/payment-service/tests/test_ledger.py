import pytest

from payments.errors import PaymentError
from payments.ledger import Ledger, Posting
from payments.money import Money


def test_balanced_entry_moves_balances():
    ledger = Ledger()
    ledger.post([Posting("buyer:a1", Money(-700, "EUR")), Posting("clearing", Money(700, "EUR"))],
                reason="charge")
    assert ledger.balance("clearing", "eur") == Money(700, "EUR")
    assert ledger.balance("buyer:a1", "EUR") == Money(-700, "EUR")
    assert len(ledger.entries("clearing")) == 1


def test_unbalanced_entry_is_refused():
    with pytest.raises(PaymentError, match="unbalanced") as info:
        Ledger().post([Posting("clearing", Money(1, "EUR"))], reason="typo")
    assert info.value.status == 422


def test_idempotency_table():
    ledger = Ledger()
    assert ledger.recall("k1") is None
    ledger.remember("k1", {"id": "ch_1"})
    assert ledger.recall("k1") == {"id": "ch_1"}

import pytest

from payments.money import Money


def test_parse_rounds_half_even_per_currency():
    assert Money.parse("12.345", "eur") == Money(1234, "EUR")
    assert Money.parse("12.355", "EUR") == Money(1236, "EUR")
    assert Money.parse("1200.5", "JPY") == Money(1200, "JPY")


def test_arithmetic_refuses_mixed_currencies():
    assert (Money(500, "EUR") - Money(200, "EUR")).format() == "3.00 EUR"
    with pytest.raises(ValueError, match="cannot combine EUR with USD"):
        Money(1, "EUR") + Money(1, "USD")

"""Amounts of money in minor units, with currency-aware parsing and formatting."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP"})


@dataclass(frozen=True, order=True)
class Money:
    """An integer amount of a currency's minor unit (cents for EUR, yen for JPY)."""

    minor: int
    currency: str

    @staticmethod
    def exponent(currency: str) -> int:
        """Decimal places of ``currency``'s minor unit."""
        return 0 if currency.upper() in ZERO_DECIMAL else 2

    @classmethod
    def parse(cls, amount: str | Decimal, currency: str) -> Money:
        """``Money`` from a decimal amount such as ``"12.345"``, rounding half-even."""
        places = Decimal(1).scaleb(-cls.exponent(currency))
        quantised = Decimal(amount).quantize(places, rounding=ROUND_HALF_EVEN)
        return cls(int(quantised.scaleb(cls.exponent(currency))), currency.upper())

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def format(self) -> str:
        """E.g. ``"12.50 EUR"`` or ``"1200 JPY"``."""
        places = self.exponent(self.currency)
        value = Decimal(self.minor).scaleb(-places)
        return f"{value:.{places}f} {self.currency}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

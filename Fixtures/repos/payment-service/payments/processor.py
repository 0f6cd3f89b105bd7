"""Client of the card processor (authorise, capture, refund, payout)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from payments.errors import PaymentError
from payments.money import Money


class ProcessorClient:
    """JSON over HTTPS against ``PROCESSOR_URL``; every call carries an idempotency key."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 5.0) -> None:
        self.base_url = (base_url or os.environ.get("PROCESSOR_URL", "http://localhost:8095")).rstrip("/")
        self.timeout = timeout

    def authorize(self, payment_method: str, amount: Money, *, idempotency_key: str) -> dict[str, Any]:
        """Authorise ``amount`` on a payment method; returns ``{"id", "status"}``."""
        return self._call("/v2/authorizations", {"payment_method": payment_method,
                          "amount": amount.minor, "currency": amount.currency}, idempotency_key)

    def capture(self, authorization_id: str, amount: Money, *, idempotency_key: str) -> dict[str, Any]:
        """Capture (part of) an authorisation."""
        return self._call(f"/v2/authorizations/{authorization_id}/capture",
                          {"amount": amount.minor, "currency": amount.currency}, idempotency_key)

    def refund(self, capture_id: str, amount: Money, *, idempotency_key: str) -> dict[str, Any]:
        """Refund (part of) a capture."""
        return self._call(f"/v2/captures/{capture_id}/refunds",
                          {"amount": amount.minor, "currency": amount.currency}, idempotency_key)

    def payout(self, bank_account: str, amount: Money, *, idempotency_key: str) -> dict[str, Any]:
        """Send ``amount`` to a seller's bank account."""
        return self._call("/v2/payouts", {"bank_account": bank_account, "amount": amount.minor,
                          "currency": amount.currency}, idempotency_key)

    def _call(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 402:
                raise PaymentError("processor_declined", f"processor declined {path}") from error
            raise PaymentError("unavailable", f"processor {path}: HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise PaymentError("unavailable", f"processor {path}: {error}") from error

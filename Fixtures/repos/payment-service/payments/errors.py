"""The error handlers raise; the edge maps ``code`` to an HTTP status."""

from __future__ import annotations

HTTP_STATUS = {
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "invalid_request": 422,
    "insufficient_funds": 422,
    "processor_declined": 402,
    "unavailable": 503,
}


class PaymentError(Exception):
    """A handler refused or failed a request; ``code`` is a key of ``HTTP_STATUS``."""

    def __init__(self, code: str, message: str) -> None:
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown payment error code {code!r}; use one of {sorted(HTTP_STATUS)}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status for this error."""
        return HTTP_STATUS[self.code]

"""Pseudonymisation and redaction of personal data in export records."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Iterable

_DEV_KEY = b"analytics-local-development-key"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def pseudonym_key() -> bytes:
    """The key for pseudonyms: ``ANALYTICS_PSEUDONYM_KEY`` or the local development key."""
    value = os.environ.get("ANALYTICS_PSEUDONYM_KEY")
    return value.encode() if value else _DEV_KEY


def pseudonymize(value: object, *, key: bytes | None = None) -> str | None:
    """Replace ``value`` by a stable keyed token (``p_`` + 16 hex digits). ``None`` stays ``None``.

    The same value gives the same token under the same key, so joins across datasets still work.
    """
    if value is None:
        return None
    digest = hmac.new(key or pseudonym_key(), str(value).encode(), hashlib.sha256).hexdigest()
    return "p_" + digest[:16]


def truncate_ip(value: str | None) -> str | None:
    """Zero the host part of an address: the last octet of IPv4, the last 80 bits of IPv6."""
    if not value:
        return value
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return str(network.network_address)


def redact_text(text: str | None) -> str | None:
    """Mask email addresses and phone numbers inside free text."""
    if text is None:
        return None
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def anonymize_record(
    record: dict,
    personal: Iterable[str],
    free_text: Iterable[str] = (),
    *,
    key: bytes | None = None,
) -> dict:
    """Return a copy of ``record`` with personal fields pseudonymised and free text redacted.

    Fields named like ``ip_address`` are truncated instead of pseudonymised, so that coarse
    geography keeps working.
    """
    result = dict(record)
    for name in personal:
        if name not in result:
            continue
        if name.endswith("ip_address"):
            result[name] = truncate_ip(result[name])
        else:
            result[name] = pseudonymize(result[name], key=key)
    for name in free_text:
        if isinstance(result.get(name), str):
            result[name] = redact_text(result[name])
    return result

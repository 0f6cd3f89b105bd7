"""Client of the secrets manager.

Usage::

    from auth.secrets import secrets
    password = secrets.get("qa/service-account/password")

With ``SECRETS_MANAGER_URL`` set, values come from the secrets manager's HTTP API
(``GET <url>/v1/secrets/<name>`` returning ``{"value": "..."}``, authenticated by the workload
token in ``SECRETS_MANAGER_TOKEN``). Without it they come from a JSON file, ``SECRETS_FILE``
(default ``var/secrets.json``), used for local development and CI.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class SecretsError(LookupError):
    """A secret could not be read."""


class SecretsClient:
    """Reads named secrets and caches each for ``ttl`` seconds."""

    def __init__(self, ttl: float = 300.0) -> None:
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str:
        """The value of secret ``name``. Raises ``SecretsError`` saying where it looked."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
            if cached and now - cached[0] < self._ttl:
                return cached[1]
        value = self._fetch(name)
        with self._lock:
            self._cache[name] = (now, value)
        return value

    def invalidate(self, name: str | None = None) -> None:
        """Forget one cached secret, or all of them."""
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                self._cache.pop(name, None)

    def _fetch(self, name: str) -> str:
        base = os.environ.get("SECRETS_MANAGER_URL")
        if base:
            return self._fetch_remote(base, name)
        return self._fetch_file(Path(os.environ.get("SECRETS_FILE", "var/secrets.json")), name)

    @staticmethod
    def _fetch_remote(base: str, name: str) -> str:
        url = f"{base.rstrip('/')}/v1/secrets/{urllib.parse.quote(name, safe='/')}"
        request = urllib.request.Request(url)
        token = os.environ.get("SECRETS_MANAGER_TOKEN")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=2.0) as response:
                payload = json.load(response)
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise SecretsError(f"secret {name!r}: secrets manager at {base} failed: {error}") from error
        value = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(value, str):
            raise SecretsError(f"secret {name!r}: secrets manager at {base} returned no string value")
        return value

    @staticmethod
    def _fetch_file(path: Path, name: str) -> str:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SecretsError(
                f"secret {name!r}: no SECRETS_MANAGER_URL and no secrets file at {path}; "
                "set one of them"
            ) from None
        except ValueError as error:
            raise SecretsError(f"secret {name!r}: {path} is not valid JSON: {error}") from error
        value = data.get(name) if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise SecretsError(f"secret {name!r}: not found in {path}")
        return value


secrets = SecretsClient()
"""The process-wide client."""

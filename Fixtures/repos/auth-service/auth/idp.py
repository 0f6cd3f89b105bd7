"""Client of the identity provider (OAuth 2.0 / OIDC token endpoint and admin API)."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from auth.models import TokenSet


class IdentityProviderError(RuntimeError):
    """The identity provider refused a request or could not be reached."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class IdentityProviderClient:
    """Token grants, introspection and admin calls against ``base_url``."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 3.0) -> None:
        self.base_url = (base_url or os.environ.get("IDP_BASE_URL", "http://localhost:8081")).rstrip("/")
        self.timeout = timeout

    def password_grant(self, username: str, password: str, *, scope: str = "openid") -> TokenSet:
        """Exchange a username and password for tokens (resource-owner password grant)."""
        return self._tokens({"grant_type": "password", "username": username,
                             "password": password, "scope": scope})

    def client_credentials(self, client_id: str, client_secret: str, *, scope: str = "") -> TokenSet:
        """Tokens for a machine client (client-credentials grant, HTTP basic auth)."""
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        return self._tokens({"grant_type": "client_credentials", "scope": scope},
                            headers={"Authorization": f"Basic {basic}"})

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Exchange an authorization code (with its PKCE verifier) for tokens."""
        return self._tokens({"grant_type": "authorization_code", "code": code,
                             "redirect_uri": redirect_uri, "code_verifier": code_verifier})

    def introspect(self, token: str) -> dict[str, Any]:
        """The provider's view of ``token`` (``active``, ``sub``, ``scope``, ``exp``...)."""
        return self.call("POST", "/oauth2/introspect", form={"token": token})

    def call(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Call ``path`` with a form or JSON body and return the decoded JSON response."""
        data: bytes | None = None
        all_headers = {"Accept": "application/json", **(headers or {})}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise IdentityProviderError(error.code, f"{method} {path}: HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError) as error:
            raise IdentityProviderError(None, f"{method} {path}: {error}") from error
        return json.loads(raw) if raw else {}

    def _tokens(self, form: dict[str, str], headers: dict[str, str] | None = None) -> TokenSet:
        payload = self.call("POST", "/oauth2/token", form=form, headers=headers)
        if "access_token" not in payload:
            raise IdentityProviderError(200, "token response without access_token")
        return TokenSet(
            access_token=payload["access_token"],
            expires_in=int(payload.get("expires_in", 0)),
            refresh_token=payload.get("refresh_token"),
            id_token=payload.get("id_token"),
            scope=payload.get("scope", ""),
        )

"""Short-lived service tokens for internal services calling each other."""

from __future__ import annotations

from datetime import datetime, timedelta

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, TokenSet
from auth.secrets import secrets

TOKEN_LIFETIME = timedelta(minutes=10)


class ServiceTokenCache:
    """Caches a service token per audience and renews it one minute before expiry."""

    def __init__(self, idp: IdentityProviderClient) -> None:
        self._idp = idp
        self._tokens: dict[str, tuple[datetime, TokenSet]] = {}

    def token_for(self, audience: str, *, now: datetime) -> str:
        """A valid access token for ``audience`` (client-credentials grant, scope
        ``aud:<audience>``), fetched with the service's own client id and secret from the
        secrets manager (``services/<audience>/client-id`` and ``.../client-secret``)."""
        raise NotImplementedError


def qa_service_token_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: obtain a client-credentials token using the QA service account's
    user name as client id and its API key as client secret; ``ok`` on an access token."""
    raise NotImplementedError

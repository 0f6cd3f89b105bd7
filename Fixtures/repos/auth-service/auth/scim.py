"""SCIM 2.0 provisioning: enterprise identity providers create and remove users."""

from __future__ import annotations

from typing import Any

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, User
from auth.secrets import secrets
from auth.store import UserStore

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def provision_user(store: UserStore, tenant_id: str, resource: dict[str, Any]) -> User:
    """Create or update a user from a SCIM ``User`` resource: ``userName`` is the e-mail,
    ``active`` maps to ``User.active``, ``externalId`` is kept for later PATCHes. Raises
    ``AuthError("invalid_scim", ...)`` naming the missing attribute."""
    raise NotImplementedError


def to_scim(user: User) -> dict[str, Any]:
    """The SCIM ``User`` resource of ``user`` (``schemas``, ``id``, ``userName``, ``active``)."""
    raise NotImplementedError


def qa_scim_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: call ``GET /scim/v2/Users?count=1`` with the QA service account's API
    key as bearer token and expect a ``ListResponse``."""
    raise NotImplementedError

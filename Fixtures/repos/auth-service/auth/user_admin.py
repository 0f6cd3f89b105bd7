"""Tenant administrators managing their users: invite, change roles, deactivate."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, User
from auth.secrets import secrets
from auth.store import UserStore

ROLES = frozenset({"member", "billing", "admin", "owner"})


def change_roles(store: UserStore, actor: User, user_id: str, roles: set[str]) -> User:
    """Replace the roles of ``user_id``. The actor must be an ``admin`` or ``owner`` of the
    same tenant; only an ``owner`` may grant or remove ``owner``; a tenant always keeps one
    owner. Raises ``AuthError`` with codes ``forbidden``, ``unknown_role``, ``last_owner`` or
    ``not_found``. Audits the change with the old and new roles."""
    raise NotImplementedError


def deactivate_user(store: UserStore, actor: User, user_id: str, *, now: datetime) -> User:
    """Deactivate a user of the actor's tenant and sign them out everywhere."""
    raise NotImplementedError


def qa_admin_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: sign in as the QA service account (an admin of the QA tenant) and list
    ``GET /admin/tenants/qa/users``; ``ok`` when the account itself is in the list."""
    raise NotImplementedError

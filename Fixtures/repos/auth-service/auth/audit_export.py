"""Export of the audit trail for customers' compliance teams (CSV or JSON Lines)."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, User
from auth.secrets import secrets
from auth.store import UserStore

FORMATS = ("csv", "jsonl")


def export_audit(store: UserStore, actor: User, *, since: datetime, until: datetime, fmt: str) -> str:
    """The audit entries in ``[since, until)`` of the actor's tenant, oldest first, as CSV
    (header ``at,actor,action,details``; details as JSON) or JSON Lines. Only ``admin`` and
    ``owner`` may export. Raises ``AuthError`` with codes ``forbidden`` or ``bad_format``."""
    raise NotImplementedError


def qa_audit_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: with the QA service account's API key, call
    ``GET /api/v1/audit?format=jsonl&since=-1h`` and expect HTTP 200 with JSON Lines."""
    raise NotImplementedError

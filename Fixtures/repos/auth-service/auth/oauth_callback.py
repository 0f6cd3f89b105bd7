"""The OAuth 2.0 authorization-code callback for "Sign in with ..." buttons."""

from __future__ import annotations

from datetime import datetime

from auth.idp import IdentityProviderClient
from auth.models import AuthError, ProbeResult, Session
from auth.secrets import secrets
from auth.store import UserStore

REDIRECT_URI = "https://app.example.com/oauth/callback"


def handle_callback(
    store: UserStore,
    idp: IdentityProviderClient,
    *,
    code: str,
    state: str,
    expected_state: str,
    code_verifier: str,
    now: datetime,
) -> Session:
    """Finish a sign-in: compare ``state`` in constant time, exchange the code with PKCE,
    read the subject's e-mail from the ID token, and open a session for the matching user.
    Raises ``AuthError`` with codes ``state_mismatch``, ``exchange_failed`` or ``unknown_user``."""
    raise NotImplementedError


def qa_oauth_probe(idp: IdentityProviderClient) -> ProbeResult:
    """Synthetic check: log in as the QA service account, then call
    ``GET /oauth2/userinfo`` with the access token and expect the account's e-mail back."""
    raise NotImplementedError

"""The user and session store. In memory here; production implements the same methods on Postgres."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from auth.models import Session, User


class UserStore:
    """Users by id and by e-mail (case-insensitive), sessions by id, and an audit log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._sessions: dict[str, Session] = {}
        self._audit: list[dict[str, object]] = []

    def add_user(self, user: User) -> None:
        """Insert or replace a user."""
        with self._lock:
            self._users[user.user_id] = user

    def user(self, user_id: str) -> User | None:
        """The user with ``user_id``, if any."""
        with self._lock:
            return self._users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        """The user with ``email`` (case-insensitive), if any."""
        wanted = email.strip().lower()
        with self._lock:
            return next((u for u in self._users.values() if u.email.lower() == wanted), None)

    def users(self, tenant_id: str | None = None) -> list[User]:
        """All users, or those of one tenant, ordered by id."""
        with self._lock:
            found = [u for u in self._users.values() if tenant_id in (None, u.tenant_id)]
        return sorted(found, key=lambda u: u.user_id)

    def put_session(self, session: Session) -> None:
        """Insert or replace a session."""
        with self._lock:
            self._sessions[session.session_id] = session

    def session(self, session_id: str) -> Session | None:
        """The session with ``session_id``, if any."""
        with self._lock:
            return self._sessions.get(session_id)

    def delete_sessions(self, user_id: str) -> int:
        """Delete all sessions of a user; returns how many there were."""
        with self._lock:
            doomed = [k for k, s in self._sessions.items() if s.user_id == user_id]
            for key in doomed:
                del self._sessions[key]
        return len(doomed)

    def audit(self, actor: str, action: str, **details: object) -> None:
        """Append an audit entry with the current UTC time."""
        entry = {"at": datetime.now(UTC).isoformat(), "actor": actor, "action": action, **details}
        with self._lock:
            self._audit.append(entry)

    def audit_entries(self) -> list[dict[str, object]]:
        """A copy of the audit log, oldest first."""
        with self._lock:
            return list(self._audit)

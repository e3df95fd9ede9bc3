"""Writes behind the dashboard's sessions: a login attempt recorded (with the password's hash
renewed when its parameters aged), a logged-out session revoked."""

from __future__ import annotations

from datetime import datetime

from crisis.accounts import WebUser
from crisis.store import Store

__all__ = ["record_login", "revoke_session"]


def record_login(
    store: Store,
    login: str,
    source: str,
    at: datetime,
    user: WebUser | None,
    *,
    new_hash: str | None = None,
) -> WebUser | None:
    """Remember the attempt (a success when `user` is given); with `new_hash`, store it as the
    account's password hash. The account as it now stands."""
    with store.transaction() as tx:
        tx.record_attempt(login, source, at, ok=user is not None)
        if user is not None and new_hash is not None:
            user = tx.update_user(user.login, at, password_hash=new_hash)
    return user


def revoke_session(
    store: Store, session_id: str, login: str, expires_at: datetime, now: datetime
) -> None:
    """Refuse this session from now until its cookie would expire (a copied cookie too)."""
    with store.transaction() as tx:
        tx.revoke_session(session_id, login, expires_at, now)

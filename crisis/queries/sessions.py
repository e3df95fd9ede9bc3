"""Reads behind the dashboard's sessions: the account a session cookie names and whether that
session was ended, and the recent failed logins that rate-limit the login form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crisis.accounts import WebUser
from crisis.store import Store

__all__ = ["LoginFailures", "SessionAccount", "login_failures", "session_account"]


@dataclass(frozen=True)
class SessionAccount:
    """The account a session names (None when gone) and whether the session was revoked."""

    user: WebUser | None
    revoked: bool


@dataclass(frozen=True)
class LoginFailures:
    """Recent failed attempts on a login and from a source address."""

    login: list[datetime]
    source: list[datetime]


def session_account(store: Store, login: str, session_id: str) -> SessionAccount:
    """The session's account and its revocation, read together."""
    with store.transaction() as tx:
        return SessionAccount(tx.user(login), tx.session_revoked(session_id))


def login_failures(store: Store, login: str, source: str, since: datetime) -> LoginFailures:
    """The failed attempts on `login` and from `source` since `since`."""
    with store.transaction() as tx:
        return LoginFailures(tx.login_failures(login, since), tx.source_failures(source, since))

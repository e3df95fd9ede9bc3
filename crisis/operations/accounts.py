"""Writes to the web accounts and their API tokens."""

from __future__ import annotations

from datetime import datetime

from crisis.accounts import ApiToken, WebUser
from crisis.store import Store
from crisis.store.accounts import UnknownAccount


class AccountDisabled(Exception):
    """The account is disabled: no token is created for it."""


def add_user(store: Store, user: WebUser) -> None:
    """Create the account (AccountExists when the login is taken)."""
    with store.transaction() as tx:
        tx.add_user(user)


def update_user(store: Store, login: str, at: datetime, **values: object) -> WebUser:
    """Change the account's columns (UnknownAccount when there is none)."""
    with store.transaction() as tx:
        return tx.update_user(login, at, **values)


def add_token(store: Store, login: str, token_hash: str, prefix: str, at: datetime) -> ApiToken:
    """A new API token for an active account (UnknownAccount, AccountDisabled)."""
    with store.transaction() as tx:
        user = tx.user(login)
        if user is None:
            raise UnknownAccount(login)
        if user.disabled:
            raise AccountDisabled(login)
        return tx.add_token(login, token_hash, prefix, at)


def revoke_tokens(store: Store, prefix: str, at: datetime) -> list[ApiToken]:
    """Revoke the active tokens that start with `prefix`; those revoked."""
    with store.transaction() as tx:
        return tx.revoke_tokens(prefix, at)

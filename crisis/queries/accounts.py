"""Reads of the web accounts and their API tokens (never a secret)."""

from __future__ import annotations

from crisis.accounts import ApiToken, WebUser
from crisis.store import Store


def user(store: Store, login: str) -> WebUser | None:
    """The account `login`, if any."""
    with store.transaction() as tx:
        return tx.user(login)


def users_and_tokens(store: Store) -> tuple[list[WebUser], list[ApiToken]]:
    """Every account and every token, read together."""
    with store.transaction() as tx:
        return tx.users(), tx.tokens()

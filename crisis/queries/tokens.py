"""Reads of the API's tokens: whose account a bearer token opens."""

from __future__ import annotations

from datetime import datetime

from crisis.accounts import WebUser
from crisis.store import Store

__all__ = ["account_for_token"]


def account_for_token(store: Store, token_hash: str, at: datetime) -> WebUser | None:
    """The active account of the token whose hash is `token_hash` at `at` (None: unknown,
    revoked, or its account disabled)."""
    with store.transaction() as tx:
        return tx.user_for_token(token_hash, at)

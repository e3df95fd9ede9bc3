"""Web accounts in the database (SQLite and PostgreSQL): users, tokens, login attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config

from crisis.accounts import (
    LOGIN_WINDOW,
    WebRole,
    WebUser,
    hash_password,
    new_api_token,
    rate_limit,
    verify_password,
)
from crisis.store import Store
from crisis.store.accounts import AccountExists, UnknownAccount
from crisis.store.database import MIGRATIONS

NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
PASSWORD = "marée haute à Roanne"


def _user(login: str = "jdupont", role: WebRole = WebRole.PREFET) -> WebUser:
    return WebUser(
        login=login,
        display_name="Jeanne Dupont",
        role=role,
        password_hash=hash_password(PASSWORD),
        totp_secret="JBSWY3DPEHPK3PXP",
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_user_comes_back_as_stored_and_a_login_is_unique(store: Store) -> None:
    """Round trip of every column; a second account with the same login is refused."""
    user = _user()
    with store.transaction() as tx:
        tx.add_user(user)
    with store.transaction() as tx:
        assert tx.user("jdupont") == user
        assert tx.users() == [user]
        assert tx.user("inconnu") is None
    with pytest.raises(AccountExists), store.transaction() as tx:
        tx.add_user(_user(role=WebRole.AGENT))
    with store.transaction() as tx:
        assert tx.users() == [user]


def test_updating_a_user_changes_its_columns_and_its_update_time(store: Store) -> None:
    """Disable, new password, role; an unknown login is an error."""
    with store.transaction() as tx:
        tx.add_user(_user())
    later = NOW + timedelta(hours=1)
    with store.transaction() as tx:
        changed = tx.update_user(
            "jdupont",
            later,
            disabled=True,
            role=WebRole.OBSERVATEUR,
            password_hash=hash_password("nouvelle phrase de passe"),
        )
    assert changed.disabled and changed.role == WebRole.OBSERVATEUR
    assert changed.updated_at == later and changed.created_at == NOW
    with store.transaction() as tx:
        again = tx.user("jdupont")
    assert again == changed
    assert verify_password(again.password_hash, "nouvelle phrase de passe")
    with pytest.raises(UnknownAccount), store.transaction() as tx:
        tx.update_user("personne", later, disabled=True)


def test_a_token_opens_its_account_until_revoked_or_the_account_is_disabled(
    store: Store,
) -> None:
    """Only the hash is stored; use is noted; revocation and disabling close the door."""
    token = new_api_token()
    with store.transaction() as tx:
        tx.add_user(_user())
        created = tx.add_token("jdupont", token.hash, token.prefix, NOW)
    used = NOW + timedelta(minutes=3)
    with store.transaction() as tx:
        user = tx.user_for_token(token.hash, used)
        assert user is not None and user.login == "jdupont"
        assert tx.user_for_token(new_api_token().hash, used) is None
    with store.transaction() as tx:
        [listed] = tx.tokens("jdupont")
    assert listed.id == created.id and listed.prefix == token.prefix
    assert listed.last_used_at == used and listed.active
    with store.transaction() as tx:
        tx.update_user("jdupont", used, disabled=True)
    with store.transaction() as tx:
        assert tx.user_for_token(token.hash, used) is None
        tx.update_user("jdupont", used, disabled=False)
    with store.transaction() as tx:
        assert tx.user_for_token(token.hash, used) is not None
        [revoked] = tx.revoke_tokens(token.prefix, used)
    assert revoked.revoked_at == used
    with store.transaction() as tx:
        assert tx.user_for_token(token.hash, used) is None
        assert tx.revoke_tokens(token.prefix, used) == []
        assert not tx.tokens()[0].active


def test_a_token_needs_an_existing_account(store: Store) -> None:
    """No orphan token."""
    token = new_api_token()
    with pytest.raises(UnknownAccount), store.transaction() as tx:
        tx.add_token("personne", token.hash, token.prefix, NOW)


def test_stored_attempts_feed_the_rate_limit(store: Store) -> None:
    """Five failures block the login; a success resets its count; the source keeps counting."""
    with store.transaction() as tx:
        for i in range(5):
            tx.record_attempt("jdupont", "192.0.2.7", NOW - timedelta(minutes=5 - i), ok=False)
        tx.record_attempt("autre", "198.51.100.1", NOW, ok=False)
    since = NOW - LOGIN_WINDOW
    with store.transaction() as tx:
        login_failures = tx.login_failures("jdupont", since)
        source_failures = tx.source_failures("192.0.2.7", since)
    assert len(login_failures) == 5 and len(source_failures) == 5
    assert not rate_limit(login_failures, source_failures, NOW).allowed
    with store.transaction() as tx:
        tx.record_attempt("jdupont", "192.0.2.7", NOW, ok=True)
    with store.transaction() as tx:
        assert tx.login_failures("jdupont", since) == []
        assert len(tx.source_failures("192.0.2.7", since)) == 5
        assert tx.prune_attempts(NOW - timedelta(minutes=2)) == 3
        assert len(tx.source_failures("192.0.2.7", since)) == 2


def test_migration_0004_goes_down_and_up_again(store: Store) -> None:
    """The accounts migration downgrades to 0003 (tables gone) and upgrades back."""
    with store.transaction() as tx:
        tx.add_user(_user())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with pytest.raises(Exception, match="web_user"), store.transaction() as tx:
        tx.users()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with store.transaction() as tx:
        assert tx.users() == []
        tx.add_user(_user())

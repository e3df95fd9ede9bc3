"""`crisis users add|list|token|revoke-token|disable|reset` on the database (both kinds)."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import typer
from click.testing import Result
from typer.testing import CliRunner

from crisis.accounts import WebRole, hash_token, verify_password
from crisis.cli import app
from crisis.cli.users import users_app
from crisis.store import Store

PASSWORD = "phrase de passe du COD"
runner = CliRunner()


def _cli() -> typer.Typer:
    """`crisis` itself once `users` is registered there; until then, a group holding it."""
    if any(group.name == "users" for group in app.registered_groups):
        return app
    wrapper = typer.Typer()
    wrapper.add_typer(users_app, name="users")
    return wrapper


def write_config(tmp: Path, database_url: str) -> Path:
    config = tmp / "c.toml"
    config.write_text(f'data_dir = "{tmp}"\n[database]\nurl = "{database_url}"\n', "utf-8")
    return config


def invoke(config: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(_cli(), ["users", *args, "--config", str(config)], input=input)


def test_add_stores_an_argon2_hash_and_shows_the_totp_uri_once_for_a_prefet(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """The password read from standard input is hashed; the préfet gets a TOTP secret."""
    config = write_config(tmp_path, database_url)
    result = invoke(
        config, "add", "JDupont", "--role", "prefet", "--name", "Jeanne Dupont", input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "Compte créé" in result.output
    with store.transaction() as tx:
        user = tx.user("jdupont")
    assert user is not None and user.role == WebRole.PREFET
    assert user.display_name == "Jeanne Dupont"
    assert verify_password(user.password_hash, PASSWORD)
    assert PASSWORD not in result.output
    assert user.totp_secret is not None
    uri = re.search(r"otpauth://\S+", result.output)
    assert uri is not None
    assert pyotp.parse_uri(uri.group(0)).secret == user.totp_secret


def test_add_refuses_a_short_password_a_duplicate_login_and_an_unknown_role(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """Exit 1 in French, nothing stored; the agent has no TOTP by default."""
    config = write_config(tmp_path, database_url)
    short = invoke(config, "add", "agent1", "--role", "agent", "--name", "A", input="court")
    assert short.exit_code == 1 and "au moins 12 caractères" in short.output
    with store.transaction() as tx:
        assert tx.users() == []
    ok = invoke(config, "add", "agent1", "--role", "agent", "--name", "A", input=PASSWORD)
    assert ok.exit_code == 0 and "otpauth://" not in ok.output
    twice = invoke(config, "add", "agent1", "--role", "agent", "--name", "B", input=PASSWORD)
    assert twice.exit_code == 1 and "existe déjà" in twice.output
    role = invoke(config, "add", "x1", "--role", "roi", "--name", "X", input=PASSWORD)
    assert role.exit_code != 0
    with store.transaction() as tx:
        [user] = tx.users()
    assert user.display_name == "A" and user.totp_secret is None


def test_token_is_printed_once_listed_by_prefix_and_revoked(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """Only the hash is stored; `list` shows the prefix, never the token; revocation works."""
    config = write_config(tmp_path, database_url)
    invoke(config, "add", "sdis42", "--role", "agent", "--name", "SDIS 42", input=PASSWORD)
    created = invoke(config, "token", "sdis42")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    with store.transaction() as tx:
        user = tx.user_for_token(hash_token(token), tx.user("sdis42").created_at)  # type: ignore[union-attr]
    assert user is not None and user.login == "sdis42"
    listing = invoke(config, "list")
    assert listing.exit_code == 0
    assert token[:8] in listing.output and token not in listing.output
    assert "agent" in listing.output and "SDIS 42" in listing.output
    revoked = invoke(config, "revoke-token", token[:8])
    assert revoked.exit_code == 0 and "révoqué" in revoked.output
    with store.transaction() as tx:
        assert not tx.tokens("sdis42")[0].active
    again = invoke(config, "revoke-token", token[:8])
    assert again.exit_code == 1 and "aucun jeton actif" in again.output
    nobody = invoke(config, "token", "personne")
    assert nobody.exit_code == 1 and "aucun compte" in nobody.output


def test_disable_blocks_the_account_and_its_new_tokens(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """A disabled account is listed as such and gets no new token."""
    config = write_config(tmp_path, database_url)
    invoke(config, "add", "agent1", "--role", "agent", "--name", "A", input=PASSWORD)
    result = invoke(config, "disable", "agent1")
    assert result.exit_code == 0 and "désactivé" in result.output
    with store.transaction() as tx:
        assert tx.user("agent1").disabled  # type: ignore[union-attr]
    assert "désactivé" in invoke(config, "list").output
    refused = invoke(config, "token", "agent1")
    assert refused.exit_code == 1 and "désactivé" in refused.output
    assert invoke(config, "disable", "personne").exit_code == 1


def test_reset_changes_the_password_and_with_totp_the_secret(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """The old password no longer verifies; --totp gives a new secret and shows it once."""
    config = write_config(tmp_path, database_url)
    invoke(config, "add", "dircab", "--role", "directeur_cabinet", "--name", "D", input=PASSWORD)
    with store.transaction() as tx:
        before = tx.user("dircab")
    assert before is not None and before.totp_secret is not None
    result = invoke(config, "reset", "dircab", "--totp", input="nouvelle phrase de passe\n")
    assert result.exit_code == 0, result.output
    with store.transaction() as tx:
        after = tx.user("dircab")
    assert after is not None
    assert verify_password(after.password_hash, "nouvelle phrase de passe")
    assert not verify_password(after.password_hash, PASSWORD)
    assert after.totp_secret not in (None, before.totp_secret)
    assert f"secret={after.totp_secret}" in result.output
    assert invoke(config, "reset", "personne", input=PASSWORD).exit_code == 1

"""Web accounts: roles and permissions, passwords, TOTP, API tokens, login rate limits."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from crisis.accounts import (
    LOGIN_WINDOW,
    AccountError,
    Action,
    WebRole,
    WebUser,
    actor_of,
    authority_of,
    can,
    check_login,
    check_password,
    hash_password,
    hash_token,
    new_api_token,
    new_totp_secret,
    rate_limit,
    token_prefix,
    totp_by_default,
    totp_uri,
    verify_password,
    verify_totp,
)
from crisis.model import Authority, Interface

NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
R, A = WebRole, Action
ALL = set(Action)
EXPECTED = {
    R.PREFET: ALL,
    R.DIRECTEUR_CABINET: ALL,
    R.CHARGE_COMMUNICATION: {A.DRAFT, A.EXERCISE, A.NOTE, A.READ},
    R.AGENT: {A.DECLARE_T0, A.NOTE, A.READ},
    R.OBSERVATEUR: {A.READ},
}


@pytest.mark.parametrize("role", list(WebRole))
def test_each_role_may_do_exactly_its_actions(role: WebRole) -> None:
    """The permission table: préfet and dircab everything, observateur only reads."""
    assert {a for a in Action if can(role, a)} == EXPECTED[role]


def test_only_the_prefet_and_the_directeur_de_cabinet_approve() -> None:
    """Approving (four-eyes) is not the chargé de communication's, nor the agent's."""
    assert [r for r in WebRole if can(r, Action.APPROVE)] == [R.PREFET, R.DIRECTEUR_CABINET]


@pytest.mark.parametrize(
    ("role", "authority"),
    [
        (R.PREFET, Authority.PREFET),
        (R.DIRECTEUR_CABINET, Authority.DIRECTEUR_CABINET),
        (R.CHARGE_COMMUNICATION, Authority.AGENT),
        (R.AGENT, Authority.AGENT),
        (R.OBSERVATEUR, Authority.AGENT),
    ],
)
def test_authority_of_each_role(role: WebRole, authority: Authority) -> None:
    """The engine's authority follows the role (the CIP needs dircab or préfet)."""
    assert authority_of(role) == authority


def test_roles_have_french_labels() -> None:
    """Labels are the domain's words."""
    assert R.DIRECTEUR_CABINET.label == "directeur de cabinet"
    assert R.CHARGE_COMMUNICATION.label == "chargé de communication"
    assert R.PREFET.label == "préfet"


def test_totp_is_on_by_default_for_the_prefet_and_the_dircab_only() -> None:
    """The second factor is the default for those who approve and order the CIP."""
    assert {r for r in WebRole if totp_by_default(r)} == {R.PREFET, R.DIRECTEUR_CABINET}


@pytest.mark.parametrize("password", ["", "court", "onze-carac."])
def test_a_password_under_twelve_characters_is_refused_in_french(password: str) -> None:
    """The policy: 12 characters at least, said in French."""
    with pytest.raises(AccountError, match="au moins 12 caractères"):
        check_password(password)
    with pytest.raises(AccountError):
        hash_password(password)


def test_a_password_of_spaces_is_refused() -> None:
    """Twelve spaces are not a password."""
    with pytest.raises(AccountError, match="espaces"):
        check_password(" " * 12)


def test_argon2_hash_verifies_the_right_password_only() -> None:
    """The stored hash is argon2id, never the password; a wrong one does not verify."""
    stored = hash_password("marée haute à Roanne")
    assert stored.startswith("$argon2id$")
    assert "Roanne" not in stored
    assert verify_password(stored, "marée haute à Roanne")
    assert not verify_password(stored, "marée haute à roanne")
    assert not verify_password("pas-un-hash", "marée haute à Roanne")


def test_totp_code_of_the_moment_verifies_with_one_period_of_drift() -> None:
    """A code is accepted at its time and 30 s either side, refused two periods away."""
    secret = new_totp_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert verify_totp(secret, code, NOW)
    assert verify_totp(secret, code, NOW + timedelta(seconds=30))
    assert verify_totp(secret, code, NOW - timedelta(seconds=30))
    assert not verify_totp(secret, code, NOW + timedelta(seconds=90))
    assert not verify_totp(secret, "abcdef", NOW)


def test_totp_provisioning_uri_names_the_issuer_and_the_login() -> None:
    """Authenticator apps show « Orchestrateur de crise » and the login."""
    secret = new_totp_secret()
    uri = urlparse(totp_uri(secret, "jdupont"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert unquote(uri.path) == "/Orchestrateur de crise:jdupont"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Orchestrateur de crise"]


def test_api_token_is_random_and_only_its_sha256_is_kept() -> None:
    """Two tokens differ; the hash is the sha256 hex; the prefix is the first 8 characters."""
    one, two = new_api_token(), new_api_token()
    assert one.token != two.token
    assert len(one.token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", one.token)
    assert one.hash == hashlib.sha256(one.token.encode()).hexdigest() == hash_token(one.token)
    assert one.prefix == one.token[:8] == token_prefix(one.token)
    assert one.token not in repr(one)


def test_a_user_repr_shows_neither_the_hash_nor_the_totp_secret() -> None:
    """Secrets stay out of logs."""
    user = WebUser(
        login="jdupont",
        display_name="Jeanne Dupont",
        role=R.PREFET,
        password_hash="$argon2id$secret-hash",
        totp_secret="JBSWY3DPEHPK3PXP",
        created_at=NOW,
        updated_at=NOW,
    )
    assert "secret-hash" not in repr(user) and "JBSWY3DPEHPK3PXP" not in repr(user)
    actor = actor_of(user, Interface.API)
    assert actor.name == "Jeanne Dupont (jdupont)" and actor.interface == Interface.API


@pytest.mark.parametrize("login", ["JDupont", " jdupont "])
def test_logins_are_normalised_to_lower_case(login: str) -> None:
    """One person, one login, whatever the case typed."""
    assert check_login(login) == "jdupont"


@pytest.mark.parametrize("login", ["", "a", "jean dupont", "-x", "é" * 3, "x" * 65])
def test_invalid_logins_are_refused_in_french(login: str) -> None:
    """Letters, digits, dot, dash, underscore; 2 to 64 characters."""
    with pytest.raises(AccountError, match="identifiant invalide"):
        check_login(login)


def _ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_four_recent_failures_of_a_login_still_allow_a_fifth_try() -> None:
    """Up to 5 failures per login in 15 minutes."""
    assert rate_limit(_ago(1, 2, 3, 4), [], NOW).allowed


def test_five_failures_in_fifteen_minutes_block_the_login_until_the_oldest_expires() -> None:
    """The sixth try waits until the oldest of the five leaves the window."""
    decision = rate_limit(_ago(1, 2, 3, 4, 10), [], NOW)
    assert not decision.allowed
    assert decision.retry_at == NOW - timedelta(minutes=10) + LOGIN_WINDOW
    assert (
        decision.reason == "trop d'échecs de connexion pour cet identifiant : réessayez dans 5 min"
    )


def test_failures_older_than_fifteen_minutes_do_not_count() -> None:
    """The window slides."""
    assert rate_limit(_ago(1, 2, 3, 4, 15, 16, 30), [], NOW).allowed


def test_twenty_failures_from_one_address_block_it_whatever_the_login() -> None:
    """A source address guessing many logins is stopped at 20."""
    assert rate_limit([], _ago(*[m / 2 for m in range(19)]), NOW).allowed
    decision = rate_limit([], _ago(*[m / 2 for m in range(20)]), NOW)
    assert not decision.allowed
    assert "depuis cette adresse" in decision.reason

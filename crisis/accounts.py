"""Web accounts: roles and what they may do, passwords, TOTP, API tokens, login rate limits.

Pure except for randomness (secrets) and argon2's hashing: no clock read, no I/O. Times are
passed in; the store keeps users, tokens and login attempts (crisis/store/accounts.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field

from contacts.labelled import LabelledEnum
from crisis.model import Actor, Authority, Interface

__all__ = [
    "LOGIN_WINDOW",
    "MAX_LOGIN_FAILURES",
    "MAX_SOURCE_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "TOTP_ISSUER",
    "AccountError",
    "Action",
    "ApiToken",
    "NewToken",
    "RateLimit",
    "WebRole",
    "WebUser",
    "actor_of",
    "authority_of",
    "can",
    "check_login",
    "check_password",
    "hash_password",
    "hash_token",
    "new_api_token",
    "new_totp_secret",
    "password_needs_rehash",
    "rate_limit",
    "token_prefix",
    "totp_by_default",
    "totp_uri",
    "verify_password",
    "verify_totp",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is an attack
TOTP_ISSUER = "Orchestrateur de crise"
LOGIN_WINDOW = timedelta(minutes=15)
MAX_LOGIN_FAILURES = 5  # per login and window
MAX_SOURCE_FAILURES = 20  # per source address and window
TOKEN_PREFIX_LENGTH = 8
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class AccountError(ValueError):
    """An account operation refused (French reason, safe to show)."""


class WebRole(LabelledEnum):
    """A web account's role."""

    PREFET = "prefet", "préfet"
    DIRECTEUR_CABINET = "directeur_cabinet", "directeur de cabinet"
    CHARGE_COMMUNICATION = "charge_communication", "chargé de communication"
    AGENT = "agent", "agent"
    OBSERVATEUR = "observateur", "observateur / auditeur"


class Action(LabelledEnum):
    """What a role may be allowed to do."""

    DECLARE_T0 = "declare_t0", "déclarer le temps 0"
    APPROVE = "approve", "approuver un message"
    ORDER_CIP = "order_cip", "ordonner la CIP"
    RECTIFY_T0 = "rectify_t0", "rectifier le temps 0"
    CLOSE = "close", "clore l'événement"
    DRAFT = "draft", "rédiger un message"
    EXERCISE = "exercise", "conduire un exercice"
    NOTE = "note", "écrire dans la main courante"
    READ = "read", "consulter"


PERMISSIONS: dict[WebRole, frozenset[Action]] = {
    WebRole.PREFET: frozenset(Action),
    WebRole.DIRECTEUR_CABINET: frozenset(Action),
    # approving stays with the directeur de cabinet and the préfet (four-eyes by authority)
    # the chargé de communication also runs the exercises (simulated media pressure, 49)
    WebRole.CHARGE_COMMUNICATION: frozenset(
        {Action.DRAFT, Action.EXERCISE, Action.NOTE, Action.READ}
    ),
    WebRole.AGENT: frozenset({Action.DECLARE_T0, Action.NOTE, Action.READ}),
    WebRole.OBSERVATEUR: frozenset({Action.READ}),
}

_AUTHORITY = {
    WebRole.PREFET: Authority.PREFET,
    WebRole.DIRECTEUR_CABINET: Authority.DIRECTEUR_CABINET,
    WebRole.CHARGE_COMMUNICATION: Authority.AGENT,
    WebRole.AGENT: Authority.AGENT,
    WebRole.OBSERVATEUR: Authority.AGENT,
}


def authority_of(role: WebRole) -> Authority:
    """The authority the engine grants an account of this role (CIP orders, closing)."""
    return _AUTHORITY[role]


def can(role: WebRole, action: Action) -> bool:
    """Whether an account of this role may do this."""
    return action in PERMISSIONS[role]


def totp_by_default(role: WebRole) -> bool:
    """The second factor is on by default for those who declare, approve and order the CIP."""
    return role in {WebRole.PREFET, WebRole.DIRECTEUR_CABINET}


class WebUser(BaseModel):
    """A web account as stored (the hash and the TOTP secret never appear in a repr)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    login: str
    display_name: str
    role: WebRole
    password_hash: str = Field(repr=False)
    totp_secret: str | None = Field(default=None, repr=False)
    disabled: bool = False
    created_at: datetime
    updated_at: datetime

    @property
    def has_totp(self) -> bool:
        """Whether a second factor is required at login."""
        return self.totp_secret is not None


class ApiToken(BaseModel):
    """An API token as listed: never the token itself, only its first characters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    login: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the token still opens the API."""
        return self.revoked_at is None


def actor_of(user: WebUser, interface: Interface) -> Actor:
    """Who the main courante names for this account's actions."""
    return Actor(name=f"{user.display_name} ({user.login})", interface=interface)


def check_login(login: str) -> str:
    """The login, normalised (lower case), or AccountError in French."""
    value = login.strip().lower()
    if not _LOGIN.fullmatch(value):
        raise AccountError(
            "identifiant invalide : 2 à 64 caractères parmi a-z, 0-9, point, tiret et "
            "tiret bas, en commençant par une lettre ou un chiffre"
        )
    return value


# --- passwords ----------------------------------------------------------------------------

_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters


def check_password(password: str) -> None:
    """Refuse a password that breaks the policy (AccountError in French)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"mot de passe trop court : au moins {MIN_PASSWORD_LENGTH} caractères "
            "(une phrase de passe est plus facile à retenir)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"mot de passe trop long : au plus {MAX_PASSWORD_LENGTH} caractères")
    if not password.strip():
        raise AccountError("le mot de passe ne peut pas être fait que d'espaces")


def hash_password(password: str) -> str:
    """An argon2id hash of a password that meets the policy (AccountError otherwise)."""
    check_password(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash (False for a damaged hash too)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash at next login)."""
    return _HASHER.check_needs_rehash(password_hash)


# --- TOTP ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, login: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code) to enrol."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=TOTP_ISSUER)


def verify_totp(secret: str, code: str, at: datetime) -> bool:
    """Whether the 6-digit code is valid at `at` (one period of drift either way)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1)


# --- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    """A token just created: `token` is shown once and never stored, only its hash."""

    token: str = field(repr=False)
    hash: str
    prefix: str


def hash_token(token: str) -> str:
    """What the store keeps of a token (sha256, hex): enough to recognise it, not to use it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters of a token, kept to list and revoke it."""
    return token[:TOKEN_PREFIX_LENGTH]


def new_api_token() -> NewToken:
    """A random API token (256 bits)."""
    token = secrets.token_urlsafe(32)
    return NewToken(token=token, hash=hash_token(token), prefix=token_prefix(token))


# --- login rate limit ---------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """Whether a login attempt may be tried now; if not, until when and why (French)."""

    allowed: bool
    retry_at: datetime | None = None
    reason: str = ""


def rate_limit(
    login_failures: Sequence[datetime], source_failures: Sequence[datetime], now: datetime
) -> RateLimit:
    """Decide from the recent failed attempts of this login and of this source address.

    At most MAX_LOGIN_FAILURES failures per login and MAX_SOURCE_FAILURES per source in the
    last LOGIN_WINDOW; the attempt is allowed again when the oldest counted failure leaves it.
    """
    since = now - LOGIN_WINDOW
    checks = (
        (login_failures, MAX_LOGIN_FAILURES, "trop d'échecs de connexion pour cet identifiant"),
        (source_failures, MAX_SOURCE_FAILURES, "trop d'échecs de connexion depuis cette adresse"),
    )
    for failures, limit, why in checks:
        recent = sorted(t for t in failures if since < t <= now)
        if len(recent) >= limit:
            retry_at = recent[-limit] + LOGIN_WINDOW
            minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
            return RateLimit(
                allowed=False,
                retry_at=retry_at,
                reason=f"{why} : réessayez dans {minutes} min",
            )
    return RateLimit(allowed=True)

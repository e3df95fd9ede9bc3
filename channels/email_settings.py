"""E-mail channel settings: the `[smtp]` section, relay credentials, configuration check."""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from channels.errors import ChannelConfigError
from channels.setting_checks import seconds_up_to, setting_check

__all__ = [
    "ADDRESS_RE",
    "ENV_PASSWORD",
    "ENV_USERNAME",
    "SmtpCredentials",
    "SmtpSettings",
    "address_problem",
    "check_email",
    "tls_context",
    "valid_address",
]

ENV_USERNAME = "CRISIS_SMTP_USERNAME"
ENV_PASSWORD = "CRISIS_SMTP_PASSWORD"  # noqa: S105 (a variable name, not a secret)

# ASCII addresses only: an internationalised address would need SMTPUTF8 on every relay.
ADDRESS_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def address_problem(value: str, setting: str) -> str | None:
    """French description of what is wrong with an e-mail address setting, or None."""
    if not ADDRESS_RE.match(value):
        return f"{setting} : adresse de courriel mal formée"
    return None


def valid_address(value: str, setting: str) -> str:
    """The e-mail address setting without its surrounding spaces; ValueError (French) naming
    the setting if it is malformed."""
    problem = address_problem(value.strip(), setting)
    if problem:
        raise ValueError(problem)
    return value.strip()


class SmtpSettings(BaseModel):
    """Non-secret settings of the `[smtp]` section: relay, TLS mode, sender."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: int = 587
    starttls: bool = True  # require STARTTLS: never send in clear when it is on
    implicit_tls: bool = False  # TLS from the first byte (port 465); replaces STARTTLS
    from_address: str
    from_name: str = "Préfecture"
    reply_to: str | None = None
    timeout_s: float = 15.0  # per SMTP command
    ca_file: Path | None = None  # PEM bundle of a private CA (the ministry's relay)
    validate_certs: bool = True
    helo_hostname: str | None = None  # name given in EHLO; default: this machine's FQDN

    @model_validator(mode="before")
    @classmethod
    def _implicit_tls_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("implicit_tls"):
            data = dict(data)
            data.setdefault("port", 465)
            data.setdefault("starttls", False)
        return data

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpSettings:
        if self.implicit_tls and self.starttls:
            raise ValueError(
                "smtp : choisir starttls (port 587) ou implicit_tls (port 465), pas les deux"
            )
        return self

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() for c in value) or "/" in value:
            raise ValueError("smtp.host : nom ou adresse du serveur de messagerie invalide")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("smtp.port : doit être compris entre 1 et 65535")
        return value

    _from_address = setting_check("from_address", valid_address, "smtp.from_address")

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return valid_address(value, "smtp.reply_to")

    @field_validator("from_name")
    @classmethod
    def _from_name(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("smtp.from_name : pas de retour à la ligne dans le nom d'expéditeur")
        return value.strip()

    _timeout = setting_check("timeout_s", seconds_up_to(300), "smtp.timeout_s")

    @property
    def sender_domain(self) -> str:
        """The domain of the sender address (used in Message-IDs)."""
        return self.from_address.rsplit("@", 1)[1].lower()

    @property
    def encrypted(self) -> bool:
        """Whether the connection is always encrypted."""
        return self.starttls or self.implicit_tls


@dataclass(frozen=True)
class SmtpCredentials:
    """SMTP login, from CRISIS_SMTP_USERNAME / CRISIS_SMTP_PASSWORD; both absent = no AUTH."""

    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ChannelConfigError(
                f"{ENV_USERNAME} et {ENV_PASSWORD} vont ensemble : définir les deux "
                "(relais authentifié) ou aucun (relais du réseau de la préfecture)"
            )

    def __repr__(self) -> str:
        return f"SmtpCredentials(authentification={'oui' if self.configured else 'non'})"

    @property
    def configured(self) -> bool:
        """Whether the relay is logged into."""
        return self.username is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpCredentials:
        """Read the credentials from the environment; empty values count as absent."""
        username = env.get(ENV_USERNAME, "").strip() or None
        password = env.get(ENV_PASSWORD) or None
        return cls(username=username, password=password)


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The TLS context for the relay: system or private CA, certificate checks unless disabled."""
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file is not None else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise ChannelConfigError(
            "smtp.ca_file : certificat de l'autorité introuvable ou illisible (fichier PEM attendu)"
        ) from exc
    if not settings.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _encryption_problems(settings: SmtpSettings, credentials: SmtpCredentials | None) -> list[str]:
    problems: list[str] = []
    if not settings.encrypted:
        problems.append("smtp : ni starttls ni implicit_tls : les courriels partiraient en clair")
        if credentials is not None and credentials.configured:
            problems.append(
                f"smtp : {ENV_USERNAME} / {ENV_PASSWORD} définis sans chiffrement : "
                "le mot de passe partirait en clair"
            )
    if settings.implicit_tls and settings.port == 587:
        problems.append("smtp : implicit_tls avec le port 587 (port de STARTTLS) : port 465 ?")
    if settings.starttls and settings.port == 465:
        problems.append("smtp : starttls avec le port 465 (TLS implicite) : implicit_tls ?")
    return problems


def _certificate_problems(settings: SmtpSettings) -> list[str]:
    problems: list[str] = []
    if not settings.validate_certs:
        problems.append(
            "smtp.validate_certs désactivé : le serveur de messagerie n'est pas authentifié "
            "(utiliser plutôt smtp.ca_file pour une autorité privée)"
        )
    if settings.ca_file is not None:
        if not settings.ca_file.is_file():
            problems.append(f"smtp.ca_file : fichier introuvable ({settings.ca_file})")
        elif settings.encrypted:
            try:
                tls_context(settings)
            except ChannelConfigError as exc:
                problems.append(str(exc))
    return problems


def check_email(settings: SmtpSettings, env: Mapping[str, str]) -> list[str]:
    """Configuration problems of the e-mail channel, in French, without sending anything."""
    problems: list[str] = []
    credentials: SmtpCredentials | None
    try:
        credentials = SmtpCredentials.from_env(env)
    except ChannelConfigError as exc:
        problems.append(str(exc))
        credentials = None
    addresses = {"smtp.from_address": settings.from_address, "smtp.reply_to": settings.reply_to}
    for setting, value in addresses.items():
        problem = address_problem(value, setting) if value else None
        if problem:
            problems.append(problem)
    problems += _encryption_problems(settings, credentials)
    problems += _certificate_problems(settings)
    return problems

"""E-mail channel: one message per recipient through the prefecture's SMTP relay (aiosmtplib).

An SMTP server keeps no memory we can query: after an ambiguous send (timeout once the message
content has left) only a human looking at the sent folder or the relay's logs can tell.
"""

from __future__ import annotations

import hashlib
import html
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiosmtplib
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from channels.base import (
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Receipt,
    TimeSource,
)

__all__ = [
    "ENV_PASSWORD",
    "ENV_USERNAME",
    "Attachment",
    "EmailChannel",
    "SmtpCredentials",
    "SmtpSettings",
    "check_email",
    "message_id_for",
]

ENV_USERNAME = "CRISIS_SMTP_USERNAME"
ENV_PASSWORD = "CRISIS_SMTP_PASSWORD"  # noqa: S105 (a variable name, not a secret)

# ASCII addresses only: an internationalised address would need SMTPUTF8 on every relay.
_ADDRESS_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_SUBJECT_MAX = 120

UNCERTAIN = "envoi incertain : vérifier la boîte d'envoi avant de renvoyer"
NO_STARTTLS = (
    "le serveur de messagerie ne propose pas STARTTLS : envoi refusé pour ne pas transmettre "
    "en clair"
)
CHANNEL_DOWN = "canal courriel hors service : envoyer le message à la main"


def address_problem(value: str, setting: str) -> str | None:
    """French description of what is wrong with an e-mail address setting, or None."""
    if not _ADDRESS_RE.match(value):
        return f"{setting} : adresse de courriel mal formée"
    return None


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

    @field_validator("from_address")
    @classmethod
    def _from_address(cls, value: str) -> str:
        problem = address_problem(value.strip(), "smtp.from_address")
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        problem = address_problem(value.strip(), "smtp.reply_to")
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("from_name")
    @classmethod
    def _from_name(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("smtp.from_name : pas de retour à la ligne dans le nom d'expéditeur")
        return value.strip()

    @field_validator("timeout_s")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if not 0 < value <= 300:
            raise ValueError("smtp.timeout_s : délai en secondes, entre 0 et 300")
        return value

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


@dataclass(frozen=True)
class Attachment:
    """A file joined to the e-mail (e.g. the press release as PDF)."""

    filename: str
    content_type: str  # "application/pdf"
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        maintype, _, subtype = self.content_type.partition("/")
        if not maintype or not subtype:
            raise ValueError(f"type de pièce jointe invalide : {self.content_type!r}")


AttachmentSource = Callable[[OutgoingMessage], Sequence[Attachment]]


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID of an outbox message: the same key always gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.crisis@{domain}>"


def _subject(message: OutgoingMessage) -> str:
    subject = message.subject.strip()
    if not subject:
        subject = next((line.strip() for line in message.body.splitlines() if line.strip()), "")
    subject = " ".join(subject.split())  # no line breaks in a header
    if len(subject) > _SUBJECT_MAX:
        subject = subject[: _SUBJECT_MAX - 1].rstrip() + "…"
    return subject or "Message de la préfecture"


def html_from_text(text: str, title: str) -> str:
    """A minimal HTML rendering of a plain-text message: paragraphs and line breaks, escaped."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
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


def _code_kind(code: int) -> str:
    return "temporaire" if 400 <= code < 500 else "définitif"


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _failure(exc: Exception, stage: str, contact_id: str) -> DeliveryFailed:
    """Map an aiosmtplib error to a reason safe for the on-call agent (never an address)."""
    if stage == "data" and not isinstance(exc, aiosmtplib.SMTPResponseException):
        # no clear answer once the content left (timeout, cut TLS session): maybe delivered
        return DeliveryFailed(UNCERTAIN, retryable=False, ambiguous=True)
    if _is_tls_failure(exc):
        return DeliveryFailed(
            "connexion chiffrée au serveur de messagerie impossible (certificat refusé ou "
            f"TLS invalide) : {CHANNEL_DOWN}, prévenir l'administrateur",
            retryable=False,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        temporary = 400 <= code < 500
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError) and not temporary:
            return DeliveryFailed(
                f"identifiants SMTP refusés par le serveur de messagerie (code {code}) : "
                f"{CHANNEL_DOWN}, vérifier {ENV_USERNAME} / {ENV_PASSWORD}",
                retryable=False,
            )
        if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
            what = f"adresse du contact {contact_id} refusée par le serveur de messagerie"
        elif isinstance(exc, aiosmtplib.SMTPSenderRefused):
            what = "adresse d'expédition (smtp.from_address) refusée par le serveur de messagerie"
        elif isinstance(exc, aiosmtplib.SMTPDataError):
            what = "message refusé par le serveur de messagerie"
        else:
            what = f"le serveur de messagerie a répondu une erreur ({stage})"
        suffix = ", nouvel essai prévu" if temporary else ""
        return DeliveryFailed(
            f"{what} (code {code}, refus {_code_kind(code)}){suffix}", retryable=temporary
        )
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return DeliveryFailed(
            f"serveur de messagerie injoignable ou muet ({stage}) : nouvel essai prévu",
            retryable=True,
        )
    if stage == "authentification":
        return DeliveryFailed(
            "le serveur de messagerie ne propose pas d'authentification compatible : "
            f"{CHANNEL_DOWN}, prévenir l'administrateur",
            retryable=False,
        )
    return DeliveryFailed(
        f"échange avec le serveur de messagerie impossible ({stage}) : {CHANNEL_DOWN}",
        retryable=False,
    )


class EmailChannel:
    """Sends each outbox message as one e-mail (text + HTML, optional attachments)."""

    name = ChannelName.EMAIL

    def __init__(
        self,
        settings: SmtpSettings,
        credentials: SmtpCredentials,
        clock: TimeSource,
        *,
        attachments: AttachmentSource | None = None,
    ) -> None:
        if credentials.configured and not settings.encrypted:
            raise ChannelConfigError(
                "smtp : identifiants configurés sans chiffrement (starttls et implicit_tls "
                "désactivés) : le mot de passe partirait en clair"
            )
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self.attachments = attachments
        self._tls = _tls_context(settings) if settings.encrypted else None

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        """Build the e-mail for one outbox message (no network)."""
        settings = self.settings
        address = message.recipient.address.strip()
        if not _ADDRESS_RE.match(address):
            raise DeliveryFailed(
                f"adresse de courriel invalide pour le contact {message.recipient.contact_id}",
                retryable=False,
            )
        subject = _subject(message)
        email = EmailMessage(policy=policy.default)
        try:
            email["From"] = Address(
                display_name=settings.from_name, addr_spec=settings.from_address
            )
            email["To"] = Address(
                display_name=" ".join(message.recipient.display_name.split()), addr_spec=address
            )
            if settings.reply_to:
                email["Reply-To"] = settings.reply_to
            email["Subject"] = subject
        except (ValueError, TypeError) as exc:
            raise DeliveryFailed(
                f"en-têtes du courriel invalides pour le contact {message.recipient.contact_id}",
                retryable=False,
            ) from exc
        now = self.clock.now()
        email["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=UTC))
        email["Message-ID"] = message_id_for(message.idempotency_key, settings.sender_domain)
        email["Content-Language"] = "fr"
        # quoted-printable: accents survive relays without 8BITMIME
        email.set_content(message.body, subtype="plain", charset="utf-8", cte="quoted-printable")
        email.add_alternative(
            message.html if message.html is not None else html_from_text(message.body, subject),
            subtype="html",
            charset="utf-8",
            cte="quoted-printable",
        )
        for attachment in self.attachments(message) if self.attachments else ():
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return email

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Hand the e-mail to the relay; the receipt's provider id is the Message-ID."""
        email = self.compose(message)
        message_id = str(email["Message-ID"])
        raw = email.as_bytes(policy=policy.SMTP)
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            timeout=settings.timeout_s,
            use_tls=settings.implicit_tls,
            start_tls=False,  # done below, so that a server without STARTTLS is refused
            tls_context=self._tls,
            local_hostname=settings.helo_hostname,
        )
        stage = "connexion"
        try:
            await client.connect()
            if settings.starttls:
                await client.ehlo()
                if not client.supports_extension("starttls"):
                    raise DeliveryFailed(NO_STARTTLS, retryable=False)
                stage = "STARTTLS"
                await client.starttls()
            if self.credentials.configured:
                stage = "authentification"
                assert self.credentials.username is not None
                assert self.credentials.password is not None
                await client.login(self.credentials.username, self.credentials.password)
            stage = "enveloppe"
            await client.mail(settings.from_address)
            await client.rcpt(message.recipient.address.strip())
            stage = "data"  # from here on, the relay may have accepted the message
            await client.data(raw)
        except DeliveryFailed:
            client.close()
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise _failure(exc, stage, message.recipient.contact_id) from None
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()  # the message was accepted; a rude goodbye changes nothing
        return Receipt(provider_id=message_id, status="sent")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """An SMTP relay cannot be asked what it accepted: always a human decision."""
        raise DeliveryFailed(UNCERTAIN, retryable=False, ambiguous=True)


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
                _tls_context(settings)
            except ChannelConfigError as exc:
                problems.append(str(exc))
    return problems

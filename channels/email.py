"""E-mail channel: one message per recipient through the prefecture's SMTP relay (aiosmtplib).

An SMTP server keeps no memory we can query: after an ambiguous send (timeout once the message
content has left) only a human looking at the sent folder or the relay's logs can tell.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource
from channels.email_settings import (
    ADDRESS_RE,
    ENV_PASSWORD,
    ENV_USERNAME,
    SmtpCredentials,
    SmtpSettings,
    check_email,
    tls_context,
)
from channels.errors import ChannelConfigError, DeliveryFailed, is_tls_failure

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

_SUBJECT_MAX = 120

UNCERTAIN = "envoi incertain : vérifier la boîte d'envoi avant de renvoyer"
NO_STARTTLS = (
    "le serveur de messagerie ne propose pas STARTTLS : envoi refusé pour ne pas transmettre "
    "en clair"
)
CHANNEL_DOWN = "canal courriel hors service : envoyer le message à la main"


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


def _code_kind(code: int) -> str:
    return "temporaire" if 400 <= code < 500 else "définitif"


def _failure(exc: Exception, stage: str, contact_id: str) -> DeliveryFailed:
    """Map an aiosmtplib error to a reason safe for the on-call agent (never an address)."""
    if stage == "data" and not isinstance(exc, aiosmtplib.SMTPResponseException):
        # no clear answer once the content left (timeout, cut TLS session): maybe delivered
        return DeliveryFailed(UNCERTAIN, retryable=False, ambiguous=True)
    if is_tls_failure(exc):
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
        self._tls = tls_context(settings) if settings.encrypted else None

    def compose(self, message: OutgoingMessage) -> EmailMessage:
        """Build the e-mail for one outbox message (no network)."""
        settings = self.settings
        address = message.recipient.address.strip()
        if not ADDRESS_RE.match(address):
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

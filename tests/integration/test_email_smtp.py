"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1, with STARTTLS and AUTH."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Recipient
from channels.email import (
    Attachment,
    EmailChannel,
    SmtpCredentials,
    SmtpSettings,
    message_id_for,
)
from crisis.clock import FakeClock

USERNAME = "cod-loire"
PASSWORD = "mot-de-passe-de-test-fictif"
MAYOR_ADDRESS = "maire.saint-etienne@example.fr"
T = datetime(2026, 3, 14, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Relay:
    """What the test SMTP server saw, and how it answers."""

    rcpt_reply: str | None = None
    data_reply: str = "250 2.0.0 Message accepté"
    data_delay: float = 0.0
    mail_from: list[str] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    auth_attempts: int = 0
    port: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply.startswith("250"):
            self.received.append(envelope.original_content)
            self.sessions.append(
                {
                    "tls": session.ssl is not None,
                    "authenticated": session.authenticated,
                    "rcpt_tos": list(envelope.rcpt_tos),
                }
            )
        return self.data_reply

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.auth_attempts += 1
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USERNAME.encode()
            and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(
    relay: Relay, certificate: tuple[Path, Path] | None, *, implicit_tls: bool = False
) -> Iterator[Relay]:
    """Run aiosmtpd on 127.0.0.1; with a certificate it offers STARTTLS (or TLS from the first
    byte with implicit_tls) and requires AUTH."""
    kwargs: dict[str, Any] = {"authenticator": relay.authenticate, "auth_require_tls": False}
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, certificate))
        if implicit_tls:
            kwargs["ssl_context"] = context  # AUTH offered, TLS from the first byte
        else:
            kwargs |= {
                "tls_context": context,
                "require_starttls": True,
                "auth_required": True,
                "auth_require_tls": True,
            }
    relay.port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port, **kwargs)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


def _settings(
    relay: Relay, certificate: tuple[Path, Path] | None, **overrides: Any
) -> SmtpSettings:
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": relay.port,
        "from_address": "pref-communication@example.fr",
        "from_name": "Préfecture de la Loire",
        "reply_to": "cod@example.fr",
        "timeout_s": 5,
        "ca_file": certificate[0] if certificate else None,
        "helo_hostname": "orchestrateur.example.fr",
    }
    fields.update(overrides)
    return SmtpSettings(**fields)


def _channel(
    relay: Relay,
    certificate: tuple[Path, Path] | None,
    *,
    password: str = PASSWORD,
    attachments: Any = None,
    **overrides: Any,
) -> EmailChannel:
    return EmailChannel(
        _settings(relay, certificate, **overrides),
        SmtpCredentials.from_env(
            {"CRISIS_SMTP_USERNAME": USERNAME, "CRISIS_SMTP_PASSWORD": password}
        ),
        FakeClock(T),
        attachments=attachments,
    )


def _message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "idempotency_key": "crise-7:etape-mairies:maire-42218:email:v1",
        "channel": ChannelName.EMAIL,
        "recipient": Recipient(
            contact_id="maire-42218", address=MAYOR_ADDRESS, display_name="Maire de Saint-Étienne"
        ),
        "subject": "Crue de la Loire : évacuation préventive des quais",
        "body": (
            "Madame, Monsieur le maire,\n\n"
            "La préfète a activé le COD à 8 h 30. Évacuation préventive des quais à 14 h.\n"
            "Niveau < 3 m & vigilance rouge.\n\n"
            "Le directeur de cabinet"
        ),
        "crisis_id": "crise-7",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def _read(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_mail_goes_out_over_starttls_with_auth_as_text_and_html(certificate):
    """One message: encrypted and authenticated, multipart/alternative, accents intact."""
    with smtp_server(Relay(), certificate) as relay:
        receipt = await _channel(relay, certificate).send(_message())

    assert len(relay.received) == 1
    assert relay.sessions == [{"tls": True, "authenticated": True, "rcpt_tos": [MAYOR_ADDRESS]}]
    assert relay.mail_from == ["pref-communication@example.fr"]
    mail = _read(relay.received[0])
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Subject"] == "Crue de la Loire : évacuation préventive des quais"
    assert mail["From"].addresses[0].display_name == "Préfecture de la Loire"
    assert mail["To"].addresses[0].display_name == "Maire de Saint-Étienne"
    assert mail["Reply-To"] == "cod@example.fr"
    assert mail["Date"].datetime == T
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Évacuation préventive des quais à 14 h." in text
    assert "Niveau < 3 m & vigilance rouge." in text
    assert "<p>Madame, Monsieur le maire,</p>" in html
    assert "Évacuation préventive des quais à 14 h." in html
    assert "Niveau &lt; 3 m &amp; vigilance rouge." in html
    expected_id = message_id_for(_message().idempotency_key, "example.fr")
    assert mail["Message-ID"] == expected_id
    assert receipt.provider_id == expected_id
    assert expected_id.endswith(".crisis@example.fr>")


async def test_implicit_tls_relay_on_its_own_port(certificate):
    """implicit_tls: TLS from the first byte (port 465 style), no STARTTLS involved."""
    with smtp_server(Relay(), certificate, implicit_tls=True) as relay:
        receipt = await _channel(relay, certificate, implicit_tls=True).send(_message())
    assert [_read(raw)["Message-ID"] for raw in relay.received] == [receipt.provider_id]
    assert relay.sessions[0]["authenticated"] is True


async def test_message_id_is_the_same_for_a_resend_and_differs_between_messages(certificate):
    """The Message-ID derives from the idempotency key: a resend can be recognised."""
    with smtp_server(Relay(), certificate) as relay:
        channel = _channel(relay, certificate)
        first = await channel.send(_message())
        again = await channel.send(_message())
        other = await channel.send(_message(idempotency_key="crise-7:etape-mairies:maire-42187"))
    ids = [_read(raw)["Message-ID"] for raw in relay.received]
    assert ids == [first.provider_id, again.provider_id, other.provider_id]
    assert first.provider_id == again.provider_id != other.provider_id


async def test_given_html_is_used_and_subject_falls_back_to_first_line(certificate):
    """message.html is the HTML part as given; without a subject, the first line is used."""
    with smtp_server(Relay(), certificate) as relay:
        await _channel(relay, certificate).send(
            _message(subject="", html="<p><strong>Alerte crue</strong> : évacuez</p>")
        )
    mail = _read(relay.received[0])
    assert mail["Subject"] == "Madame, Monsieur le maire,"
    assert mail.get_body(("html",)).get_content().strip() == (
        "<p><strong>Alerte crue</strong> : évacuez</p>"
    )


async def test_attachment_is_joined_when_provided(certificate):
    """The press release travels as a PDF attachment next to the text and HTML parts."""
    pdf = b"%PDF-1.4\n% communique de presse fictif\n%%EOF\n"

    def press_release(message: OutgoingMessage) -> list[Attachment]:
        return [Attachment("communique-crise-7.pdf", "application/pdf", pdf)]

    with smtp_server(Relay(), certificate) as relay:
        await _channel(relay, certificate, attachments=press_release).send(_message())
    mail = _read(relay.received[0])
    assert mail.get_content_type() == "multipart/mixed"
    attachments = list(mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["communique-crise-7.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == pdf
    assert "Évacuation préventive" in mail.get_body(("plain",)).get_content()
    assert "Évacuation préventive" in mail.get_body(("html",)).get_content()


async def test_server_without_starttls_is_refused_and_nothing_goes_out_in_clear(certificate):
    """No STARTTLS offered: no login, no envelope, a final refusal naming the reason."""
    with smtp_server(Relay(), None) as relay, pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate).send(_message())
    assert failure.value.retryable is False
    assert failure.value.ambiguous is False
    assert "ne propose pas STARTTLS" in failure.value.public_reason
    assert relay.auth_attempts == 0
    assert relay.mail_from == []
    assert relay.received == []


async def test_untrusted_certificate_is_refused(certificate):
    """Without the private CA, the self-signed certificate is rejected: nothing is sent."""
    with smtp_server(Relay(), certificate) as relay, pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, None).send(_message())
    assert failure.value.retryable is False
    assert "certificat" in failure.value.public_reason
    assert relay.received == []


async def test_wrong_password_is_final_and_tells_the_agent_to_send_by_hand(certificate):
    """535: the channel is down; retrying would not help."""
    with smtp_server(Relay(), certificate) as relay, pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate, password="mauvais-mot-de-passe").send(_message())
    assert failure.value.retryable is False
    assert failure.value.ambiguous is False
    reason = failure.value.public_reason
    assert "identifiants SMTP refusés" in reason
    assert "535" in reason
    assert "à la main" in reason
    assert "mauvais-mot-de-passe" not in reason
    assert relay.received == []


async def test_temporary_451_reply_is_retryable(certificate):
    """A 451 after DATA means the relay did not take the message: safe to try again."""
    relay = Relay(data_reply="451 4.3.0 Erreur locale, réessayer plus tard")
    with smtp_server(relay, certificate), pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate).send(_message())
    assert failure.value.retryable is True
    assert failure.value.ambiguous is False
    assert "451" in failure.value.public_reason


async def test_unknown_mailbox_550_is_final_and_the_reason_hides_the_address(certificate):
    """550 on RCPT: final; the agent reads the contact id, never the address."""
    relay = Relay(rcpt_reply=f"550 5.1.1 <{MAYOR_ADDRESS}>: boîte inconnue")
    with smtp_server(relay, certificate), pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate).send(_message())
    assert failure.value.retryable is False
    assert failure.value.ambiguous is False
    reason = failure.value.public_reason
    assert "550" in reason
    assert "maire-42218" in reason
    assert MAYOR_ADDRESS not in reason
    assert MAYOR_ADDRESS not in str(failure.value)
    assert "example.fr" not in reason
    assert relay.received == []


async def test_timeout_after_data_is_ambiguous(certificate):
    """The content left and no answer came: the message may be delivered, do not resend."""
    relay = Relay(data_delay=3.0)
    with smtp_server(relay, certificate), pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate, timeout_s=0.5).send(_message())
    assert failure.value.ambiguous is True
    assert failure.value.retryable is False
    assert "vérifier la boîte d'envoi" in failure.value.public_reason


async def test_connection_refused_is_retryable(certificate):
    """Nobody listening: nothing was sent, try again later."""
    relay = Relay(port=_free_port())
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(relay, certificate).send(_message())
    assert failure.value.retryable is True
    assert failure.value.ambiguous is False


async def test_lookup_never_claims_the_message_was_not_sent(certificate):
    """An SMTP relay has no memory to query: lookup leaves the decision to a human."""
    channel = _channel(Relay(port=1), certificate)
    with pytest.raises(DeliveryFailed) as failure:
        await channel.lookup(_message())
    assert failure.value.ambiguous is True
    assert failure.value.retryable is False
    assert failure.value.public_reason == (
        "envoi incertain : vérifier la boîte d'envoi avant de renvoyer"
    )

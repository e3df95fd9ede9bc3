"""E-mail channel configuration: settings, credentials from the environment, check_email."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from channels.base import (
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Recipient,
)
from channels.email import EmailChannel, SmtpCredentials, SmtpSettings, check_email
from crisis.clock import FakeClock

BASE = {"host": "smtp.example.fr", "from_address": "pref-communication@example.fr"}
T = datetime(2026, 3, 14, 8, 30, tzinfo=UTC)
AUTH = {"CRISIS_SMTP_USERNAME": "cod-loire", "CRISIS_SMTP_PASSWORD": "mot-de-passe-fictif"}


def test_defaults_are_starttls_on_587_with_certificate_checks():
    """The safe default: STARTTLS required, certificates verified."""
    settings = SmtpSettings(**BASE)
    assert (settings.port, settings.starttls, settings.implicit_tls) == (587, True, False)
    assert settings.validate_certs is True
    assert settings.from_name == "Préfecture"
    assert settings.timeout_s == 15


def test_implicit_tls_defaults_to_port_465_without_starttls():
    """implicit_tls alone picks port 465 and turns STARTTLS off."""
    settings = SmtpSettings(**BASE, implicit_tls=True)
    assert (settings.port, settings.starttls) == (465, False)


def test_starttls_and_implicit_tls_together_are_refused():
    """The two TLS modes exclude each other."""
    with pytest.raises(ValidationError, match="pas les deux"):
        SmtpSettings(**BASE, implicit_tls=True, starttls=True)


@pytest.mark.parametrize("field", ["from_address", "reply_to"])
@pytest.mark.parametrize("value", ["prefecture", "a@b", "nom <a@example.fr>", "é@example.fr"])
def test_malformed_addresses_are_refused_in_french(field, value):
    """Sender and reply-to must be plain ASCII addresses."""
    with pytest.raises(ValidationError, match=f"smtp.{field} : adresse de courriel mal formée"):
        SmtpSettings(**(BASE | {field: value}))


def test_credentials_are_optional_but_go_together():
    """No credentials: an open relay on the prefecture's network; one without the other: error."""
    assert not SmtpCredentials.from_env({}).configured
    assert SmtpCredentials.from_env(AUTH).configured
    with pytest.raises(ChannelConfigError, match="CRISIS_SMTP_PASSWORD"):
        SmtpCredentials.from_env({"CRISIS_SMTP_USERNAME": "cod-loire"})
    with pytest.raises(ChannelConfigError, match="CRISIS_SMTP_USERNAME"):
        SmtpCredentials.from_env({"CRISIS_SMTP_PASSWORD": "mot-de-passe-fictif"})


def test_credentials_repr_hides_them():
    """Neither the login nor the password shows in logs."""
    text = repr(SmtpCredentials.from_env(AUTH))
    assert "cod-loire" not in text
    assert "mot-de-passe-fictif" not in text


def test_password_without_encryption_is_refused_at_build_time():
    """A login over a clear connection would leak the password."""
    settings = SmtpSettings(**BASE, starttls=False, port=25)
    with pytest.raises(ChannelConfigError, match="en clair"):
        EmailChannel(settings, SmtpCredentials.from_env(AUTH), FakeClock(T))


def test_check_email_is_clean_for_a_sound_configuration():
    """Nothing to report: STARTTLS, both credentials, good addresses."""
    assert check_email(SmtpSettings(**BASE, reply_to="cod@example.fr"), AUTH) == []


def test_check_email_lists_problems_in_french(tmp_path: Path):
    """Clear text, disabled certificate checks, a missing CA file, half credentials."""
    settings = SmtpSettings(
        **BASE, starttls=False, port=25, validate_certs=False, ca_file=tmp_path / "absent.pem"
    )
    problems = check_email(settings, {"CRISIS_SMTP_USERNAME": "cod-loire"})
    joined = "\n".join(problems)
    assert "CRISIS_SMTP_PASSWORD" in joined
    assert "en clair" in joined
    assert "validate_certs" in joined
    assert "smtp.ca_file : fichier introuvable" in joined
    assert len(problems) == 4


def test_check_email_refuses_a_ca_file_that_is_not_a_certificate(tmp_path: Path):
    """A private CA file must be PEM."""
    bad = tmp_path / "ac.pem"
    bad.write_text("pas un certificat", encoding="utf-8")
    problems = check_email(SmtpSettings(**BASE, ca_file=bad), {})
    assert problems and "smtp.ca_file" in problems[0]


async def test_invalid_recipient_address_is_final_and_names_only_the_contact():
    """A malformed directory address is refused before any connection."""
    channel = EmailChannel(SmtpSettings(**BASE), SmtpCredentials(), FakeClock(T))
    message = OutgoingMessage(
        idempotency_key="k",
        channel=ChannelName.EMAIL,
        recipient=Recipient(contact_id="maire-42147", address="maire montbrison@example.fr"),
        body="Message",
    )
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(message)
    assert failure.value.retryable is False
    assert "maire-42147" in failure.value.public_reason
    assert "montbrison" not in failure.value.public_reason

"""The switchboard's announcement (ChannelName.STANDARD) against the project's fake Twilio on
127.0.0.1: sending stores the text and points the switchboard number at the orchestrator,
keeping the FIRST configuration; withdrawing restores it exactly; Twilio's refusals become
DeliveryFailed with the retry mapping of the channels."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Recipient,
)
from channels.switchboard import (
    STANDARD_PATH,
    SwitchboardChannel,
    SwitchboardSettings,
    check_switchboard,
)
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
)
from channels.twilio_numbers import TwilioNumbers
from tests.fakes.twilio_fake import FakeNumber, FakeTwilio, Fault

ACCOUNT = "AC" + "c" * 32
TOKEN = "fake-token"
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN}
NUMBER = "+33199000050"  # ARCEP fiction range: the switchboard's Twilio number
FORWARD = "+33199000051"  # the usual standard
DIGITS = "199000050"
BASE = "https://crise.example.fr"
ORIGINAL = "https://standard.example.fr/accueil"
NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


class StepClock:
    """A TimeSource that moves one minute per reading."""

    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at

    async def sleep(self, seconds: float) -> None:
        return None


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    twilio = FakeTwilio(ACCOUNT, TOKEN, now=lambda: NOW)
    with twilio.running():
        yield twilio


def _number(fake: FakeTwilio, **routing: str | None) -> FakeNumber:
    values: dict[str, str | None] = {
        "voice_url": ORIGINAL,
        "voice_method": "GET",
        "voice_fallback_url": "https://standard.example.fr/secours",
        **routing,
    }
    return fake.add_number(NUMBER, **values)


def _channel(fake: FakeTwilio, state_dir: Path, timeout_s: float = 5.0) -> SwitchboardChannel:
    twilio = TwilioSettings(api_base_url=fake.base_url, timeout_s=timeout_s)
    numbers = TwilioNumbers(twilio, TwilioCredentials.from_env(ENV))
    settings = SwitchboardSettings(number=NUMBER, forward_to=FORWARD, state_dir=state_dir)
    return SwitchboardChannel(settings, numbers, BASE, StepClock())


def _message(key: str, body: str, crisis_id: str = "20261123-0210-inondation") -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        channel=ChannelName.STANDARD,
        recipient=Recipient(contact_id="standard", address="standard"),
        body=body,
        crisis_id=crisis_id,
    )


def _routing(number: FakeNumber) -> tuple[object, ...]:
    return (
        number.voice_url,
        number.voice_method,
        number.voice_fallback_url,
        number.voice_fallback_method,
        number.status_callback,
        number.status_callback_method,
        number.voice_application_sid,
    )


FIRST = "Inondation en cours : la préfecture ouvre le numéro unique 04 65 71 42 42."
SECOND = "Crue de la Loire : évitez les déplacements, numéro unique 04 65 71 42 42."


async def test_send_points_the_number_at_the_standard_route_and_stores_the_text(fake, tmp_path):
    """The number now asks /webhooks/twilio/standard (POST); the state holds the text, key and
    crisis; the receipt carries the number's sid; the route's source says the text."""
    number = _number(fake)
    channel = _channel(fake, tmp_path)
    assert isinstance(channel, Channel)
    receipt = await channel.send(_message("k1", FIRST))
    assert (number.voice_url, number.voice_method) == (BASE + STANDARD_PATH, "POST")
    assert number.voice_fallback_url == "https://standard.example.fr/secours"
    assert receipt.provider_id.startswith(number.sid + ":")
    state = json.loads((tmp_path / "standard.json").read_text(encoding="utf-8"))
    [announcement] = state["announcements"].values()
    assert announcement["text"] == FIRST
    assert announcement["idempotency_key"] == "k1"
    assert announcement["crisis_id"] == "20261123-0210-inondation"
    assert state["previous"]["voice_url"] == ORIGINAL
    assert channel.current_announcement() == FIRST
    assert await channel.lookup(_message("k1", FIRST)) == receipt
    assert await channel.lookup(_message("k-inconnue", FIRST)) is None


async def test_a_second_announcement_keeps_the_first_previous_configuration(fake, tmp_path):
    """The second send finds our own URL: nothing written, the stored previous config is still
    the switchboard's; the newest text is said; withdraw restores exactly."""
    number = _number(fake)
    before = _routing(number)
    channel = _channel(fake, tmp_path)
    await channel.send(_message("k1", FIRST))
    await channel.send(_message("k2", SECOND))
    assert len(fake.number_updates) == 1
    state = json.loads((tmp_path / "standard.json").read_text(encoding="utf-8"))
    assert state["previous"]["voice_url"] == ORIGINAL
    assert channel.current_announcement() == SECOND

    assert await channel.withdraw("20261123-0210-inondation") is True
    assert _routing(number) == before
    assert channel.current_announcement() is None
    assert await channel.lookup(_message("k2", SECOND)) is not None  # it was said


async def test_withdraw_is_idempotent_and_ignores_other_crises(fake, tmp_path):
    """Another crisis's withdrawal changes nothing; withdrawing twice writes once."""
    number = _number(fake)
    channel = _channel(fake, tmp_path)
    await channel.send(_message("k1", FIRST))
    assert await channel.withdraw("20261124-0900-autre") is False
    assert number.voice_url == BASE + STANDARD_PATH
    assert channel.current_announcement() == FIRST
    assert await channel.withdraw("20261123-0210-inondation") is True
    assert await channel.withdraw("20261123-0210-inondation") is False
    assert len(fake.number_updates) == 2  # point, restore
    assert number.voice_url == ORIGINAL


async def test_two_crises_the_number_is_restored_when_the_last_one_withdraws(fake, tmp_path):
    """Two announcements: the newest is said; withdrawing it falls back on the other; the
    number is restored only after the last one."""
    number = _number(fake)
    channel = _channel(fake, tmp_path)
    await channel.send(_message("a1", FIRST, "A"))
    await channel.send(_message("b1", SECOND, "B"))
    assert channel.current_announcement() == SECOND
    assert await channel.withdraw("B") is False
    assert channel.current_announcement() == FIRST
    assert number.voice_url == BASE + STANDARD_PATH
    assert await channel.withdraw("A") is True
    assert number.voice_url == ORIGINAL


async def test_the_state_survives_a_new_channel(fake, tmp_path):
    """A restart (new channel object on the same folder) still restores the switchboard."""
    number = _number(fake)
    before = _routing(number)
    await _channel(fake, tmp_path).send(_message("k1", FIRST))
    again = _channel(fake, tmp_path)
    assert again.current_announcement() == FIRST
    assert await again.withdraw("20261123-0210-inondation") is True
    assert _routing(number) == before


async def test_rate_limit_is_retryable_and_keeps_the_previous_configuration(fake, tmp_path):
    """429 on the update: DeliveryFailed retryable, French, about the switchboard; the retry
    works and the restore gives back the original (kept before the failed change)."""
    number = _number(fake)
    channel = _channel(fake, tmp_path)
    fake.script("numbers.update", Fault.too_many_requests())
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message("k1", FIRST))
    assert failure.value.retryable and not failure.value.ambiguous
    assert failure.value.public_reason.startswith("standard téléphonique : ")
    assert "numéro du standard" in failure.value.public_reason
    assert "numéro unique" not in failure.value.public_reason
    assert await channel.lookup(_message("k1", FIRST)) is None
    await channel.send(_message("k1", FIRST))
    await channel.withdraw("20261123-0210-inondation")
    assert number.voice_url == ORIGINAL


async def test_an_update_without_answer_is_ambiguous_and_restore_still_exact(fake, tmp_path):
    """Accepted then no answer: ambiguous (and retryable: an update is idempotent); the key is
    not stored so lookup says "not said"; the original config is still what comes back."""
    number = _number(fake)
    before = _routing(number)
    channel = _channel(fake, tmp_path, timeout_s=0.5)
    fake.script("numbers.update", Fault.accept_then_hang(3.0))
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message("k1", FIRST))
    assert failure.value.ambiguous
    assert number.voice_url == BASE + STANDARD_PATH  # applied at Twilio
    assert await channel.lookup(_message("k1", FIRST)) is None
    await channel.send(_message("k1", FIRST))
    assert await channel.withdraw("20261123-0210-inondation") is True
    assert _routing(number) == before


async def test_refused_credentials_are_final(fake, tmp_path):
    """401: not retryable, tells to act by hand, no digits of the number."""
    _number(fake)
    twilio = TwilioSettings(api_base_url=fake.base_url, timeout_s=5)
    wrong = TwilioCredentials.from_env({ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "mauvais"})
    settings = SwitchboardSettings(number=NUMBER, forward_to=FORWARD, state_dir=tmp_path)
    channel = SwitchboardChannel(settings, TwilioNumbers(twilio, wrong), BASE, StepClock())
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message("k1", FIRST))
    assert not failure.value.retryable and not failure.value.ambiguous
    assert "compte Twilio refusé" in failure.value.public_reason
    assert DIGITS not in str(failure.value)


async def test_a_restore_refused_keeps_the_configuration_for_a_retry(fake, tmp_path):
    """The restore hits a 503: DeliveryFailed retryable; calling withdraw again finishes it."""
    number = _number(fake)
    channel = _channel(fake, tmp_path)
    await channel.send(_message("k1", FIRST))
    fake.script("numbers.update", Fault.server_error(503, accepted=False))
    with pytest.raises(DeliveryFailed) as failure:
        await channel.withdraw("20261123-0210-inondation")
    assert failure.value.retryable
    assert number.voice_url == BASE + STANDARD_PATH
    assert channel.current_announcement() is None  # nothing said meanwhile: just forwarded
    assert await channel.withdraw("20261123-0210-inondation") is True
    assert number.voice_url == ORIGINAL


async def test_connection_refused_is_retryable(fake, tmp_path):
    """Twilio unreachable: retryable, nothing stored."""
    _number(fake)
    channel = _channel(fake, tmp_path)
    fake.stop()
    try:
        with pytest.raises(DeliveryFailed) as failure:
            await channel.send(_message("k1", FIRST))
    finally:
        fake.start()
    assert failure.value.retryable
    assert channel.current_announcement() is None


async def test_an_unwritable_state_folder_is_a_final_french_failure(fake, tmp_path):
    """The state folder is a file: DeliveryFailed naming the file, nothing changed at Twilio."""
    number = _number(fake)
    blocker = tmp_path / "bloque"
    blocker.write_text("x", encoding="utf-8")
    channel = _channel(fake, blocker)
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message("k1", FIRST))
    assert not failure.value.retryable
    assert "standard téléphonique" in failure.value.public_reason
    assert number.voice_url == ORIGINAL


async def test_no_phone_number_reaches_the_logs(fake, tmp_path, caplog):
    """Sending and withdrawing log sids and crisis ids, never the number."""
    _number(fake)
    channel = _channel(fake, tmp_path)
    with caplog.at_level(logging.DEBUG):
        await channel.send(_message("k1", FIRST))
        await channel.withdraw("20261123-0210-inondation")
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]
    assert ours
    assert all(DIGITS not in r.getMessage() for r in ours)


def test_construction_requires_number_folder_and_https(tmp_path):
    """Missing number or folder, or a public http URL: ChannelConfigError in French."""
    twilio = TwilioSettings()
    numbers = TwilioNumbers(twilio, TwilioCredentials.from_env(ENV))
    with pytest.raises(ChannelConfigError, match=r"standard\.number"):
        SwitchboardChannel(SwitchboardSettings(state_dir=tmp_path), numbers, BASE, StepClock())
    with pytest.raises(ChannelConfigError, match=r"standard\.state_dir"):
        SwitchboardChannel(SwitchboardSettings(number=NUMBER), numbers, BASE, StepClock())
    settings = SwitchboardSettings(number=NUMBER, state_dir=tmp_path)
    with pytest.raises(ChannelConfigError, match="https"):
        SwitchboardChannel(settings, numbers, "http://crise.example.fr", StepClock())


def test_settings_refuse_malformed_numbers():
    """Not E.164, or not a real number: refused with the setting's name."""
    with pytest.raises(ValueError, match=r"standard\.number"):
        SwitchboardSettings(number="04 65 71 42 42")
    with pytest.raises(ValueError, match=r"standard\.forward_to"):
        SwitchboardSettings(forward_to="+3312")
    with pytest.raises(ValueError, match="extra"):
        SwitchboardSettings(numero=NUMBER)  # type: ignore[call-arg]


def test_check_reports_missing_pieces_in_french(tmp_path):
    """Nothing configured: number, forward_to, state_dir, credentials and public URL flagged;
    a complete configuration has no problem; a loop is flagged."""
    problems = check_switchboard(SwitchboardSettings(), TwilioSettings(), {})
    for word in ("standard.number", "standard.forward_to", "standard.state_dir", ENV_ACCOUNT_SID):
        assert any(word in p for p in problems), word
    assert any("public_base_url" in p for p in problems)
    ok = SwitchboardSettings(number=NUMBER, forward_to=FORWARD, state_dir=tmp_path)
    assert check_switchboard(ok, TwilioSettings(public_base_url=BASE), ENV) == []
    loop = ok.model_copy(update={"forward_to": NUMBER})
    assert any("boucle" in p for p in check_switchboard(loop, TwilioSettings(), ENV))

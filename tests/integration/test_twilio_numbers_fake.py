"""The numéro unique against the project's fake Twilio on 127.0.0.1: activation points it at
the orchestrator, closing puts back exactly what was there, both can be repeated, and every
failure is a French, number-free NumberConfigError with the retry mapping of the channels."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from channels.base import DeliveryFailed
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
)
from channels.twilio_numbers import (
    NumberConfig,
    NumberConfigError,
    TwilioNumbers,
    check_hotline_number,
)
from tests.fakes.twilio_fake import FakeNumber, FakeTwilio, Fault

ACCOUNT = "AC" + "c" * 32
TOKEN = "fake-token"
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN}
NUMBER = "+33199000042"  # ARCEP fiction range
OTHER = "+33199000043"
DIGITS = "199000042"
CIP_URL = "https://crise.example.fr/webhooks/twilio/cip/voice"
STANDARD = "https://standard.example.fr/accueil"
NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """The fake Twilio, owning the numéro unique routed to the prefecture's switchboard."""
    twilio = FakeTwilio(ACCOUNT, TOKEN, now=lambda: NOW)
    with twilio.running():
        yield twilio


def _number(fake: FakeTwilio, **routing: str | None) -> FakeNumber:
    values: dict[str, str | None] = {
        "voice_url": STANDARD,
        "voice_method": "GET",
        "voice_fallback_url": "https://standard.example.fr/secours",
        "status_callback": "https://standard.example.fr/suivi",
        **routing,
    }
    return fake.add_number(NUMBER, **values)


def _numbers(fake: FakeTwilio, timeout_s: float = 5.0) -> TwilioNumbers:
    settings = TwilioSettings(api_base_url=fake.base_url, timeout_s=timeout_s)
    return TwilioNumbers(settings, TwilioCredentials.from_env(ENV))


def _routing(number: FakeNumber) -> tuple[object, ...]:
    return (
        number.voice_url,
        number.voice_method,
        number.voice_fallback_url,
        number.voice_fallback_method,
        number.status_callback,
        number.status_callback_method,
        number.voice_application_sid,
        number.trunk_sid,
    )


async def test_current_reads_the_number_and_ignores_partial_matches(fake):
    """The list filter matches partial numbers: only the exact number is taken."""
    fake.add_number("+33199000041", voice_url="https://autre.example.fr/")
    number = _number(fake)
    config = await _numbers(fake).current(NUMBER)
    assert config.sid == number.sid
    assert config.voice_url == STANDARD and config.voice_method == "GET"
    assert config.voice_application_sid is None and config.trunk_sid is None


async def test_a_number_the_account_does_not_own_is_refused_without_quoting_it(fake):
    """Not in the account: a final French error saying "le numéro unique", no digits."""
    _number(fake)
    with pytest.raises(NumberConfigError) as failure:
        await _numbers(fake).current(OTHER)
    assert not failure.value.retryable
    assert "le numéro unique n'appartient pas" in failure.value.public_reason
    assert "199000043" not in str(failure.value)


async def test_point_to_then_restore_gives_back_exactly_the_previous_routing(fake):
    """Activation changes the voice URL (POST) and returns the old routing; closing restores it
    field for field, clearing what we had set."""
    number = _number(fake, status_callback=None)
    before = _routing(number)
    numbers = _numbers(fake)
    previous = await numbers.point_to(NUMBER, CIP_URL, status_callback=f"{CIP_URL}/status")
    assert previous.voice_url == STANDARD and previous.status_callback is None
    assert (number.voice_url, number.voice_method) == (CIP_URL, "POST")
    assert number.status_callback == f"{CIP_URL}/status"
    assert number.voice_fallback_url == "https://standard.example.fr/secours"  # untouched

    stored = NumberConfig.model_validate(previous.model_dump(mode="json"))  # as a row would
    assert await numbers.restore(stored) is True
    assert _routing(number) == before
    assert fake.number_updates[-1] == {
        "VoiceUrl": STANDARD,
        "VoiceMethod": "GET",
        "StatusCallback": "",
    }


async def test_point_to_twice_writes_once_and_the_first_previous_stays_valid(fake):
    """A repeated activation writes nothing and returns the current (already pointed) config;
    restoring the first one still gives back the switchboard."""
    number = _number(fake)
    numbers = _numbers(fake)
    first = await numbers.point_to(NUMBER, CIP_URL)
    again = await numbers.point_to(NUMBER, CIP_URL)
    assert len(fake.number_updates) == 1
    assert again.points_to(CIP_URL) and not first.points_to(CIP_URL)
    await numbers.restore(first)
    assert number.voice_url == STANDARD


async def test_restore_twice_writes_once(fake):
    """Closing again once restored changes nothing (False, no request)."""
    _number(fake)
    numbers = _numbers(fake)
    previous = await numbers.point_to(NUMBER, CIP_URL)
    assert await numbers.restore(previous) is True
    assert await numbers.restore(previous) is False
    assert len(fake.number_updates) == 2


async def test_an_application_in_front_of_the_urls_is_removed_then_put_back(fake):
    """A TwiML App makes Twilio ignore voice_url: activation clears it, closing restores it."""
    app = "AP" + "d" * 32
    number = _number(fake, voice_application_sid=app, voice_url=None)
    numbers = _numbers(fake)
    previous = await numbers.point_to(NUMBER, CIP_URL)
    assert previous.voice_application_sid == app and previous.voice_url is None
    assert number.voice_application_sid is None and number.voice_url == CIP_URL
    await numbers.restore(previous)
    assert number.voice_application_sid == app and number.voice_url is None


async def test_a_number_on_a_sip_trunk_is_left_alone(fake):
    """Routed by the switchboard's trunk: refused, for the administrator, nothing written."""
    _number(fake, trunk_sid="TK" + "e" * 32)
    with pytest.raises(NumberConfigError) as failure:
        await _numbers(fake).point_to(NUMBER, CIP_URL)
    assert "trunk SIP" in failure.value.public_reason and not failure.value.retryable
    assert fake.number_updates == []


async def test_rate_limit_is_retryable_and_a_second_try_succeeds(fake):
    """429 on the update: retryable; the next point_to goes through and returns the original."""
    number = _number(fake)
    fake.script("numbers.update", Fault.too_many_requests())
    numbers = _numbers(fake)
    with pytest.raises(NumberConfigError) as failure:
        await numbers.point_to(NUMBER, CIP_URL)
    assert failure.value.retryable and not failure.value.ambiguous
    assert failure.value.previous is not None and failure.value.previous.voice_url == STANDARD
    assert isinstance(failure.value, DeliveryFailed)
    previous = await numbers.point_to(NUMBER, CIP_URL)
    assert previous.voice_url == STANDARD and number.voice_url == CIP_URL


async def test_a_refused_list_request_is_mapped_on_its_status(fake):
    """The SDK reports a refused list page as a bare exception: 429 still reads as a retry."""
    _number(fake)
    fake.script("numbers.list", Fault.too_many_requests())
    with pytest.raises(NumberConfigError) as failure:
        await _numbers(fake).current(NUMBER)
    assert failure.value.retryable
    assert "limite le débit" in failure.value.public_reason


async def test_an_update_without_answer_is_ambiguous_and_keeps_the_previous_config(fake):
    """Accepted, then no answer in time: ambiguous but safe to retry; the error carries the
    routing to restore (the retry would otherwise see our URL as the "previous" one)."""
    number = _number(fake)
    fake.script("numbers.update", Fault.accept_then_hang(3.0))
    numbers = _numbers(fake, timeout_s=0.5)
    with pytest.raises(NumberConfigError) as failure:
        await numbers.point_to(NUMBER, CIP_URL)
    assert failure.value.ambiguous and failure.value.retryable  # an update is idempotent
    assert "la modification a peut-être été faite" in failure.value.public_reason
    assert number.voice_url == CIP_URL  # it was applied
    kept = failure.value.previous
    assert kept is not None and kept.voice_url == STANDARD
    assert (await numbers.point_to(NUMBER, CIP_URL)).points_to(CIP_URL)
    assert await numbers.restore(kept) is True
    assert number.voice_url == STANDARD


async def test_refused_credentials_are_final_and_tell_to_act_by_hand(fake):
    """A wrong token: 401, not retryable, the administrator sets the number by hand."""
    _number(fake)
    settings = TwilioSettings(api_base_url=fake.base_url, timeout_s=5)
    wrong = TwilioCredentials.from_env({ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "mauvais"})
    with pytest.raises(NumberConfigError) as failure:
        await TwilioNumbers(settings, wrong).current(NUMBER)
    reason = failure.value.public_reason
    assert not failure.value.retryable and not failure.value.ambiguous
    assert reason.startswith("lecture du numéro unique impossible : compte Twilio refusé")
    assert "console Twilio" in reason


async def test_a_read_without_answer_is_retryable_not_ambiguous(fake):
    """A list request that times out changed nothing: retry, no ambiguity."""
    _number(fake)
    fake.script("numbers.list", Fault.latency(3.0))
    with pytest.raises(NumberConfigError) as failure:
        await _numbers(fake, timeout_s=0.5).current(NUMBER)
    assert failure.value.retryable and not failure.value.ambiguous
    assert failure.value.public_reason.endswith("nouvel essai sans risque")


async def test_connection_refused_is_retryable(fake):
    """Twilio unreachable before anything was sent: safe to try again."""
    _number(fake)
    numbers = _numbers(fake)
    fake.stop()
    try:
        with pytest.raises(NumberConfigError) as failure:
            await numbers.point_to(NUMBER, CIP_URL)
    finally:
        fake.start()
    assert failure.value.retryable


async def test_restore_of_a_number_that_changed_sid_is_refused(fake):
    """The number was released and bought again: nothing restored blindly."""
    _number(fake)
    numbers = _numbers(fake)
    previous = await numbers.point_to(NUMBER, CIP_URL)
    stale = previous.model_copy(update={"sid": "PN" + "0" * 32})
    with pytest.raises(NumberConfigError, match="changé d'identifiant"):
        await numbers.restore(stale)


async def test_bad_urls_and_numbers_are_refused_before_any_request(fake):
    """Plain http to a public host, or a number that is not E.164: no request at all."""
    _number(fake)
    numbers = _numbers(fake)
    with pytest.raises(NumberConfigError, match="https"):
        await numbers.point_to(NUMBER, "http://crise.example.fr/webhooks/twilio/cip/voice")
    with pytest.raises(NumberConfigError, match=r"E\.164"):
        await numbers.current("01 99 00 00 42")
    assert fake.served == []


async def test_no_phone_number_reaches_the_logs(fake, caplog):
    """Pointing and restoring log the sid, never the number (urllib3's DEBUG request lines,
    which quote every URL, are left to the logging configuration)."""
    _number(fake)
    numbers = _numbers(fake)
    with caplog.at_level(logging.DEBUG):
        previous = await numbers.point_to(NUMBER, CIP_URL)
        await numbers.restore(previous)
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]
    assert [r.name for r in ours] == ["channels.twilio_numbers"] * 2
    assert all(DIGITS not in record.getMessage() for record in ours)
    assert all(DIGITS not in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


def test_check_reports_missing_pieces_in_french_without_requests():
    """No number, no credentials, no public URL: three French problems."""
    problems = check_hotline_number(TwilioSettings(), None, {})
    assert any("numéro unique de la CIP non configuré" in p for p in problems)
    assert any(ENV_ACCOUNT_SID in p for p in problems)
    assert any("public_base_url" in p for p in problems)
    ok = TwilioSettings(public_base_url="https://crise.example.fr")
    assert check_hotline_number(ok, NUMBER, ENV) == []

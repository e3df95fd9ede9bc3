"""The Twilio channels' async path against the project's fake Twilio on 127.0.0.1: sends are in
flight together far beyond the old thread pool's 6, the aiohttp session follows the event loop
that uses it, and closing it at shutdown leaves nothing open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from channels.base import ChannelName, OutgoingMessage, Recipient
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
    make_client,
)
from channels.twilio_numbers import TwilioNumbers
from channels.twilio_sms import TwilioSmsChannel
from channels.twilio_voice import TwilioVoiceChannel
from crisis.clock import FakeClock
from tests.fakes.twilio_fake import FakeTwilio, Fault

ACCOUNT = "AC" + "d" * 32
TOKEN = "jeton-de-test-pas-un-secret"
CREDS = TwilioCredentials.from_env({ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN})
NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
THREAD_POOL = 6  # what asyncio.to_thread ran at once on a 2-core machine (min(32, cores + 4))
AT_ONCE = 40
LATENCY_S = 1.0  # each answer held this long: all requests must be in flight together


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT, TOKEN, now=lambda: NOW).running() as api:
        yield api


def _settings(fake: FakeTwilio) -> TwilioSettings:
    return TwilioSettings(
        api_base_url=fake.base_url,
        public_base_url="https://crise.example.fr",
        voice_from="+33199000001",
        sms_sender="PREF42",
        timeout_s=10,
    )


def _message(channel: ChannelName, i: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"crise-1/alerte/c-{i}/{channel.value}",
        channel=channel,
        recipient=Recipient(contact_id=f"c-{i}", address=f"+336399{i:05d}"),
        body="Crue : évacuez les berges.",
    )


@pytest.mark.parametrize(
    ("kind", "route"),
    [(TwilioSmsChannel, "messages.create"), (TwilioVoiceChannel, "calls.create")],
    ids=["sms", "voice"],
)
async def test_sends_are_in_flight_at_once_beyond_the_old_thread_pool(fake, kind, route):
    """40 sends started together, each answered after a latency: the fake sees all 40 at
    once (the thread pool let 6 through), each accepted once."""
    fake.script(route, *[Fault.latency(LATENCY_S)] * AT_ONCE)
    channel = kind(_settings(fake), CREDS, FakeClock(NOW), connections=AT_ONCE)
    messages = [_message(channel.name, i) for i in range(AT_ONCE)]
    try:
        receipts = await asyncio.gather(*map(channel.send, messages))
    finally:
        await channel.aclose()
    assert fake.peak_in_flight == AT_ONCE > THREAD_POOL
    assert len({r.provider_id for r in receipts}) == AT_ONCE
    assert len(fake.answered(route, 201)) == AT_ONCE
    assert fake.pending_faults(route) == 0


async def test_requests_reuse_the_session_until_aclose(fake):
    """One session for the channel's requests (kept-alive connections); aclose closes it and
    a later send opens a new one."""
    client = make_client(_settings(fake), CREDS)
    channel = TwilioSmsChannel(
        _settings(fake), CREDS, FakeClock(NOW), client_factory=lambda: client
    )
    session = client.http_client.session
    assert session.opened is None  # nothing is opened before the first request, in its loop
    await channel.send(_message(ChannelName.SMS, 1))
    first = session.opened
    await channel.send(_message(ChannelName.SMS, 2))
    assert first is not None and session.opened is first
    await channel.aclose()
    assert session.opened is None and first.closed
    await channel.send(_message(ChannelName.SMS, 3))
    assert session.opened not in {None, first}
    await channel.aclose()
    assert len(fake.messages) == 3


def test_a_channel_works_in_successive_event_loops(fake):
    """A CLI command runs its own loop: the session is made again in the next one."""
    channel = TwilioSmsChannel(_settings(fake), CREDS, FakeClock(NOW))
    for i in range(2):
        asyncio.run(channel.send(_message(ChannelName.SMS, i)))
    asyncio.run(channel.aclose())
    assert len(fake.messages) == 2


def test_number_operations_leave_no_session_open(fake):
    """The numéro unique's operations close their session when done: a CLI command (its own
    event loop) leaves nothing open, and the next one works in a new loop."""
    fake.add_number("+33199000042", voice_url="https://standard.example.fr/accueil")
    settings = TwilioSettings(api_base_url=fake.base_url)
    client = make_client(settings, CREDS)
    numbers = TwilioNumbers(settings, CREDS, client_factory=lambda: client)
    session = client.http_client.session
    previous = asyncio.run(numbers.point_to("+33199000042", "https://crise.example.fr/cip"))
    assert session.opened is None
    assert fake.numbers[0].voice_url == "https://crise.example.fr/cip"
    assert asyncio.run(numbers.restore(previous))
    assert session.opened is None
    assert fake.numbers[0].voice_url == "https://standard.example.fr/accueil"

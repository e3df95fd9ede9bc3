"""Faults of the SMS provider, end to end: the real dispatcher and the real Twilio SMS channel
(built by bootstrap.build) against a fake Twilio API on 127.0.0.1 that misbehaves on cue.

For every fault: nothing is lost (each SMS row ends sent or delivered, or failed/unknown with a
journaled reason) and nothing reaches a phone twice (the fake records each (To, Body) once),
unless the provider has no trace of the first attempt, in which case it is sent exactly once more.
Status callbacks come back over HTTP, signed, out of order and twice.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest

from channels.base import ChannelName
from channels.twilio_common import ENV_ACCOUNT_SID, ENV_AUTH_TOKEN
from crisis.bootstrap import App, build
from crisis.clock import FakeClock
from crisis.model import DeliveryAttempted, OutboxItem, OutboxState
from crisis.outbox import REPORTED_REASON, to_outgoing
from crisis.settings import Settings
from crisis.web import serve_web
from tests.fakes.twilio_fake import FakeTwilio, Fault
from tests.integration.helpers import activate, journal, of_type

ACCOUNT = "AC" + "a" * 32
TOKEN = "jeton-de-test-pas-un-secret"
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN}
TIMEOUT_S = 1.5  # the SDK's real-time HTTP timeout (loose enough for a loaded CI machine)
HANG_S = 6.0  # an answer held back well beyond it (released when the fake stops)
CREATE = "messages.create"
LIST = "messages.list"
SETTLED = {OutboxState.SENT, OutboxState.DELIVERED}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeTwilio]:
    """The fake Twilio API, stamping messages with the orchestrator's clock."""
    with FakeTwilio(ACCOUNT, TOKEN, now=clock.now).running() as api:
        yield api


@pytest.fixture
def web_base() -> str:
    """The orchestrator's public base URL: its webhooks server on 127.0.0.1."""
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture
def twilio_channels() -> tuple[ChannelName, ...]:
    """The channels on Twilio (a test may parametrize this name to add voice)."""
    return (ChannelName.SMS,)


@pytest.fixture
def twilio_app(
    settings: Settings,
    clock: FakeClock,
    fake: FakeTwilio,
    web_base: str,
    twilio_channels: tuple[ChannelName, ...],
) -> Iterator[App]:
    """The orchestrator through bootstrap.build, SMS on Twilio (the fake), the rest simulated."""
    channels = dict(settings.channels)
    for name in twilio_channels:
        channels[name] = channels[name].model_copy(update={"provider": "twilio"})
    configured = settings.model_copy(
        update={
            "channels": channels,
            "sections": {
                "twilio": {
                    "api_base_url": fake.base_url,
                    "public_base_url": web_base,
                    "sms_sender": "PREF42",
                    "voice_from": "+33199000001",
                    "timeout_s": TIMEOUT_S,
                },
            },
        }
    )
    app = build(configured, clock=clock, env=ENV)
    yield app
    app.close()


@pytest.fixture
async def web(twilio_app: App, web_base: str) -> AsyncIterator[str]:
    """The webhooks server (uvicorn) on the public base URL, in this event loop."""
    port = int(web_base.rsplit(":", 1)[1])
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_web(
            twilio_app,
            stop,
            host="127.0.0.1",
            port=port,
            twilio_auth_token=TOKEN,
            public_base_url=web_base,
        )
    )
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        break
    else:
        pytest.fail("the webhooks server did not start")
    yield web_base
    stop.set()
    await asyncio.wait_for(server, timeout=10)


# --- helpers ------------------------------------------------------------------------------------


async def _settle(app: App, clock: FakeClock, rounds: int = 5) -> None:
    """Dispatch, letting a minute of clock time pass between rounds so that retries fall due;
    each round starts with the look-up of rows left unknown (Dispatcher.recover)."""
    for _ in range(rounds):
        await app.dispatcher.drain()
        clock.advance(60)


def _sms_rows(app: App, crisis_id: str) -> list[OutboxItem]:
    with app.store.transaction() as tx:
        rows = tx.in_states(list(OutboxState))
    return [
        r for r in rows if r.message.crisis_id == crisis_id and r.message.channel == ChannelName.SMS
    ]


def _attempts(app: App, crisis_id: str, key: str) -> list[DeliveryAttempted]:
    facts = [e.fact for e in of_type(journal(app, crisis_id), "DeliveryAttempted")]
    return [f for f in facts if isinstance(f, DeliveryAttempted) and f.outbox_key == key]


def _outcomes(app: App, crisis_id: str, key: str) -> list[str]:
    return [a.outcome for a in _attempts(app, crisis_id, key)]


def _body_sent(app: App, row: OutboxItem) -> str:
    """The text the SMS channel sends for a row (the fake records that)."""
    channel = app.channels[ChannelName.SMS]
    return str(channel.body_of(to_outgoing(row.message)))  # type: ignore[attr-defined]


def _assert_nothing_lost_nor_doubled(app: App, crisis_id: str, fake: FakeTwilio) -> None:
    """Every SMS row settled (or stopped with a journaled reason); no (To, Body) twice."""
    rows = _sms_rows(app, crisis_id)
    assert rows, "the activation queued no SMS"
    for row in rows:
        if row.state in SETTLED:
            assert row.provider_id, row.message.idempotency_key
            continue
        assert row.state in {OutboxState.FAILED, OutboxState.UNKNOWN}, row
        last = _attempts(app, crisis_id, row.message.idempotency_key)[-1]
        assert last.outcome in {"failed", "unknown"} and last.reason, last
    sent = fake.sent()
    assert all(n == 1 for n in sent.values()), sent
    recorded = {m.sid for m in fake.messages}
    settled = [r for r in rows if r.state in SETTLED]
    assert {r.provider_id for r in settled} <= recorded
    assert Counter((r.message.address, _body_sent(app, r)) for r in settled) == sent


# --- sends --------------------------------------------------------------------------------------


async def test_latency_within_the_timeout_sends_each_sms_once(twilio_app, clock, fake):
    """A slow but timely answer is an ordinary send: sent, once, first time."""
    fake.script(CREATE, Fault.latency(TIMEOUT_S / 4), Fault.latency(TIMEOUT_S / 4))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=1)
    rows = _sms_rows(twilio_app, crisis_id)
    assert len(rows) == 2 and fake.pending_faults(CREATE) == 0
    assert all(r.state == OutboxState.SENT for r in rows)
    assert [_outcomes(twilio_app, crisis_id, r.message.idempotency_key) for r in rows] == [
        ["sent"],
        ["sent"],
    ]
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_burst_of_429_is_retried_later_then_sent_once(twilio_app, clock, fake):
    """Three 429 in a row: each refused send is retried after the backoff, then goes out once."""
    fake.script(CREATE, *[Fault.too_many_requests(retry_after=1)] * 3)
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock)
    assert len(fake.answered(CREATE, 429)) == 3
    for row in _sms_rows(twilio_app, crisis_id):
        attempts = _attempts(twilio_app, crisis_id, row.message.idempotency_key)
        outcomes = [a.outcome for a in attempts]
        assert outcomes[0] == "retry" and outcomes[-1] == "sent", outcomes
        assert set(outcomes[:-1]) == {"retry"}
        assert all("429" in a.reason for a in attempts[:-1])
        assert row.state == OutboxState.SENT
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)
    assert sum(fake.sent().values()) == 2


async def test_503_is_retried_and_sent_once(twilio_app, clock, fake):
    """Twilio unavailable (503, nothing created): retried, not looked up, sent once."""
    fake.script(CREATE, Fault.server_error(503, accepted=False))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock)
    outcomes = sorted(
        _outcomes(twilio_app, crisis_id, r.message.idempotency_key)
        for r in _sms_rows(twilio_app, crisis_id)
    )
    assert outcomes == [["retry", "sent"], ["sent"]]
    assert len(fake.answered(CREATE, 503)) == 1
    assert fake.answered(LIST, 200) == []  # a 503 is not ambiguous: no look-up
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_500_after_creation_is_ambiguous_and_reconciled_without_resend(
    twilio_app, clock, fake
):
    """Twilio created the message then answered 500: looked up, found, never sent again."""
    fake.script(CREATE, Fault.server_error(500, accepted=True))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock)
    rows = {r.message.idempotency_key: r for r in _sms_rows(twilio_app, crisis_id)}
    outcomes = {key: _outcomes(twilio_app, crisis_id, key) for key in rows}
    assert sorted(outcomes.values()) == [["sent"], ["unknown", "reconciled"]]
    (key,) = [k for k, o in outcomes.items() if o[0] == "unknown"]
    first = _attempts(twilio_app, crisis_id, key)[0]
    assert "erreur 500" in first.reason and "vérification" in first.reason
    (failed,) = fake.answered(CREATE, 500)
    (message,) = [m for m in fake.messages if m.to == failed.to]
    assert rows[key].state == OutboxState.SENT and rows[key].provider_id == message.sid
    assert len(fake.messages) == 2
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_accept_then_hang_is_looked_up_and_not_sent_twice(twilio_app, clock, fake):
    """Accepted, then no answer within the timeout: the row goes unknown, the look-up finds the
    message at Twilio, the row is sent ("reconciled") and the phone got exactly one SMS."""
    fake.script(CREATE, Fault.accept_then_hang(HANG_S))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await twilio_app.dispatcher.drain()
    rows = {r.message.idempotency_key: r for r in _sms_rows(twilio_app, crisis_id)}
    (key,) = [k for k, r in rows.items() if r.state == OutboxState.UNKNOWN]
    assert _outcomes(twilio_app, crisis_id, key) == ["unknown"]
    assert (
        "pas de réponse de Twilio dans le délai" in _attempts(twilio_app, crisis_id, key)[0].reason
    )
    assert len(fake.messages) == 2  # the hung one was recorded

    await _settle(twilio_app, clock)
    row = next(r for r in _sms_rows(twilio_app, crisis_id) if r.message.idempotency_key == key)
    assert _outcomes(twilio_app, crisis_id, key) == ["unknown", "reconciled"]
    reconciled = _attempts(twilio_app, crisis_id, key)[1]
    assert reconciled.reason == "le fournisseur avait bien reçu le message : pas de nouvel envoi"
    assert row.state == OutboxState.SENT
    (message,) = [m for m in fake.messages if m.to == row.message.address]
    assert row.provider_id == message.sid
    assert len(fake.messages) == 2 and len(fake.answered(LIST, 200)) == 1
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_timeout_before_creation_is_looked_up_then_resent_exactly_once(
    twilio_app, clock, fake
):
    """No answer in time and nothing created: the look-up says "not found", one new send."""
    fake.script(CREATE, Fault.hang_before_accept(HANG_S))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock)
    outcomes = sorted(
        _outcomes(twilio_app, crisis_id, r.message.idempotency_key)
        for r in _sms_rows(twilio_app, crisis_id)
    )
    assert outcomes == [["sent"], ["unknown", "retry", "sent"]]
    assert len(fake.messages) == 2
    assert all(r.state == OutboxState.SENT for r in _sms_rows(twilio_app, crisis_id))
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_look_up_failing_keeps_the_row_unknown_until_twilio_answers(twilio_app, clock, fake):
    """The look-up itself gets 503: the row stays unknown (never resent blindly), and is
    reconciled once the look-up works again."""
    fake.script(CREATE, Fault.accept_then_hang(HANG_S))
    fake.script(LIST, Fault.server_error(503, accepted=False))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=1)
    (key,) = [
        r.message.idempotency_key
        for r in _sms_rows(twilio_app, crisis_id)
        if r.state == OutboxState.UNKNOWN
    ]
    await _settle(twilio_app, clock, rounds=1)  # look-up answered 503
    assert len(fake.answered(LIST, 503)) == 1
    row = next(r for r in _sms_rows(twilio_app, crisis_id) if r.message.idempotency_key == key)
    assert row.state == OutboxState.UNKNOWN and len(fake.messages) == 2
    await _settle(twilio_app, clock, rounds=2)
    assert _outcomes(twilio_app, crisis_id, key) == ["unknown", "reconciled"]
    assert len(fake.messages) == 2
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


async def test_connection_refused_is_retried_once_twilio_is_back(twilio_app, clock, fake):
    """Twilio unreachable (connection refused: nothing left): retried, sent once it is back."""
    fake.stop()
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=1)
    for row in _sms_rows(twilio_app, crisis_id):
        (attempt,) = _attempts(twilio_app, crisis_id, row.message.idempotency_key)
        assert attempt.outcome == "retry" and "connexion refusée" in attempt.reason
        assert row.state == OutboxState.PENDING
    fake.start()  # same port
    await _settle(twilio_app, clock)
    for row in _sms_rows(twilio_app, crisis_id):
        assert _outcomes(twilio_app, crisis_id, row.message.idempotency_key) == ["retry", "sent"]
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)
    assert len(fake.messages) == 2


async def test_twilio_down_for_good_fails_every_row_with_a_french_reason(twilio_app, clock, fake):
    """Refused until the retry policy gives up: each row fails, nothing silently dropped."""
    fake.stop()
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    max_attempts = twilio_app.dispatcher.retry.max_attempts
    await _settle(twilio_app, clock, rounds=max_attempts + 1)
    for row in _sms_rows(twilio_app, crisis_id):
        outcomes = _outcomes(twilio_app, crisis_id, row.message.idempotency_key)
        assert outcomes == ["retry"] * (max_attempts - 1) + ["failed"]
        assert row.state == OutboxState.FAILED
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)
    assert fake.messages == []


# --- status callbacks ---------------------------------------------------------------------------


def _reports(app: App, crisis_id: str, key: str) -> list[bool]:
    facts = of_type(journal(app, crisis_id), "DeliveryReported")
    return [e.fact.delivered for e in facts if e.fact.outbox_key == key]  # type: ignore[union-attr]


async def test_status_callbacks_out_of_order_and_twice_are_one_fact_and_stay_delivered(
    twilio_app, clock, fake, web
):
    """Signed callbacks over HTTP: "delivered" before "sent", each twice, then a stray
    "undelivered": one DeliveryReported fact, and the row stays delivered."""
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=1)
    row, other = _sms_rows(twilio_app, crisis_id)
    assert row.provider_id is not None
    statuses = ["delivered", "sent", "delivered", "sent", "queued", "undelivered"]
    callbacks = fake.callbacks(row.provider_id, statuses)
    assert callbacks[0].url.startswith(f"{web}/webhooks/twilio/status?k=")
    answers = [await asyncio.to_thread(c.post) for c in callbacks]
    assert answers == [204] * len(statuses)
    key = row.message.idempotency_key
    assert _reports(twilio_app, crisis_id, key) == [True]
    states = {r.message.idempotency_key: r.state for r in _sms_rows(twilio_app, crisis_id)}
    assert states[key] == OutboxState.DELIVERED
    assert states[other.message.idempotency_key] == OutboxState.SENT  # its own, untouched
    assert _outcomes(twilio_app, crisis_id, key) == ["sent"]


async def test_undelivered_then_delivered_ends_delivered(twilio_app, clock, fake, web):
    """A late "delivered" after "undelivered" is the handset's word: the row ends delivered,
    each distinct report journaled once."""
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=1)
    row = _sms_rows(twilio_app, crisis_id)[0]
    assert row.provider_id is not None
    callbacks = fake.callbacks(row.provider_id, ["undelivered", "undelivered", "delivered"])
    assert [await asyncio.to_thread(c.post) for c in callbacks] == [204, 204, 204]
    key = row.message.idempotency_key
    assert _reports(twilio_app, crisis_id, key) == [False, True]
    row = next(r for r in _sms_rows(twilio_app, crisis_id) if r.message.idempotency_key == key)
    assert row.state == OutboxState.DELIVERED


async def test_delivered_callback_while_the_send_hangs_is_not_undone(twilio_app, clock, fake, web):
    """Twilio accepts, reports "delivered" while our request still waits, then the request times
    out: the row stays delivered, is neither looked up nor resent, one report in the journal,
    and the attempt is journaled as settled by that report."""
    fake.script(CREATE, Fault.accept_then_hang(HANG_S, fire=["sent", "delivered"]))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock, rounds=3)
    assert fake.fired == [204, 204]
    rows = _sms_rows(twilio_app, crisis_id)
    (row,) = [r for r in rows if _reports(twilio_app, crisis_id, r.message.idempotency_key)]
    key = row.message.idempotency_key
    assert _reports(twilio_app, crisis_id, key) == [True]
    assert row.state == OutboxState.DELIVERED
    (attempt,) = _attempts(twilio_app, crisis_id, key)
    assert (attempt.outcome, attempt.reason) == ("reconciled", REPORTED_REASON)
    (message,) = [m for m in fake.messages if m.to == row.message.address]
    assert row.provider_id == attempt.provider_id == message.sid
    assert fake.answered(LIST, 200) == []  # no look-up needed
    assert len(fake.messages) == 2
    _assert_nothing_lost_nor_doubled(twilio_app, crisis_id, fake)


# --- calls --------------------------------------------------------------------------------------


@pytest.mark.parametrize("twilio_channels", [(ChannelName.SMS, ChannelName.VOICE)])
async def test_call_accepted_then_hung_is_looked_up_and_not_placed_twice(
    twilio_app, clock, fake, web
):
    """The same ambiguity on Calls.create: the call is found by the look-up, never placed again,
    and its "completed" status posted twice is one delivery report."""
    fake.script("calls.create", Fault.accept_then_hang(HANG_S))
    crisis_id = activate(twilio_app, clock.now()).crisis.id
    await _settle(twilio_app, clock)
    with twilio_app.store.transaction() as tx:
        rows = [
            r
            for r in tx.in_states(list(OutboxState))
            if r.message.crisis_id == crisis_id and r.message.channel == ChannelName.VOICE
        ]
    assert rows and all(r.state == OutboxState.SENT for r in rows)
    outcomes = sorted(_outcomes(twilio_app, crisis_id, r.message.idempotency_key) for r in rows)
    assert outcomes == [["sent"]] * (len(rows) - 1) + [["unknown", "reconciled"]]
    assert len(fake.calls) == len(rows)
    assert Counter(c.to for c in fake.calls) == Counter(r.message.address for r in rows)
    assert {c.sid for c in fake.calls} == {r.provider_id for r in rows}
    row = next(
        r
        for r in rows
        if _outcomes(twilio_app, crisis_id, r.message.idempotency_key)[0] == "unknown"
    )
    assert row.provider_id is not None
    callbacks = fake.callbacks(row.provider_id, ["completed", "completed"])
    assert [await asyncio.to_thread(c.post) for c in callbacks] == [204, 204]
    assert _reports(twilio_app, crisis_id, row.message.idempotency_key) == [True]

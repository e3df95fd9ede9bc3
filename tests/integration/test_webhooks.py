"""Twilio webhooks over the real app: signed callbacks become facts once, forged ones are refused."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from twilio.request_validator import RequestValidator

from channels.base import ChannelName, DeliveryReport
from crisis.bootstrap import App
from crisis.model import OutboxItem, OutboxState
from crisis.store.repository import Tx
from crisis.web import create_app, serve_web
from crisis.web.app import WebServerError
from playbooks.model import EventKind
from tests.integration.helpers import activate, journal, of_type

TOKEN = "jeton-de-test-pas-un-secret"
BASE = "https://crise.example.fr"
SENDER_ID = "PREFECTURE"


@pytest.fixture
def quiet(app: App) -> App:
    """The app with simulated providers that send no receipts: callbacks come through the web."""
    for channel in app.channels.values():
        channel.inbound = None  # type: ignore[attr-defined]
    return app


@pytest.fixture
async def client(quiet: App) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the webhooks app, in this event loop (like the dispatcher)."""
    web = create_app(quiet, twilio_auth_token=TOKEN, public_base_url=BASE)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


def _path(route: str, key: str | None = None) -> str:
    return f"/webhooks/twilio/{route}" + ("" if key is None else f"?k={quote(key, safe='')}")


async def _post(
    http: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    *,
    token: str | None = TOKEN,
) -> httpx.Response:
    """POST a form as Twilio does, signed with `token` over the public URL (None: unsigned)."""
    headers = {}
    if token is not None:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
            BASE + path, params
        )
    return await http.post(path, data=params, headers=headers)


def _row(app: App, key: str) -> OutboxItem:
    with app.store.transaction() as tx:
        item = tx.find_outbox(channel=ChannelName.SMS, idempotency_key=key)
    assert item is not None, key
    return item


async def _sent_crisis(app: App, clock, **overrides: object) -> str:
    crisis = activate(app, clock.now(), **overrides).crisis
    await app.dispatcher.drain()
    return crisis.id


def _sms_status(item: OutboxItem, status: str) -> dict[str, str]:
    return {
        "AccountSid": "AC00000000000000000000000000000000",
        "MessageSid": item.provider_id or "",
        "SmsSid": item.provider_id or "",
        "MessageStatus": status,
        "SmsStatus": status,
        "From": SENDER_ID,
        "To": item.message.address,
        "ApiVersion": "2010-04-01",
    }


async def test_signed_status_callback_marks_the_row_delivered_and_is_journaled_once(
    quiet, client, clock
):
    """A signed SMS status "delivered" posted twice: the row is delivered, one fact in the journal."""
    crisis_id = await _sent_crisis(quiet, clock)
    key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1"
    item = _row(quiet, key)
    assert item.state == OutboxState.SENT and item.provider_id
    for _ in range(2):
        response = await _post(client, _path("status", key), _sms_status(item, "delivered"))
        assert response.status_code == 204
    assert _row(quiet, key).state == OutboxState.DELIVERED
    reports = [
        e
        for e in of_type(journal(quiet, crisis_id), "DeliveryReported")
        if e.fact.outbox_key == key
    ]
    assert len(reports) == 1
    assert reports[0].fact.delivered and reports[0].fact.channel == ChannelName.SMS
    assert reports[0].actor.interface.value == "fournisseur"


async def test_call_status_no_answer_fails_the_voice_row_once(quiet, client, clock):
    """A call status callback (CallSid) is the voice row's: "no-answer" twice is one failure."""
    crisis_id = await _sent_crisis(quiet, clock)
    key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:voice:v1"
    item = _row(quiet, key)
    assert item.state == OutboxState.SENT and item.provider_id
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": item.provider_id,
        "CallStatus": "no-answer",
        "From": "+33199000001",
        "To": item.message.address,
    }
    for _ in range(2):
        assert (await _post(client, _path("status", key), params)).status_code == 204
    assert _row(quiet, key).state == OutboxState.FAILED
    reports = [
        e.fact
        for e in of_type(journal(quiet, crisis_id), "DeliveryReported")
        if e.fact.outbox_key == key
    ]
    assert len(reports) == 1
    assert reports[0].channel == ChannelName.VOICE and not reports[0].delivered


@pytest.mark.parametrize("token", ["un-autre-jeton", None], ids=["forged", "unsigned"])
async def test_forged_or_missing_signature_is_refused_and_journaled_once(
    quiet, client, clock, token
):
    """A callback not signed with the account's token: 403, nothing recorded, one warning."""
    crisis_id = await _sent_crisis(quiet, clock)
    key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1"
    item = _row(quiet, key)
    for _ in range(2):
        response = await _post(
            client, _path("status", key), _sms_status(item, "delivered"), token=token
        )
        assert response.status_code == 403
    assert _row(quiet, key).state == OutboxState.SENT
    entries = journal(quiet, crisis_id)
    assert not [e for e in of_type(entries, "DeliveryReported") if e.fact.outbox_key == key]
    warnings = [e.fact for e in of_type(entries, "WarningRaised") if e.fact.code == "rappel_refuse"]
    assert len(warnings) == 1
    assert "signature Twilio invalide" in warnings[0].message
    assert "/webhooks/twilio/status" in warnings[0].message
    assert item.message.address not in warnings[0].message


async def test_signature_is_checked_against_the_public_url(quiet, client, clock):
    """A signature computed for another URL (the internal address) does not pass."""
    crisis_id = await _sent_crisis(quiet, clock)
    key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1"
    params = _sms_status(_row(quiet, key), "delivered")
    path = _path("status", key)
    signature = RequestValidator(TOKEN).compute_signature("http://127.0.0.1:8000" + path, params)
    response = await client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _row(quiet, key).state == OutboxState.SENT


async def test_a_status_of_the_wrong_kind_is_refused_and_never_marks_the_row(quiet, client, clock):
    """A signed SMS status "delivered" on a call's key is refused (400), journaled once, and
    the call stays as it was; so is a "1" pressed on an SMS's key."""
    crisis_id = await _sent_crisis(quiet, clock)
    voice_key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:voice:v1"
    sms_key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1"
    call = _row(quiet, voice_key)
    assert call.state == OutboxState.SENT
    sms_params = {**_sms_status(call, "delivered"), "MessageSid": call.provider_id or ""}
    for _ in range(2):
        response = await _post(client, _path("status", voice_key), sms_params)
        assert response.status_code == 400 and "type d'envoi" in response.text
    assert _row(quiet, voice_key).state == OutboxState.SENT
    gathered = {"CallSid": "CA0009", "Digits": "1", "To": call.message.address}
    assert (await _post(client, _path("gather", sms_key), gathered)).status_code == 400
    entries = journal(quiet, crisis_id)
    assert not [e for e in of_type(entries, "DeliveryReported") if e.fact.outbox_key == voice_key]
    assert not [
        e for e in of_type(entries, "AcknowledgementReceived") if e.fact.outbox_key == sms_key
    ]
    warnings = [e.fact.message for e in of_type(entries, "WarningRaised")]
    assert (
        warnings.count(
            "Rappel du fournisseur refusé : rappel d'un autre type d'envoi "
            "(/webhooks/twilio/status : rappel de SMS pour un appel)"
        )
        == 1
    )
    assert any("rappel d'appel pour un SMS" in w for w in warnings)


async def test_the_service_ignores_a_report_of_another_channel_than_its_row(quiet, clock):
    """Deeper than the web: a DeliveryReport naming the SMS channel on a call's key changes
    nothing (whatever delivered it)."""
    crisis_id = await _sent_crisis(quiet, clock)
    voice_key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:voice:v1"
    await quiet.orchestrator.receive(
        DeliveryReport(
            channel=ChannelName.SMS, provider_id="SM1", idempotency_key=voice_key, delivered=True
        )
    )
    assert _row(quiet, voice_key).state == OutboxState.SENT


async def test_gather_digit_1_from_a_mayor_acknowledges_and_stops_the_communes_queued_sends(
    quiet, client, clock
):
    """The mayor presses 1: acknowledged once, the commune's queued alerts cancelled, not others'."""
    crisis_id = activate(quiet, clock.now()).crisis.id
    clock.advance(5 * 60)
    quiet.orchestrator.tick(crisis_id)  # T0+5: mayors' calls and SMS queued, not yet dispatched
    voice_key = f"{crisis_id}:alerte_maires:maire-42218:voice:v1"
    with quiet.store.transaction() as tx:  # the call was placed: the row left the queue
        call = tx.find_outbox(channel=ChannelName.VOICE, idempotency_key=voice_key)
        assert call is not None and call.state == OutboxState.PENDING
        tx.set_outbox(call.id, clock.now(), state=OutboxState.SENT, provider_id="CA0001")
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": "CA0001",
        "Digits": "1",
        "FinishedOnKey": "",
        "From": "+33199000001",
        "To": call.message.address,
    }
    for _ in range(2):
        response = await _post(client, _path("gather", voice_key), params)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert "<Response" in response.text
    acks = [
        e.fact
        for e in of_type(journal(quiet, crisis_id), "AcknowledgementReceived")
        if e.fact.contact_id == "maire-42218"
    ]
    assert len(acks) == 1
    assert acks[0].channel == ChannelName.VOICE and acks[0].outbox_key == voice_key
    assert _row(quiet, f"{crisis_id}:alerte_maires:maire-42218:sms:v1").state == (
        OutboxState.CANCELLED
    )
    assert _row(quiet, f"{crisis_id}:alerte_maires:maire-42187:sms:v1").state == (
        OutboxState.PENDING
    )


async def test_gather_without_digit_1_records_nothing(quiet, client, clock):
    """A caller who pressed another key has not acknowledged."""
    crisis_id = activate(quiet, clock.now()).crisis.id
    await quiet.dispatcher.drain()
    voice_key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:voice:v1"
    response = await _post(client, _path("gather", voice_key), {"CallSid": "CA0002", "Digits": "7"})
    assert response.status_code == 200
    assert not of_type(journal(quiet, crisis_id), "AcknowledgementReceived")


def _sms_in(sender: str, body: str) -> dict[str, str]:
    return {
        "AccountSid": "AC00000000000000000000000000000000",
        "MessageSid": "SM00000000000000000000000000000001",
        "From": sender,
        "To": "+33199000002",
        "Body": body,
        "NumMedia": "0",
    }


async def test_sms_reply_recu_acknowledges_the_latest_sms_sent_to_that_number(quiet, client, clock):
    """ "reçu" from the sous-préfet d'astreinte's mobile acknowledges the latest alert, in that crisis."""
    first = await _sent_crisis(quiet, clock)
    clock.advance(60)
    second = await _sent_crisis(
        quiet, clock, kind=EventKind.TEMPETE, synergi_ref="SYN-42-0002", idempotency_key="tempete-1"
    )
    key = f"{second}:alerte_astreinte:cell-sousprefet:sms:v1"
    mobile = _row(quiet, key).message.address
    assert mobile.startswith("+3363998")  # an ARCEP fiction number
    assert _row(quiet, f"{first}:alerte_astreinte:cell-sousprefet:sms:v1").message.address == mobile
    response = await _post(client, _path("sms"), _sms_in(mobile, "Reçu"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    acks = of_type(journal(quiet, second), "AcknowledgementReceived")
    assert [(a.fact.contact_id, a.fact.channel, a.fact.outbox_key) for a in acks] == [
        ("cell-sousprefet", ChannelName.SMS, key)
    ]
    assert not of_type(journal(quiet, first), "AcknowledgementReceived")


async def test_sms_reply_stop_acknowledges_nothing(quiet, client, clock):
    """ "STOP" is not a confirmation of reception."""
    crisis_id = await _sent_crisis(quiet, clock)
    mobile = _row(quiet, f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1").message.address
    response = await _post(client, _path("sms"), _sms_in(mobile, "STOP"))
    assert response.status_code == 200
    assert not of_type(journal(quiet, crisis_id), "AcknowledgementReceived")


async def test_sms_reply_from_an_unknown_number_acknowledges_nothing(quiet, client, clock):
    """A "1" from a number no alert went to is nobody's acknowledgement."""
    crisis_id = await _sent_crisis(quiet, clock)
    response = await _post(client, _path("sms"), _sms_in("+33639989999", "1"))
    assert response.status_code == 200
    assert not of_type(journal(quiet, crisis_id), "AcknowledgementReceived")


async def test_forged_sms_reply_is_refused(quiet, client, clock):
    """An unsigned SMS reply cannot acknowledge on someone's behalf."""
    crisis_id = await _sent_crisis(quiet, clock)
    mobile = _row(quiet, f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1").message.address
    response = await _post(client, _path("sms"), _sms_in(mobile, "1"), token="un-autre-jeton")
    assert response.status_code == 403
    assert not of_type(journal(quiet, crisis_id), "AcknowledgementReceived")


async def test_phone_numbers_in_form_bodies_are_never_logged(quiet, client, clock, caplog):
    """Nothing the web layer logs, at any level, carries the sender's number."""
    crisis_id = await _sent_crisis(quiet, clock)
    mobile = _row(quiet, f"{crisis_id}:alerte_astreinte:cell-sousprefet:sms:v1").message.address
    caplog.set_level(logging.DEBUG)
    await _post(client, _path("sms"), _sms_in(mobile, "1"))
    await _post(client, _path("sms"), _sms_in(mobile, "1"), token="un-autre-jeton")
    await _post(client, _path("voice", "inconnue"), {"From": mobile, "AnsweredBy": "human"})
    assert caplog.records  # the refusal and the unknown key were logged...
    assert mobile not in caplog.text  # ...without the number


def _call(item_address: str, answered_by: str) -> dict[str, str]:
    return {
        "AccountSid": "AC00000000000000000000000000000000",
        "CallSid": "CA0003",
        "CallStatus": "in-progress",
        "From": "+33199000001",
        "To": item_address,
        "AnsweredBy": answered_by,
    }


async def test_voice_twiml_asks_a_human_to_press_1_and_leaves_a_message_on_a_machine(
    quiet, client, clock
):
    """A person hears the message in French then "tapez 1"; an answering machine gets no Gather."""
    crisis_id = await _sent_crisis(quiet, clock)
    key = f"{crisis_id}:alerte_astreinte:cell-sousprefet:voice:v1"
    address = _row(quiet, key).message.address
    human = await _post(client, _path("voice", key), _call(address, "human"))
    assert human.status_code == 200
    assert human.headers["content-type"].startswith("application/xml")
    assert 'language="fr-FR"' in human.text and "<Gather" in human.text
    assert f"/webhooks/twilio/gather?k={quote(key, safe='')}" in human.text
    machine = await _post(client, _path("voice", key), _call(address, "machine_end_beep"))
    assert machine.status_code == 200
    assert 'language="fr-FR"' in machine.text and "<Gather" not in machine.text


async def test_voice_twiml_for_an_unknown_key_says_the_message_is_unavailable(quiet, client, clock):
    """A call whose outbox row cannot be found hangs up politely, in French."""
    crisis_id = await _sent_crisis(quiet, clock)
    before = len(journal(quiet, crisis_id))
    response = await _post(client, _path("voice", "pas-une-cle"), _call("+33639980001", "human"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "Message indisponible" in response.text and "<Hangup" in response.text
    assert len(journal(quiet, crisis_id)) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_web_serves_on_a_real_port_and_stops(quiet, clock, caplog):
    """uvicorn answers a signed call on 127.0.0.1, writes no access log, and stops when told."""
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_web(
            quiet, stop, host="127.0.0.1", port=port, twilio_auth_token=TOKEN, public_base_url=BASE
        )
    )
    path = _path("voice", "cle-secrete-inconnue")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        for _ in range(100):
            try:
                response = await _post(http, path, {"CallSid": "CA0004", "AnsweredBy": "human"})
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the web server did not start")
    assert response.status_code == 200 and "Message indisponible" in response.text
    server_logs = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name == "crisis.web.webhooks" for r in server_logs)
    assert not any("cle-secrete-inconnue" in r.getMessage() for r in server_logs)  # no access log
    stop.set()
    await asyncio.wait_for(server, timeout=10)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as http:
            await http.post(f"http://127.0.0.1:{port}{path}")


async def test_serve_web_on_a_busy_port_raises_a_french_error_without_stopping_the_loop(quiet):
    """A port already taken is a WebServerError for the caller, not a SystemExit of the process."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        with pytest.raises(WebServerError, match="n'a pas pu démarrer"):
            await asyncio.wait_for(
                serve_web(
                    quiet,
                    asyncio.Event(),
                    host="127.0.0.1",
                    port=port,
                    twilio_auth_token=TOKEN,
                    public_base_url=BASE,
                ),
                timeout=10,
            )
    await asyncio.sleep(0)  # the event loop is still running


# --- status callbacks in group commits ---------------------------------------------------


def _sent_sms(app, crisis_id: str) -> list[OutboxItem]:
    with app.store.transaction() as tx:
        rows = tx.in_states([OutboxState.SENT])
    return [
        r for r in rows if r.message.crisis_id == crisis_id and r.message.channel == ChannelName.SMS
    ]


def _state(app, key: str) -> OutboxState:
    with app.store.transaction() as tx:
        item = tx.outbox_by_key(key)
    assert item is not None
    return item.state


def _reports(app, crisis_id: str) -> list[str]:
    return [e.fact.outbox_key for e in of_type(journal(app, crisis_id), "DeliveryReported")]


async def test_concurrent_receipts_are_each_answered_once_durable_in_fewer_transactions(
    quiet, client, clock
):
    """Signed SMS receipts posted at once: each 204 comes after its row is delivered, one fact
    per receipt, written in fewer transactions than receipts."""
    crisis_id = await _sent_crisis(quiet, clock)
    rows = _sent_sms(quiet, crisis_id)
    assert len(rows) >= 2
    before = quiet.orchestrator.receipts.batches

    async def post(item: OutboxItem) -> OutboxState:
        key = item.message.idempotency_key
        response = await _post(client, _path("status", key), _sms_status(item, "delivered"))
        assert response.status_code == 204
        return _state(quiet, key)  # read right after the answer, before anything else runs

    states = await asyncio.gather(*(post(r) for r in rows))
    assert set(states) == {OutboxState.DELIVERED}
    assert sorted(_reports(quiet, crisis_id)) == sorted(r.message.idempotency_key for r in rows)
    assert quiet.orchestrator.receipts.batches - before < len(rows)


async def test_the_same_receipt_twice_in_one_batch_is_one_fact(quiet, client, clock):
    """Both copies of a replayed callback land in the same batch: one fact, both answered 204."""
    crisis_id = await _sent_crisis(quiet, clock)
    item = _sent_sms(quiet, crisis_id)[0]
    key = item.message.idempotency_key
    before = quiet.orchestrator.receipts.batches
    responses = await asyncio.gather(
        *(_post(client, _path("status", key), _sms_status(item, "delivered")) for _ in range(2))
    )
    assert [r.status_code for r in responses] == [204, 204]
    assert quiet.orchestrator.receipts.batches - before == 1
    assert _reports(quiet, crisis_id).count(key) == 1
    assert _state(quiet, key) == OutboxState.DELIVERED


async def test_a_failing_commit_answers_5xx_and_records_nothing(
    quiet, client, clock, monkeypatch: pytest.MonkeyPatch
):
    """The batch's journal write fails: every receipt of it is answered 503, no row changed,
    no fact; sent again once the database is back, they are recorded."""
    crisis_id = await _sent_crisis(quiet, clock)
    rows = _sent_sms(quiet, crisis_id)

    def boom(self, items, at):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(Tx, "append_many", boom)
    posts = [
        _post(client, _path("status", r.message.idempotency_key), _sms_status(r, "delivered"))
        for r in rows
    ]
    responses = await asyncio.gather(*posts)
    assert {r.status_code for r in responses} == {503}
    assert all(_state(quiet, r.message.idempotency_key) == OutboxState.SENT for r in rows)
    assert _reports(quiet, crisis_id) == []
    monkeypatch.undo()
    for r in rows:
        retried = await _post(
            client, _path("status", r.message.idempotency_key), _sms_status(r, "delivered")
        )
        assert retried.status_code == 204
    assert len(_reports(quiet, crisis_id)) == len(rows)

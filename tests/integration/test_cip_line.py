"""The CIP's numéro unique and the switchboard over the real orchestrator: signed Twilio
callbacks get French TwiML (greeting with the reading sheet, queue, voicemail, closed line),
forged ones are refused, and each call ends as ONE CipCallEnded fact in the main courante."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import time

import httpx
import pytest
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from channels.twilio_hotline import HotlineSettings, OpeningHours
from contacts.model import Role
from crisis.bootstrap import App
from crisis.model import Actor, Authority, Interface
from crisis.web.providers.cip_calls import CipLineState, queue_name
from crisis.web.providers.cip_line import cip_router
from tests.integration.helpers import activate, journal, of_type

TOKEN = "jeton-de-test-pas-un-secret"
BASE = "https://crise.example.fr"
CIP = "+33465714242"
FORWARD = "+33199000051"
CALLER = "+33639980123"  # ARCEP fiction mobile
CALLER_DIGITS = "639980123"
PREFET = Actor(name="Préfet", interface=Interface.CLI)
ANNOUNCE = "La préfecture ouvre le numéro unique 04 65 71 42 42 pour vos questions."
ENGLISH = ("please", "welcome", "thank you", "the ", " you ", "queue", "goodbye", "hello")


def _activate_cip(app: App, crisis_id: str) -> None:
    app.orchestrator.activate_cip(crisis_id, CIP, PREFET, authority=Authority.PREFET)


async def _crisis_with_cip(app: App, clock) -> str:
    crisis = activate(app, clock.now()).crisis
    await app.dispatcher.drain()  # the first public messages go out: the reading sheet
    _activate_cip(app, crisis.id)
    return crisis.id


def _web(app: App, hotline: HotlineSettings, *, announcement=None) -> FastAPI:
    web = FastAPI()
    web.include_router(
        cip_router(
            app.orchestrator,
            auth_token=TOKEN,
            public_base_url=BASE,
            hotline=hotline,
            announcement=announcement,
            forward_to=FORWARD,
            state=CipLineState(),
        )
    )
    return web


@pytest.fixture
def hotline() -> HotlineSettings:
    return HotlineSettings(number=CIP)


@pytest.fixture
async def client(app: App, hotline: HotlineSettings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_web(app, hotline, announcement=lambda: ANNOUNCE))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


async def _post(
    http: httpx.AsyncClient, route: str, params: dict[str, str], *, token: str = TOKEN
) -> httpx.Response:
    """POST a form as Twilio does, signed with `token` over the public URL."""
    path = f"/webhooks/twilio/{route}"
    signature = RequestValidator(token).compute_signature(BASE + path, params)
    return await http.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _call(sid: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": sid,
        "From": CALLER,
        "To": CIP,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def _twiml(response: httpx.Response) -> ET.Element:
    """The TwiML answered: well-formed, every <Say> in French, no English."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    says = root.findall(".//Say")
    for say in says:
        assert say.get("language") == "fr-FR"
        assert say.get("voice") == "Polly.Lea"
        text = f" {(say.text or '').lower()} "
        assert not [word for word in ENGLISH if word in text], say.text
    return root


def _spoken(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.findall(".//Say"))


def _ended(app: App, crisis_id: str) -> list:
    return [e.fact for e in of_type(journal(app, crisis_id), "CipCallEnded")]


async def test_greeting_reads_the_reading_sheet_in_french_and_enqueues(app, client, clock):
    """A call to the numéro unique: welcome, 112, the reading sheet, then the crisis's queue."""
    crisis_id = await _crisis_with_cip(app, clock)
    sheet = app.orchestrator.reading_sheet(crisis_id)
    root = _twiml(await _post(client, "cip/voice", _call("CA01")))
    spoken = _spoken(root)
    assert "cellule d'information du public" in spoken and "112" in spoken
    assert " ".join(sheet.split()) in spoken
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert enqueue.text == queue_name(HotlineSettings(number=CIP), crisis_id)
    assert enqueue.get("waitUrl") == f"{BASE}/webhooks/twilio/cip/wait"
    assert enqueue.get("action") == f"{BASE}/webhooks/twilio/cip/after-queue"


async def test_a_forged_signature_is_refused_and_nothing_is_journaled(app, client, clock):
    """Signed with another token: 403 on the call and on its status; no CipCallEnded."""
    crisis_id = await _crisis_with_cip(app, clock)
    forged = await _post(client, "cip/voice", _call("CA02"), token="autre-jeton")
    assert forged.status_code == 403
    unsigned = await client.post("/webhooks/twilio/cip/voice", data=_call("CA02"))
    assert unsigned.status_code == 403
    status = _call("CA02", CallStatus="completed", CallDuration="30")
    assert (await _post(client, "cip/status", status, token="autre-jeton")).status_code == 403
    assert _ended(app, crisis_id) == []


async def test_answered_and_abandoned_calls_are_journaled_once_each(app, client, clock):
    """Call 1 is taken by agent cip-1 after 45 s and lasts 200 s; call 2 hangs up after 40 s
    in the queue. Status callbacks twice each: one fact per call, with the figures."""
    crisis_id = await _crisis_with_cip(app, clock)
    crisis = app.orchestrator.cip_crisis(CIP)
    assert crisis is not None
    agent = next(c for c in crisis.roster if c.role == Role.AGENT_CIP and c.mobile)

    _twiml(await _post(client, "cip/voice", _call("CA10")))
    _twiml(await _post(client, "cip/voice", _call("CA11")))
    wait = await _post(
        client,
        "cip/wait",
        _call("CA11", QueuePosition="2", QueueTime="5", AvgQueueTime="30", CurrentQueueSize="2"),
    )
    assert "deuxième correspondant en attente" in _spoken(_twiml(wait))

    clock.advance(45)
    agent_call = {"CallSid": "CA90", "From": agent.mobile or "", "To": CIP, "AccountSid": "AC"}
    dial = _twiml(await _post(client, "cip/agent", agent_call))
    queue = dial.find("Dial/Queue")
    assert queue is not None and queue.text == queue_name(HotlineSettings(number=CIP), crisis_id)
    connected = _call("CA10", QueueTime="45", DequeingCallSid="CA90", QueueSid="QU1")
    assert "vous répond" in _spoken(_twiml(await _post(client, "cip/connected", connected)))

    clock.advance(10)
    left = _call("CA11", QueueResult="hangup", QueueTime="40")
    _twiml(await _post(client, "cip/after-queue", left))
    clock.advance(150)
    bridged = _call("CA10", QueueResult="bridged", QueueTime="45")
    assert "Merci de votre appel" in _spoken(
        _twiml(await _post(client, "cip/after-queue", bridged))
    )

    for _ in range(2):
        for sid, duration in (("CA10", "205"), ("CA11", "55")):
            status = _call(sid, CallStatus="completed", CallDuration=duration)
            assert (await _post(client, "cip/status", status)).status_code == 204
    status = {"CallSid": "CA90", "CallStatus": "completed", "CallDuration": "160", "To": CIP}
    assert (await _post(client, "cip/status", status)).status_code == 204

    facts = {f.call_id: f for f in _ended(app, crisis_id)}
    assert sorted(facts) == ["CA10", "CA11"]
    answered, abandoned = facts["CA10"], facts["CA11"]
    assert answered.outcome == "repondu" and answered.agent_id == agent.id
    assert answered.waited_seconds == 45
    assert answered.talked_seconds == 205 - 45  # connected 45 s after the call started
    assert abandoned.outcome == "abandonne" and abandoned.waited_seconds == 40
    assert abandoned.talked_seconds == 0 and abandoned.agent_id is None
    entries = of_type(journal(app, crisis_id), "CipCallEnded")
    assert {e.actor.name for e in entries} == {"twilio"}
    assert {e.actor.interface for e in entries} == {Interface.PROVIDER}


async def test_voicemail_is_journaled_as_a_message_once(app, client, clock):
    """Waited too long, left the queue, left a message: outcome "message", even after the
    status callback."""
    crisis_id = await _crisis_with_cip(app, clock)
    _twiml(await _post(client, "cip/voice", _call("CA20")))
    too_long = _twiml(
        await _post(client, "cip/wait", _call("CA20", QueuePosition="1", QueueTime="700"))
    )
    assert too_long.find("Leave") is not None
    offer = _twiml(
        await _post(client, "cip/after-queue", _call("CA20", QueueResult="leave", QueueTime="700"))
    )
    record = offer.find("Record")
    assert record is not None and record.get("action") == f"{BASE}/webhooks/twilio/cip/voicemail"
    saved = _call("CA20", RecordingUrl="https://api.twilio.com/rec/RE1", RecordingDuration="25")
    assert "bien été enregistré" in _spoken(_twiml(await _post(client, "cip/voicemail", saved)))
    status = _call("CA20", CallStatus="completed", CallDuration="760")
    await _post(client, "cip/status", status)
    [fact] = _ended(app, crisis_id)
    assert fact.call_id == "CA20" and fact.outcome == "message"
    assert fact.waited_seconds == 700 and fact.talked_seconds == 0


async def test_a_status_already_in_the_journal_is_not_recorded_again(app, hotline, clock):
    """Another process (or a restart) already journaled the call: the journal is checked."""
    crisis_id = await _crisis_with_cip(app, clock)
    status = _call("CA30", CallStatus="completed", CallDuration="12")
    for _ in range(2):  # two servers, each with its own memory
        transport = httpx.ASGITransport(app=_web(app, hotline))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            assert (await _post(http, "cip/status", status)).status_code == 204
    [fact] = _ended(app, crisis_id)
    assert fact.call_id == "CA30" and fact.outcome == "abandonne"


async def test_no_active_cip_gets_the_closed_message_and_nothing_is_journaled(app, client, clock):
    """The crisis exists but its CIP is not active: closed message, no queue, no fact."""
    crisis = activate(app, clock.now()).crisis
    await app.dispatcher.drain()
    root = _twiml(await _post(client, "cip/voice", _call("CA40")))
    assert "actuellement fermée" in _spoken(root)
    assert root.find("Enqueue") is None and root.find("Hangup") is not None
    status = _call("CA40", CallStatus="completed", CallDuration="15")
    assert (await _post(client, "cip/status", status)).status_code == 204
    assert _ended(app, crisis.id) == []


async def test_a_full_queue_overflows_to_voicemail_after_the_information(app, clock):
    """max_queue 1: the second caller hears the information, then may leave a message; hung
    up without one: "debordement"."""
    crisis_id = await _crisis_with_cip(app, clock)
    web = _web(app, HotlineSettings(number=CIP, max_queue=1))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        _twiml(await _post(http, "cip/voice", _call("CA50")))
        root = _twiml(await _post(http, "cip/voice", _call("CA51")))
        spoken = _spoken(root)
        assert "112" in spoken and "occupés" in spoken
        assert " ".join(app.orchestrator.reading_sheet(crisis_id).split()) in spoken
        assert root.find("Enqueue") is None and root.find("Record") is not None
        await _post(http, "cip/status", _call("CA51", CallStatus="completed", CallDuration="30"))
    [fact] = _ended(app, crisis_id)
    assert fact.call_id == "CA51" and fact.outcome == "debordement"


async def test_out_of_hours_offers_a_message_and_journals_hors_horaires(app, clock):
    """Open 08:00-20:00; the call comes at 02:10: closed, information, voicemail offered."""
    crisis_id = await _crisis_with_cip(app, clock)
    hours = OpeningHours(opens=time(8), closes=time(20))
    web = _web(app, HotlineSettings(number=CIP, opening_hours=hours))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        root = _twiml(await _post(http, "cip/voice", _call("CA60")))
        assert "actuellement fermée" in _spoken(root)
        assert root.find("Record") is not None and root.find("Enqueue") is None
        await _post(http, "cip/status", _call("CA60", CallStatus="completed", CallDuration="20"))
    [fact] = _ended(app, crisis_id)
    assert fact.outcome == "hors_horaires"


async def test_the_switchboard_says_the_announcement_then_dials_the_standard(app):
    """With an announcement: <Say fr-FR> then <Dial> the usual standard; without: only Dial."""
    for announcement, expected in ((lambda: ANNOUNCE, [ANNOUNCE]), (lambda: None, [])):
        transport = httpx.ASGITransport(app=_web(app, HotlineSettings(), announcement=announcement))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            root = _twiml(await _post(http, "standard", _call("CA70", To=FORWARD)))
        assert [s.text for s in root.findall("Say")] == expected
        dial = root.find("Dial")
        assert dial is not None and dial.text == FORWARD
        assert [child.tag for child in root][-1] == "Dial"


async def test_the_switchboard_route_refuses_a_forged_signature(app, client):
    """The switchboard's route is signed like the others."""
    response = await _post(client, "standard", _call("CA71"), token="autre-jeton")
    assert response.status_code == 403


async def test_the_caller_number_is_never_logged_nor_journaled(app, client, clock, caplog):
    """A whole call: neither the logs nor the main courante quote the caller's digits."""
    crisis_id = await _crisis_with_cip(app, clock)
    with caplog.at_level(logging.DEBUG):
        await _post(client, "cip/voice", _call("CA80"))
        await _post(client, "cip/after-queue", _call("CA80", QueueResult="hangup", QueueTime="3"))
        await _post(client, "cip/status", _call("CA80", CallStatus="completed", CallDuration="9"))
    assert caplog.records
    assert all(CALLER_DIGITS not in r.getMessage() for r in caplog.records)
    assert CALLER_DIGITS not in repr(journal(app, crisis_id))
    assert len(_ended(app, crisis_id)) == 1


async def test_a_call_whose_end_never_came_stops_counting_after_four_hours(app, clock):
    """max_queue 1 and a first call with no status callback: the next call overflows; four
    hours later the forgotten call no longer fills the queue."""
    await _crisis_with_cip(app, clock)
    web = _web(app, HotlineSettings(number=CIP, max_queue=1))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        _twiml(await _post(http, "cip/voice", _call("CA90")))
        assert _twiml(await _post(http, "cip/voice", _call("CA91"))).find("Enqueue") is None
        clock.advance(4 * 3600 + 60)
        assert _twiml(await _post(http, "cip/voice", _call("CA92"))).find("Enqueue") is not None

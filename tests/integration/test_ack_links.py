"""Signed acknowledgement links over the real app: opening shows, the button confirms, once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from channels.ack_link import AckLinkChannel
from channels.base import ChannelName
from channels.simulated import SimulatedChannel
from crisis.bootstrap import App, build
from crisis.cli import render_cell
from crisis.cli.common import console
from crisis.model import AcknowledgementReceived
from crisis.settings import Settings, SettingsError, WebSettings
from crisis.web import create_app
from tests.integration.helpers import AGENT, activate, advance, journal, of_type

BASE = "https://crise.example.fr"
ENV = {"CRISIS_WEB_SECRET": "un-secret-de-test-assez-long-pour-signer-les-liens"}
LINK = re.compile(r"https://crise\.example\.fr/accuse/(\S+)")


@pytest.fixture
def linked(settings: Settings, clock) -> Iterator[App]:
    """The orchestrator with links on e-mails and SMS."""
    web = WebSettings(public_base_url=BASE, ack_links=(ChannelName.EMAIL, ChannelName.SMS))
    application = build(settings.model_copy(update={"web": web}), clock=clock, env=ENV)
    yield application
    application.close()


@pytest.fixture
async def client(linked: App) -> AsyncIterator[httpx.AsyncClient]:
    assert linked.webhooks is not None and linked.webhooks.ack_signer is not None
    web = create_app(
        linked, twilio_auth_token=None, public_base_url=BASE, ack_signer=linked.webhooks.ack_signer
    )
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


def _sent(app: App, channel: ChannelName) -> list[tuple[str, str]]:
    """(contact id, body) of what the simulated provider behind the link wrapper accepted."""
    wrapper = app.channels[channel]
    assert isinstance(wrapper, AckLinkChannel)
    inner = wrapper.inner
    assert isinstance(inner, SimulatedChannel)
    return [(r.contact_id, r.body) for r in inner.sent]


def _path(body: str) -> str:
    match = LINK.search(body)
    assert match is not None, body
    return urlsplit(match.group(0)).path


def _acks(app: App, crisis_id: str) -> list[AcknowledgementReceived]:
    facts = [e.fact for e in of_type(journal(app, crisis_id), "AcknowledgementReceived")]
    assert all(isinstance(f, AcknowledgementReceived) for f in facts)
    return facts  # type: ignore[return-value]


def test_build_wraps_the_configured_channels_only(linked: App):
    """E-mail and SMS carry the links (as configured); voice does not."""
    assert isinstance(linked.channels[ChannelName.EMAIL], AckLinkChannel)
    assert isinstance(linked.channels[ChannelName.SMS], AckLinkChannel)
    assert not isinstance(linked.channels[ChannelName.VOICE], AckLinkChannel)


def test_links_without_their_secret_are_a_configuration_error(settings: Settings, clock):
    """A public address for the links without CRISIS_WEB_SECRET stops the build, in French."""
    web = WebSettings(public_base_url=BASE)
    with pytest.raises(SettingsError, match="CRISIS_WEB_SECRET"):
        build(settings.model_copy(update={"web": web}), clock=clock, env={})


def test_plain_http_public_address_is_refused():
    """The links travel to phones: the public address must be https (http only on loopback)."""
    with pytest.raises(ValueError, match="https"):
        WebSettings(public_base_url="http://crise.example.fr")
    assert WebSettings(public_base_url="http://127.0.0.1:8080/").public_base_url == (
        "http://127.0.0.1:8080"
    )


async def test_press_officer_confirms_by_link_once(linked: App, client: httpx.AsyncClient, clock):
    """Opening the link confirms nothing; the button does, once; the page says so after."""
    crisis_id = activate(linked, clock.now()).crisis.id
    await advance(linked, clock, 6)
    mails = [(c, b) for c, b in _sent(linked, ChannelName.EMAIL) if "/accuse/" in b]
    assert mails, "le vivier presse reçoit un courriel avec le lien"
    contact_id, body = mails[0]
    path = _path(body)

    shown = await client.get(path)
    assert shown.status_code == 200
    assert "Je confirme la réception" in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert shown.headers["cache-control"] == "no-store"
    assert _acks(linked, crisis_id) == []  # a mail scanner opening the link confirms nothing

    confirmed = await client.post(path, data={})
    assert confirmed.status_code == 200 and "Réception confirmée" in confirmed.text
    acks = _acks(linked, crisis_id)
    assert [(a.contact_id, a.channel) for a in acks] == [(contact_id, ChannelName.EMAIL)]

    again = await client.post(path, data={})
    assert "déjà confirmée" in again.text
    assert len(_acks(linked, crisis_id)) == 1
    assert "déjà confirmée" in (await client.get(path)).text


async def test_cell_member_gives_arrival_delay_by_link(
    linked: App, client: httpx.AsyncClient, clock
):
    """A member of the recall list chooses an arrival delay on the page: it is journaled."""
    crisis_id = activate(linked, clock.now()).crisis.id
    await advance(linked, clock, 6)
    with linked.store.transaction() as tx:
        crisis = tx.crisis(crisis_id)
    recall = {c.id for c in crisis.roster if c.role is not None and c.role.value == "agent_rappel"}
    texts = [(c, b) for c, b in _sent(linked, ChannelName.SMS) if c in recall and "/accuse/" in b]
    assert texts
    contact_id, body = texts[0]
    page = await client.get(_path(body))
    assert 'name="eta"' in page.text  # the delay is asked of the cell only
    await client.post(_path(body), data={"eta": "30"})
    ack = next(a for a in _acks(linked, crisis_id) if a.contact_id == contact_id)
    assert ack.eta_minutes == 30
    text = next(e.text for e in journal(linked, crisis_id) if e.fact == ack)
    assert "arrivée prévue dans 30 min" in text
    with console.capture() as shown:  # `crisis status` shows the cell with arrival times
        render_cell(journal(linked, crisis_id), ZoneInfo("Europe/Paris"))
    row = next(line for line in shown.get().splitlines() if contact_id in line)
    assert re.search(r"vers \d\d:\d\d \(dans", row), row


async def test_forged_link_is_refused_and_records_nothing(
    linked: App, client: httpx.AsyncClient, clock
):
    """A link whose signature does not hold gets a 404 page and no fact."""
    crisis_id = activate(linked, clock.now()).crisis.id
    await advance(linked, clock, 6)
    path = _path(next(b for _c, b in _sent(linked, ChannelName.EMAIL) if "/accuse/" in b))
    token = unquote(path.rsplit("/", 1)[1])
    forged = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    for response in (
        await client.get(f"/accuse/{forged}"),
        await client.post(f"/accuse/{forged}", data={}),
    ):
        assert response.status_code == 404
        assert "Lien invalide" in response.text
    assert _acks(linked, crisis_id) == []


async def test_link_after_the_event_is_closed_confirms_nothing(
    linked: App, client: httpx.AsyncClient, clock
):
    """Once the event is closed, the page says so and nothing is journaled."""
    crisis_id = activate(linked, clock.now()).crisis.id
    await advance(linked, clock, 6)
    path = _path(next(b for _c, b in _sent(linked, ChannelName.EMAIL) if "/accuse/" in b))
    linked.orchestrator.close(crisis_id, AGENT, "fin")
    response = await client.post(path, data={})
    assert "Événement clos" in response.text
    assert _acks(linked, crisis_id) == []

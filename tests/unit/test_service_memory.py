"""The service on the in-memory unit of work: T0, the clock, the outbox drained through
simulated channels, acknowledgements and closing, without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport
from channels.simulated import SimulatedChannel, Simulation
from crisis.activation import ActivationError
from crisis.bootstrap import engine_config
from crisis.clock import FakeClock
from crisis.effects import NoEffects
from crisis.engine import Refused
from crisis.journal import verify
from crisis.model import (
    Actor,
    CancelPending,
    EngagementStatus,
    Interface,
    JournalEntry,
    MediaRequestReceived,
    Mode,
    OutboxState,
)
from crisis.outbox import ChannelLimits, Dispatcher
from crisis.service import ActivationRequest, Orchestrator
from crisis.settings import Settings
from crisis.store.memory import MemoryStore
from playbooks.model import EventKind
from tests.conftest import T0
from tests.unit.uow_builders import AGENT, CODES, directory, library

DIRCAB = Actor(name="Directeur de cabinet", interface=Interface.CLI)
STANDARD = Actor(name="standard", interface=Interface.CLI)
SETTINGS = Settings()


class DispatchingEffects(NoEffects):
    """What bootstrap's effects do with the dispatcher; the alarm is the test's `advance`."""

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None
        self.closed_crises: list[str] = []

    def queued(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.nudge()

    def cancelled(self, crisis_id: str, cancel: CancelPending) -> None:
        if self.dispatcher is not None:
            self.dispatcher.cancelled(crisis_id, cancel)

    def before_receipt(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.flush()

    def closed(self, crisis_id: str) -> None:
        self.closed_crises.append(crisis_id)


@dataclass
class World:
    """The service, its dispatcher and simulated channels on one in-memory store."""

    store: MemoryStore
    clock: FakeClock
    orchestrator: Orchestrator
    dispatcher: Dispatcher
    channels: dict[ChannelName, SimulatedChannel]
    effects: DispatchingEffects
    crises: list[str] = field(default_factory=list)

    def activate(self, t0: datetime | None = None, **overrides: object) -> str:
        """Record a flood T0 for three communes; returns the crisis id."""
        fields: dict[str, object] = {
            "kind": EventKind.INONDATION,
            "t0": t0 or self.clock.now(),
            "synergi_ref": "SYN-42-0001",
            "communes": CODES,
            "recorded_by": AGENT,
        }
        fields.update(overrides)
        crisis = self.orchestrator.activate(ActivationRequest(**fields)).crisis  # type: ignore[arg-type]
        if crisis.id not in self.crises:
            self.crises.append(crisis.id)
        return crisis.id

    async def advance(self, minutes: float) -> None:
        """Move the clock minute by minute, ticking and dispatching like the service does."""
        for _ in range(int(minutes)):
            self.clock.advance(60)
            for crisis_id in self.crises:
                self.orchestrator.tick(crisis_id)
            await self.dispatcher.drain()

    def journal(self, crisis_id: str, kind: str | None = None) -> list[JournalEntry]:
        """The main courante, or its entries of one fact type."""
        entries = self.orchestrator.journal(crisis_id)
        return [e for e in entries if kind is None or e.fact.type == kind]


def _world(simulations: dict[ChannelName, Simulation] | None = None) -> World:
    store, clock, effects = MemoryStore(), FakeClock(T0), DispatchingEffects()
    orchestrator = Orchestrator(
        store,
        clock,
        library(),
        directory,
        engine_config(SETTINGS),
        channel_rates={n.value: c.rate_per_second for n, c in SETTINGS.channels.items()},
        effects=effects,
    )
    channels = {
        name: SimulatedChannel(
            name,
            clock,
            simulation=(simulations or {}).get(name, Simulation(latency=0)),
            inbound=orchestrator.receive,
        )
        for name in SETTINGS.channels
    }
    limits = {
        n: ChannelLimits(
            rate_per_second=c.rate_per_second, burst=c.burst, concurrency=c.concurrency
        )
        for n, c in SETTINGS.channels.items()
    }
    dispatcher = Dispatcher(store, dict(channels), limits, clock)
    effects.dispatcher = dispatcher
    return World(store, clock, orchestrator, dispatcher, dict(channels), effects)


@pytest.fixture
def world() -> World:
    """A fresh world at T0."""
    return _world()


def _verified(world: World, crisis_id: str) -> list[str]:
    with world.store.transaction() as tx:
        stored, head_seq, head_hash = tx.stored_journal(crisis_id)
    return verify(crisis_id, stored, head_seq, head_hash)


async def test_one_hour_on_memory_journals_the_verdict_and_the_chain_verifies(world):
    """T0, approvals, acknowledgements, the drained outbox and the T0+60 verdict, then closing:
    the same outcome as on the database, and the main courante's chain verifies."""
    crisis_id = world.activate()
    await world.advance(16)
    for step in ("communique_presse", "premier_message"):
        world.orchestrator.approve(crisis_id, step, DIRCAB)
    for contact in (
        "cell-dircab",
        "cell-astreinte-1",
        "cell-com-1",
        "cell-rappel-1",
        "cell-rappel-2",
        "presse-1",
        "maire-42218",
        "adjoint1-42187",
    ):
        world.orchestrator.acknowledge(crisis_id, contact, STANDARD)
    await world.advance(46)
    checkpoints = world.journal(crisis_id, "ComplianceCheckpoint")
    assert [e.fact.minutes for e in checkpoints] == [30, 45, 60]
    verdicts = {v.engagement: v for v in checkpoints[-1].fact.verdicts}
    for engagement in ("47.1", "47.2", "48.2", "48.3", "48.4"):
        assert verdicts[engagement].status == EngagementStatus.MET
    assert (
        verdicts["48.1"].status == EngagementStatus.MET and "non joint" in verdicts["48.1"].detail
    )
    assert verdicts["50.1"].status == EngagementStatus.NOT_APPLICABLE
    ended = world.journal(crisis_id, "ChainEnded")
    assert [e.fact.commune for e in ended] == ["42147"]
    sent = sum(len(c.sent) for c in world.channels.values())
    assert sent and sent == len(world.journal(crisis_id, "DeliveryReported"))
    world.orchestrator.close(crisis_id, DIRCAB, "décrue")
    assert world.journal(crisis_id, "CrisisClosed") and world.effects.closed_crises == [crisis_id]
    with pytest.raises(Refused):
        world.orchestrator.approve(crisis_id, "communique_presse", DIRCAB)
    assert _verified(world, crisis_id) == []


async def test_acknowledgements_from_simulated_recipients_stop_their_calls():
    """Recipients who confirm by SMS are journaled as acknowledging through the provider."""
    world = _world({ChannelName.SMS: Simulation(latency=0, ack_rate=1.0, ack_delay=(30, 60))})
    crisis_id = world.activate()
    await world.advance(8)
    acks = world.journal(crisis_id, "AcknowledgementReceived")
    assert acks and {e.actor.interface for e in acks} == {Interface.PROVIDER}
    assert _verified(world, crisis_id) == []


async def test_provider_callbacks_twice_are_one_fact_each(world):
    """The same receipt or acknowledgement delivered twice by the provider is journaled once."""
    crisis_id = world.activate()
    await world.advance(1)
    paged = [
        e.fact
        for e in world.journal(crisis_id, "MessagesQueued")
        if e.fact.step_id == "alerte_astreinte" and e.fact.channel == ChannelName.SMS
    ]
    key, paged_id = paged[0].recipients[0].outbox_key, paged[0].recipients[0].contact_id
    with world.store.transaction() as tx:
        item = tx.find_outbox(channel=ChannelName.SMS, idempotency_key=key)
    assert item is not None and item.provider_id and item.state == OutboxState.DELIVERED
    receipt = DeliveryReport(channel=ChannelName.SMS, provider_id=item.provider_id, delivered=True)
    ack = AcknowledgementReport(channel=ChannelName.SMS, provider_id=item.provider_id)
    for event in (receipt, receipt, ack, ack):
        await world.orchestrator.receive(event)
    reports = [e for e in world.journal(crisis_id, "DeliveryReported") if e.fact.outbox_key == key]
    acks = [e for e in world.journal(crisis_id, "AcknowledgementReceived")]
    assert len(reports) == 1
    assert [e.fact.contact_id for e in acks] == [paged_id]


async def test_a_reply_acknowledges_the_latest_message_to_that_number(world):
    """A "reçu" by SMS answers the last message that asked that number; a stranger's does not."""
    crisis_id = world.activate()
    await world.advance(1)
    with world.store.transaction() as tx:
        paged = tx.in_states([OutboxState.DELIVERED])
    asked = next(i for i in paged if i.message.ask_acknowledgement)
    address = asked.message.address
    assert await world.orchestrator.acknowledge_reply(ChannelName.SMS, f" {address} ")
    assert not await world.orchestrator.acknowledge_reply(ChannelName.SMS, "+33639980099")
    acks = world.journal(crisis_id, "AcknowledgementReceived")
    assert [e.fact.contact_id for e in acks] == [asked.message.contact_id]


async def test_drafter_cannot_approve_and_the_refusal_is_journaled(world):
    """Four-eyes: approving one's own draft is refused, and the refusal is in the main courante."""
    crisis_id = world.activate()
    await world.advance(16)
    drafter = Actor(name="modèle « inondation_communique »", interface=Interface.CLI)
    with pytest.raises(Refused, match="double regard"):
        world.orchestrator.approve(crisis_id, "communique_presse", drafter)
    refused = world.journal(crisis_id, "ApprovalRefused")
    assert [e.actor.name for e in refused] == [drafter.name]
    assert not world.journal(crisis_id, "MessageApproved")


async def test_public_message_waits_for_approval(world):
    """Without approval, no public message leaves: 48.4 is at risk at T0+30."""
    crisis_id = world.activate()
    await world.advance(31)
    queued = world.journal(crisis_id, "MessagesQueued")
    assert not [e for e in queued if e.fact.step_id == "premier_message"]
    point30 = world.journal(crisis_id, "ComplianceCheckpoint")[0].fact
    assert {v.engagement: v.status for v in point30.verdicts}["48.4"] == EngagementStatus.AT_RISK


def test_repeated_activation_returns_the_same_crisis(world):
    """The same key, or the same activation typed again without one, records one crisis."""
    first = world.activate(idempotency_key="web-123")
    assert world.activate(idempotency_key="web-123") == first
    assert world.activate() == first
    assert len(world.journal(first, "CodActivated")) == 1


def test_same_key_with_another_area_is_refused_not_merged(world):
    """A repeated key must carry the same activation."""
    world.activate(idempotency_key="web-123")
    with pytest.raises(ActivationError, match="communes concernées"):
        world.activate(idempotency_key="web-123", communes=("42218",))


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"t0": T0 + timedelta(hours=1)}, "futur"),
        ({"communes": ("42218", "99999")}, "99999"),
        ({"communes": ()}, "au moins une commune"),
    ],
)
def test_invalid_activations_are_refused_and_record_nothing(world, overrides, said):
    """A T0 in the future or unknown communes are refused, in French, before any write."""
    with pytest.raises(ActivationError, match=said):
        world.activate(**overrides)
    with world.store.transaction() as tx:
        assert tx.crises_like(Mode.REEL, "SYN-42-0001", EventKind.INONDATION) == []


def test_ciav_number_is_refused_outside_an_attack(world):
    """The CIAV number belongs to terror attacks only."""
    crisis_id = world.activate()
    with pytest.raises(Refused, match="attentat"):
        world.orchestrator.set_ciav_number(crisis_id, "01 99 00 00 02", DIRCAB)


def test_media_requests_get_one_first_answer(world):
    """A media request is assigned, answered once; a second first answer is refused and the
    refused unit of work journals nothing."""
    crisis_id = world.activate()
    request = MediaRequestReceived(
        request_id="P1",
        kind="appel",
        outlet="Le Progrès",
        journalist="Camille Martin",
        topic="victimes",
        question="Y a-t-il des victimes ?",
    )
    world.orchestrator.record(crisis_id, [request], AGENT)
    world.orchestrator.media_follow_up(crisis_id, "P1", AGENT, assignee="cell-com-1")
    world.orchestrator.media_follow_up(crisis_id, "P1", AGENT, answer="Pas de victime.")
    before = world.journal(crisis_id)
    with pytest.raises(Refused, match="première réponse"):
        world.orchestrator.media_follow_up(crisis_id, "P1", AGENT, answer="Autre réponse.")
    with pytest.raises(Refused, match="aucune sollicitation"):
        world.orchestrator.media_follow_up(crisis_id, "P9", AGENT, assignee="cell-com-1")
    assert world.journal(crisis_id) == before
    kinds = [e.fact.type for e in before[-3:]]
    assert kinds == ["MediaRequestReceived", "MediaRequestAssigned", "MediaRequestAnswered"]


async def test_manual_publication_is_refused_for_a_person_or_an_unknown_key(world):
    """Only a public channel's message can be recorded as published by hand."""
    crisis_id = world.activate()
    await world.advance(1)
    with world.store.transaction() as tx:
        person = tx.in_states([OutboxState.DELIVERED])[0]
    with pytest.raises(Refused, match="publication au public"):
        world.orchestrator.published_by_hand(crisis_id, person.message.idempotency_key, AGENT)
    with pytest.raises(Refused, match="message inconnu"):
        world.orchestrator.published_by_hand(crisis_id, "nope", AGENT)


def test_a_callback_refusal_is_journaled_once(world):
    """The same refused provider callback, repeated, is one warning in its crisis."""
    crisis_id = world.activate()
    with world.store.transaction() as tx:
        key = tx.in_states([OutboxState.PENDING])[0].message.idempotency_key
    for _ in range(3):
        assert world.orchestrator.callback_refused(key, "/twilio/sms", "x") == crisis_id
    assert world.orchestrator.callback_refused("inconnue", "/twilio/sms", "x") is None
    refused = [
        e for e in world.journal(crisis_id, "WarningRaised") if e.fact.code == "rappel_refuse"
    ]
    assert len(refused) == 1

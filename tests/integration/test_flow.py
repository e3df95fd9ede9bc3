"""The first hour end to end on a fake clock: playbook, approvals, acknowledgements, verdict at T0+60."""

from __future__ import annotations

import pytest

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport
from crisis.bootstrap import build
from crisis.engine import Refused
from crisis.model import Actor, EngagementStatus, Interface
from crisis.runtime import resume
from playbooks.model import EventKind
from tests.integration.helpers import DIRCAB, activate, advance, journal, minutes, of_type


async def test_one_hour_flow_journals_the_verdict_at_t0_plus_60(app, clock):
    """From T0 to T0+60: steps run, approvals release public messages, checkpoints and verdict journaled."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 16)
    for step in ("communique_presse", "premier_message"):
        app.orchestrator.approve(crisis.id, step, DIRCAB)
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
        app.orchestrator.acknowledge(
            crisis.id, contact, Actor(name="standard", interface=Interface.CLI)
        )
    await advance(app, clock, 46)
    entries = journal(app, crisis.id)
    checkpoints = of_type(entries, "ComplianceCheckpoint")
    assert [e.fact.minutes for e in checkpoints] == [30, 45, 60]
    final = checkpoints[-1].fact
    assert final.final
    verdicts = {v.engagement: v for v in final.verdicts}
    assert verdicts["47.1"].status == EngagementStatus.MET
    assert verdicts["47.2"].status == EngagementStatus.MET
    assert verdicts["48.3"].status == EngagementStatus.MET
    assert verdicts["48.4"].status == EngagementStatus.MET
    assert verdicts["48.2"].status == EngagementStatus.MET
    # Montbrison's officials never answered: every attempt and the fallback were made -> non joint
    assert verdicts["48.1"].status == EngagementStatus.MET
    assert "non joint" in verdicts["48.1"].detail
    assert verdicts["50.1"].status == EngagementStatus.NOT_APPLICABLE
    for v in verdicts.values():
        assert all(1 <= n <= checkpoints[-1].seq for n in v.evidence)
    # the hour is over: the final verdict has nothing "en cours" or "à risque"
    open_ = {EngagementStatus.PENDING, EngagementStatus.AT_RISK}
    assert not [v.engagement for v in final.verdicts if v.status in open_]
    # after the acknowledgements (T0+16), only Montbrison's officials were still called, one
    # after the other and again, until its chain ended "non joint" with every call listed
    later = [
        r
        for e in of_type(entries, "MessagesQueued")
        if e.fact.step_id == "alerte_maires" and e.at >= crisis.t0 + minutes(17)
        for r in e.fact.recipients
    ]
    assert later and {r.commune for r in later} == {"42147"}
    ended = of_type(entries, "ChainEnded")
    assert [e.fact.commune for e in ended] == ["42147"]
    assert len(ended[0].fact.attempts) >= 4
    assert "Montbrison — NON JOINT" in ended[0].text


async def test_drafter_cannot_approve_and_the_refusal_is_journaled(app, clock):
    """Four-eyes: approving one's own draft is refused, and the refusal is in the main courante."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 16)
    drafter = Actor(name="modèle « inondation_communique »", interface=Interface.CLI)
    with pytest.raises(Refused, match="double regard"):
        app.orchestrator.approve(crisis.id, "communique_presse", drafter)
    refused = of_type(journal(app, crisis.id), "ApprovalRefused")
    assert len(refused) == 1 and refused[0].actor.name == drafter.name
    assert not of_type(journal(app, crisis.id), "MessageApproved")


async def test_public_message_waits_for_approval(app, clock):
    """Without approval, no public message leaves: the step waits and 48.4 is at risk at T0+30."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 31)
    entries = journal(app, crisis.id)
    assert not [
        e for e in of_type(entries, "MessagesQueued") if e.fact.step_id == "premier_message"
    ]
    point30 = of_type(entries, "ComplianceCheckpoint")[0].fact
    assert {v.engagement: v.status for v in point30.verdicts}["48.4"] == EngagementStatus.AT_RISK


async def test_restart_runs_overdue_steps_at_once_and_journals_them_late(app, settings, clock):
    """After downtime, the re-armed crisis runs what fell due, marked late, and skips nothing."""
    crisis = activate(app, clock.now()).crisis
    app.close()
    clock.advance(25 * 60)  # the orchestrator was down from T0 to T0+25
    again = build(settings, clock=clock)
    assert resume(again) == [crisis.id]
    triggered = {
        e.fact.step_id: e.fact for e in of_type(journal(again, crisis.id), "StepTriggered")
    }
    assert triggered["alerte_maires"].late_seconds == pytest.approx(20 * 60)
    again.close()


def test_fanout_slower_than_t0_plus_45_is_warned(app, clock):
    """The planner projects each fan-out at the channel's rate and warns when it ends after T0+45."""
    slow = app.orchestrator.channel_rates | {"voice": 0.002}
    app.orchestrator.channel_rates = slow
    crisis = activate(app, clock.now()).crisis
    warnings = [
        e.fact.message
        for e in of_type(journal(app, crisis.id), "WarningRaised")
        if e.fact.code == "debit"
    ]
    assert warnings and "T0+45" in warnings[0]


def test_ciav_number_is_refused_outside_an_attack(app, clock):
    """The CIAV number belongs to terror attacks only."""
    crisis = activate(app, clock.now()).crisis
    with pytest.raises(Refused, match="attentat"):
        app.orchestrator.set_ciav_number(crisis.id, "01 99 00 00 02", DIRCAB)


async def test_attack_relays_the_ciav_number_once_given(app, clock):
    """The CIAV relay waits for the number, then publishes it on every public channel."""
    crisis = activate(app, clock.now(), kind=EventKind.ATTENTAT).crisis
    await advance(app, clock, 25)
    entries = journal(app, crisis.id)
    assert any(e.fact.step_id == "relais_ciav" for e in of_type(entries, "StepHeld"))
    app.orchestrator.set_ciav_number(crisis.id, "01 99 00 00 02", DIRCAB)
    await advance(app, clock, 1)
    queued = [
        e.fact
        for e in of_type(journal(app, crisis.id), "MessagesQueued")
        if e.fact.step_id == "relais_ciav"
    ]
    assert {q.channel.value for q in queued} == {"website", "x", "facebook", "app"}


async def test_provider_callbacks_twice_are_one_fact_each(app, clock):
    """The same receipt or acknowledgement delivered twice by the provider is journaled once."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 1)
    paged = [
        e.fact
        for e in of_type(journal(app, crisis.id), "MessagesQueued")
        if e.fact.step_id == "alerte_astreinte" and e.fact.channel == ChannelName.SMS
    ]
    key, paged_id = paged[0].recipients[0].outbox_key, paged[0].recipients[0].contact_id
    with app.store.transaction() as tx:
        item = tx.find_outbox(channel=ChannelName.SMS, idempotency_key=key)
    assert item is not None and item.provider_id
    # the simulated provider reported the delivery already: the same receipt comes twice more
    receipt = DeliveryReport(
        channel=item.message.channel, provider_id=item.provider_id, delivered=True
    )
    ack = AcknowledgementReport(channel=item.message.channel, provider_id=item.provider_id)
    for event in (receipt, receipt, ack, ack):
        await app.orchestrator.receive(event)
    entries = journal(app, crisis.id)
    reports = [
        e
        for e in of_type(entries, "DeliveryReported")
        if e.fact.outbox_key == key and e.fact.delivered
    ]
    acks = [e for e in of_type(entries, "AcknowledgementReceived") if e.fact.contact_id == paged_id]
    assert len(reports) == 1
    assert len(acks) == 1 and acks[0].actor.interface.value == "fournisseur"


async def test_rescan_picks_up_new_crises_and_missed_alarms_only(app, clock):
    """The periodic re-scan ticks crises it has not seen and those with an overdue step, not the rest."""
    first = activate(app, clock.now()).crisis
    known: set[str] = set()
    assert resume(app, known) == [first.id]
    assert resume(app, known) == []  # nothing new, nothing overdue
    clock.advance(6 * 60)  # the T0+5 steps fell due and no alarm rang (another process, lost alarm)
    assert resume(app, known) == [first.id]
    triggered = {e.fact.step_id for e in of_type(journal(app, first.id), "StepTriggered")}
    assert "alerte_maires" in triggered

"""A public channel down for good: the agent is told what to post by hand and records it."""

from __future__ import annotations

import pytest

from channels.base import ChannelName
from crisis.bootstrap import build
from crisis.compliance import judge
from crisis.engine import Refused
from crisis.model import Actor, EngagementStatus, Interface
from tests.integration.helpers import DIRCAB, activate, advance, journal, of_type


@pytest.fixture
def broken_x_app(settings, clock):
    channels = dict(settings.channels)
    x = channels[ChannelName.X]
    channels[ChannelName.X] = x.model_copy(
        update={"simulation": x.simulation.model_copy(update={"failure_rate": 1.0})}
    )
    application = build(settings.model_copy(update={"channels": channels}), clock=clock)
    yield application
    application.close()


async def test_failed_public_channel_warns_with_the_text_and_manual_post_counts(
    broken_x_app, clock
):
    app = broken_x_app
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 16)
    app.orchestrator.approve(crisis.id, "premier_message", DIRCAB)
    await advance(app, clock, 2)
    entries = journal(app, crisis.id)
    warnings = [
        e for e in of_type(entries, "WarningRaised") if e.fact.code == "publication_manuelle"
    ]
    assert len(warnings) == 1
    failed = next(
        e.fact
        for e in of_type(entries, "DeliveryAttempted")
        if e.fact.channel == ChannelName.X and e.fact.outcome == "failed"
    )
    assert "X (Twitter)" in warnings[0].text and failed.outbox_key in warnings[0].text
    queued = next(
        e.fact for e in of_type(entries, "MessagesQueued") if e.fact.channel == ChannelName.X
    )
    assert "Texte à publier" in warnings[0].text  # the agent has the text at hand

    agent = Actor(name="Chargée de communication", interface=Interface.CLI)
    app.orchestrator.published_by_hand(
        crisis.id, failed.outbox_key, agent, "https://x.com/Prefet42/status/1"
    )
    manual = [
        e
        for e in of_type(journal(app, crisis.id), "DeliveryAttempted")
        if e.fact.outcome == "manual"
    ]
    assert len(manual) == 1 and manual[0].actor.name == agent.name
    assert manual[0].fact.outbox_key == queued.recipients[0].outbox_key
    verdicts = {v.engagement: v for v in judge(journal(app, crisis.id), clock.now())}
    assert "X (Twitter)" in verdicts["48.4"].detail
    assert verdicts["48.4"].status == EngagementStatus.MET
    with pytest.raises(Refused, match="déjà été publié"):
        app.orchestrator.published_by_hand(crisis.id, failed.outbox_key, agent)


async def test_manual_publication_refused_for_a_person_or_unknown_key(app, clock):
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 1)
    sms = next(
        e.fact
        for e in of_type(journal(app, crisis.id), "MessagesQueued")
        if e.fact.channel == ChannelName.SMS
    )
    with pytest.raises(Refused, match="au public"):
        app.orchestrator.published_by_hand(crisis.id, sms.recipients[0].outbox_key, DIRCAB)
    with pytest.raises(Refused, match="inconnu"):
        app.orchestrator.published_by_hand(crisis.id, "nope", DIRCAB)

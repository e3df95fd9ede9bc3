"""A step whose purpose is already achieved is not played: the reminder « Proposer au préfet
l'activation de la CIP » falls due after the préfet ordered it and is journaled « sans objet »,
shown so on the dashboard and in the REX, and never counted as missed (SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from crisis import compliance
from crisis.bootstrap import App
from crisis.model import (
    Actor,
    Authority,
    EngagementStatus,
    Interface,
    StepSkipped,
    StepStatus,
    StepTriggered,
    WarningRaised,
)
from crisis.reports import write_rex
from tests.integration.helpers import activate, advance, journal

NUMBER = "+33465714242"  # ARCEP fiction block 04 65 71
PREFET = Actor(name="Préfet de la Loire", interface=Interface.CLI)
REMINDER = "proposition_cip"  # the flood playbook's step at T0+30 (action activate_cip)


async def test_the_cip_reminder_is_without_object_once_the_cip_is_ordered(
    app: App, clock, tmp_path: Path
):
    """CIP ordered at T0+25: at T0+30 the reminder is journaled « sans objet » with the order's
    time, raises no warning, is done, and the verdicts and the REX say so."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 25)
    app.orchestrator.activate_cip(crisis.id, NUMBER, PREFET, authority=Authority.PREFET)
    await advance(app, clock, 10)

    entries = journal(app, crisis.id)
    (skipped,) = [e for e in entries if isinstance(e.fact, StepSkipped)]
    assert skipped.fact.step_id == REMINDER
    assert "sans objet : la CIP est déjà activée sur ordre du préfet" in skipped.text
    assert "Proposer au préfet l'activation de la CIP" in skipped.text
    assert not [
        e for e in entries if isinstance(e.fact, StepTriggered) and e.fact.step_id == REMINDER
    ]
    assert not [e for e in entries if isinstance(e.fact, WarningRaised) and e.fact.code == "cip"]
    with app.store.transaction() as tx:
        (step,) = [s for s in tx.steps(crisis.id) if s.step_id == REMINDER]
    assert step.status == StepStatus.DONE and step.triggered_at is None
    assert step.hold_reason.startswith("sans objet")

    verdicts = compliance.judge(entries, clock.now())
    assert all(v.status != EngagementStatus.MISSED for v in verdicts if v.engagement == "50.1")
    (md,) = write_rex(
        entries, clock.now(), tmp_path, prefecture="Préfecture de la Loire", formats=("md",)
    )
    assert "sans objet, la CIP est déjà activée" in md.read_text(encoding="utf-8")


async def test_the_cip_reminder_still_fires_when_the_cip_is_not_ordered(app: App, clock):
    """Without an order, the reminder is played at T0+30 and warns the cell, as before."""
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 31)
    entries = journal(app, crisis.id)
    assert [e for e in entries if isinstance(e.fact, StepTriggered) and e.fact.step_id == REMINDER]
    assert [e for e in entries if isinstance(e.fact, WarningRaised) and e.fact.code == "cip"]
    assert not [e for e in entries if isinstance(e.fact, StepSkipped)]

"""The CIP (50): the order needs the préfet's delegation; T0 CIP starts the announcement of the
numéro unique on the three means, whose delays the compliance check and its report show;
closing the CIP leaves the event running."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from channels.base import ChannelName
from crisis import compliance
from crisis.bootstrap import App
from crisis.cli import app as cli
from crisis.engine import Refused
from crisis.model import (
    Actor,
    Authority,
    CipActivated,
    CipClosed,
    DeliveryAttempted,
    EngagementStatus,
    Interface,
)
from crisis.reports import write_compliance
from tests.integration.helpers import DIRCAB, activate, advance, journal

NUMBER = "+33465714242"  # ARCEP fiction block 04 65 71
PREFET = Actor(name="Préfet de la Loire", interface=Interface.CLI)


def _announced(app: App, crisis_id: str) -> dict[ChannelName, list[DeliveryAttempted]]:
    found: dict[ChannelName, list[DeliveryAttempted]] = {}
    for entry in journal(app, crisis_id):
        fact = entry.fact
        if isinstance(fact, DeliveryAttempted) and fact.step_id.startswith("annonce_cip"):
            found.setdefault(fact.channel, []).append(fact)
    return found


@pytest.mark.parametrize("authority", [Authority.AGENT, Authority.SOUS_PREFET])
async def test_only_the_prefet_delegation_orders_the_cip(app: App, clock, authority):
    crisis = activate(app, clock.now()).crisis
    with pytest.raises(Refused, match="directeur de cabinet ou le préfet"):
        app.orchestrator.activate_cip(crisis.id, NUMBER, DIRCAB, authority=authority)
    assert not [e for e in journal(app, crisis.id) if isinstance(e.fact, CipActivated)]
    app.orchestrator.activate_cip(crisis.id, NUMBER, DIRCAB, authority=Authority.DIRECTEUR_CABINET)
    with pytest.raises(Refused, match="directeur de cabinet ou le préfet"):
        app.orchestrator.close_cip(crisis.id, DIRCAB, authority=authority)


async def test_announcement_on_three_means_and_its_delays_in_the_compliance_report(
    app: App, clock, tmp_path: Path
):
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 20)
    assert not _announced(app, crisis.id), "rien n'est annoncé avant l'ordre du préfet"
    app.orchestrator.activate_cip(crisis.id, "04 65 71 42 42", PREFET, authority=Authority.PREFET)
    await advance(app, clock, 3)

    announced = _announced(app, crisis.id)
    assert {ChannelName.EMAIL, ChannelName.WEBSITE, ChannelName.X, ChannelName.STANDARD} <= set(
        announced
    )
    with app.store.transaction() as tx:
        crisis_now = tx.crisis(crisis.id)
        message = tx.outbox_by_key(announced[ChannelName.STANDARD][0].outbox_key)
    assert crisis_now.cip_number == NUMBER and crisis_now.t0_cip is not None
    assert message is not None and NUMBER in message.message.body

    entries = journal(app, crisis.id)
    verdict = next(v for v in compliance.judge(entries, clock.now()) if v.engagement == "50.1")
    assert verdict.status == EngagementStatus.MET
    assert verdict.detail.startswith("médias T0 CIP+") and "téléphone" in verdict.detail
    (pdf,) = write_compliance(
        entries, clock.now(), tmp_path, prefecture="Préfecture de la Loire", formats=("pdf",)
    )
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "50.1" in text and "T0 CIP" in text


async def test_closing_the_cip_leaves_the_event_running(app: App, clock):
    crisis = activate(app, clock.now()).crisis
    await advance(app, clock, 2)
    app.orchestrator.activate_cip(crisis.id, NUMBER, PREFET, authority=Authority.PREFET)
    await advance(app, clock, 1)
    app.orchestrator.close_cip(crisis.id, PREFET, authority=Authority.PREFET)
    await advance(app, clock, 10)  # the event goes on: the T0+5 steps still run
    with app.store.transaction() as tx:
        now = tx.crisis(crisis.id)
        done = {s.step_id for s in tx.steps(crisis.id) if s.status.value == "done"}
    assert now.closed_at is None and now.cip_number is None and now.t0_cip is not None
    assert {"alerte_maires", "rappel_cellule"} <= done
    kinds = [type(e.fact) for e in journal(app, crisis.id)]
    assert kinds.count(CipActivated) == 1 and kinds.count(CipClosed) == 1
    with pytest.raises(Refused, match="pas activée"):
        app.orchestrator.close_cip(crisis.id, PREFET, authority=Authority.PREFET)


def test_cli_reads_the_authority_of_the_system_account(database_url: str, tmp_path: Path, app):
    """`crisis cip activate` is refused for an account without delegation, accepted once
    [accounts] gives the account the directeur de cabinet's authority."""
    crisis = activate(app, app.clock.now()).crisis
    login = pwd.getpwuid(os.getuid()).pw_name
    base = f'data_dir = "{tmp_path}"\n[database]\nurl = "{database_url}"\n'
    config = tmp_path / "c.toml"
    config.write_text(base, encoding="utf-8")
    runner = CliRunner()
    args = ["cip", "activate", crisis.id, "--numero", NUMBER, "--par", "C. Martin", "--config"]
    refused = runner.invoke(cli, [*args, str(config)])
    assert refused.exit_code == 1 and "autorité de votre compte : agent" in refused.output
    config.write_text(base + f'[accounts]\n"{login}" = "directeur_cabinet"\n', encoding="utf-8")
    accepted = runner.invoke(cli, [*args, str(config)])
    assert accepted.exit_code == 0, accepted.output
    (entry,) = [e for e in journal(app, crisis.id) if isinstance(e.fact, CipActivated)]
    assert entry.actor.name == f"C. Martin (compte {login})"
    assert entry.fact.authority == Authority.DIRECTEUR_CABINET

"""A message drafted before approval, through the service and the database (SQLite and
PostgreSQL): it survives a restart, is what is approved and queued, and the migration holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from channels.base import ChannelName
from crisis.bootstrap import App
from crisis.cli import app as cli
from crisis.clock import FakeClock
from crisis.engine import Refused
from crisis.journal import verify
from crisis.model import Actor, DraftTexts, Interface, MessageDrafted, StepStatus
from crisis.store import Store
from crisis.store.database import MIGRATIONS
from playbooks.model import Section
from tests.integration.helpers import activate, journal, of_type

REDACTRICE = Actor(name="Claire Martin (cmartin)", interface=Interface.WEB)
DIRCAB = Actor(name="Paul Durand (pdurand)", interface=Interface.WEB)
STEP = "premier_message"
TEXTS = DraftTexts(
    subject="Crue : point de situation",
    short="{{ prefecture }} : crue en cours, restez chez vous.",
    voice="Ici la {{ prefecture }}. Restez chez vous.",
    intro="Le COD est activé depuis {{ t0_local }}.",
    sections={Section.CONSEILS_COMPORTEMENT: "Ne prenez pas votre voiture."},
    closing="Prochain point à 4 heures.",
)


def _crisis(app: App, clock: FakeClock) -> str:
    """A flood declared 20 minutes ago: its public messages wait for approval."""
    return activate(app, clock.now() - timedelta(minutes=20)).crisis.id


def test_a_draft_survives_a_restart_and_is_what_is_queued(app: App, clock: FakeClock) -> None:
    """Stored with the crisis (read back by a new connection), journaled with its sources in
    an intact chain; the drafter's approval is refused, another's queues the drafted text."""
    crisis_id = _crisis(app, clock)
    app.orchestrator.draft(crisis_id, STEP, TEXTS, REDACTRICE)
    reopened = Store.open(str(app.store.engine.url.render_as_string(hide_password=False)))
    try:
        with reopened.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            step = next(s for s in tx.steps(crisis_id) if s.step_id == STEP)
            stored, head_seq, head_hash = tx.stored_journal(crisis_id)
    finally:
        reopened.close()
    assert set(crisis.drafts) == {STEP}
    assert crisis.drafts[STEP] == TEXTS.template("inondation_premier_message (rédaction)")
    assert (step.status, step.drafted_by, step.approved_by) == (
        StepStatus.APPROVAL,
        REDACTRICE.name,
        "",
    )
    assert verify(crisis_id, stored, head_seq, head_hash) == []
    [entry] = of_type(journal(app, crisis_id), "MessageDrafted")
    assert isinstance(entry.fact, MessageDrafted) and entry.fact.texts == TEXTS
    assert entry.actor == REDACTRICE

    with pytest.raises(Refused, match="double regard"):
        app.orchestrator.approve(crisis_id, STEP, REDACTRICE)
    app.orchestrator.approve(crisis_id, STEP, DIRCAB)
    with app.store.transaction() as tx:
        x = tx.outbox_by_key(f"{crisis_id}:{STEP}:public-x:x:v1")
        site = tx.outbox_by_key(f"{crisis_id}:{STEP}:public-website:website:v1")
    assert x is not None and site is not None
    prefecture = app.orchestrator.config.prefecture
    assert x.message.channel == ChannelName.X
    assert x.message.body == f"{prefecture} : crue en cours, restez chez vous."
    assert site.message.subject == "Crue : point de situation"
    assert "Conseils de comportement\nNe prenez pas votre voiture." in site.message.body


def test_migration_0005_goes_down_and_up_again_with_crises(app: App, clock: FakeClock) -> None:
    """On a database holding a crisis: down to 0004 (column gone, rows kept), up again (the
    crisis has no draft, and takes one)."""
    crisis_id = _crisis(app, clock)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with app.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with pytest.raises(Exception, match="drafts"), app.store.transaction() as tx:
        tx.crisis(crisis_id)
    with app.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with app.store.transaction() as tx:
        assert tx.crisis(crisis_id).drafts == {}
        assert len(tx.steps(crisis_id)) == len(tx.crisis(crisis_id).plan.steps)
    app.orchestrator.draft(crisis_id, STEP, TEXTS, REDACTRICE)
    with app.store.transaction() as tx:
        assert set(tx.crisis(crisis_id).drafts) == {STEP}


def test_cli_drafts_from_a_template_file(
    app: App, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    """`crisis draft ID ETAPE --file textes.toml --by ...`: a file in the templates' format is
    the step's message; a key the format lacks, or a text that does not compose, is refused in
    French and nothing is recorded."""
    crisis_id = _crisis(app, clock)
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "{database_url}"\n', encoding="utf-8"
    )
    texts = tmp_path / "textes.toml"
    runner = CliRunner()
    args = ["draft", crisis_id, STEP, "--fichier", str(texts), "--par", "C. Martin", "-c"]

    texts.write_text('subject = "Crue"\nshort = "Court"\nvoice = "Vocal"\nobjet = "x"\n')
    unknown = runner.invoke(cli, [*args, str(config)])
    assert unknown.exit_code == 1 and "clé « objet » : clé inconnue" in unknown.output
    texts.write_text('subject = "Crue"\nshort = "{{ inconnu }}"\nvoice = "Vocal"\n')
    broken = runner.invoke(cli, [*args, str(config)])
    assert broken.exit_code == 1 and "texte court : texte impossible à composer" in broken.output
    assert of_type(journal(app, crisis_id), "MessageDrafted") == []

    texts.write_text(
        'subject = "Crue"\nshort = "{{ prefecture }} : restez chez vous."\nvoice = "Vocal"\n'
        '[sections]\nconseils_comportement = "Restez à l\'étage."\n',
        encoding="utf-8",
    )
    done = runner.invoke(cli, [*args, str(config)])
    assert done.exit_code == 0, done.output
    assert "elle attend la validation d'une autre personne" in done.output
    [entry] = of_type(journal(app, crisis_id), "MessageDrafted")
    assert entry.actor == Actor(name="C. Martin", interface=Interface.CLI)
    with app.store.transaction() as tx:
        draft = tx.crisis(crisis_id).drafts[STEP]
    assert draft.sections == {Section.CONSEILS_COMPORTEMENT: "Restez à l'étage."}

"""`crisis media|cip|report ...` on a stored exercise: the press queue, the CIP order, the REX
lessons and the three reports, through the command line (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import pwd
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader
from typer.testing import CliRunner

from crisis.bootstrap import App, build
from crisis.cli import app as cli
from crisis.cli.report import parse_lessons
from crisis.model import (
    Actor,
    Authority,
    CipActivated,
    CipCallEnded,
    CipClosed,
    Interface,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    Mode,
)
from crisis.settings import load_settings
from tests.integration.helpers import activate, advance, journal

runner = CliRunner()
PRESS = Actor(name="simulateur de pression médiatique", interface=Interface.SYSTEM)


@pytest.fixture
def stored(database_url: str, tmp_path: Path, clock) -> tuple[App, Path, str]:
    config = tmp_path / "c.toml"
    login = pwd.getpwuid(os.getuid()).pw_name  # the CIP's order needs the préfet's delegation
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
        f'[accounts]\n"{login}" = "prefet"\n',
        encoding="utf-8",
    )
    application = build(load_settings(config, {}), clock=clock)
    crisis = activate(application, clock.now(), mode=Mode.EXERCICE).crisis
    request = MediaRequestReceived(
        request_id="P-001",
        kind="appel",
        outlet="Le Progrès",
        journalist="Camille Fictive",
        topic="evacuations",
        question="Combien de personnes ont été évacuées à Saint-Étienne ?",
        simulated=True,
    )
    application.orchestrator.record(crisis.id, [request], PRESS)
    return application, config, crisis.id


def invoke(config: Path, *args: str) -> Result:
    return runner.invoke(cli, [*args, "--config", str(config)])


def _facts(app: App, crisis_id: str, kind: type) -> list:  # type: ignore[type-arg]
    return [e.fact for e in journal(app, crisis_id) if isinstance(e.fact, kind)]


def test_media_queue_assign_and_first_answer(stored):
    app, config, crisis_id = stored
    listed = invoke(config, "media", "list", crisis_id)
    assert listed.exit_code == 0, listed.output
    assert "P-001" in listed.output and "en attente" in listed.output

    assigned = invoke(config, "media", "assign", crisis_id, "P-001", "presse-2", "--par", "Chef")
    assert assigned.exit_code == 0, assigned.output
    assert [f.assignee for f in _facts(app, crisis_id, MediaRequestAssigned)] == ["presse-2"]

    answered = invoke(
        config, "media", "answer", crisis_id, "P-001", "--par", "presse-2", "--reponse", "120"
    )
    assert answered.exit_code == 0, answered.output
    again = invoke(config, "media", "answer", crisis_id, "P-001", "--par", "presse-3")
    assert again.exit_code == 1 and "déjà reçu une première réponse" in again.output
    assert len(_facts(app, crisis_id, MediaRequestAnswered)) == 1

    unknown = invoke(config, "media", "answer", crisis_id, "P-404", "--par", "presse-2")
    assert unknown.exit_code == 1 and "P-404" in unknown.output
    assert "Aucune sollicitation" in invoke(config, "media", "list", crisis_id).output
    assert "P-001" in invoke(config, "media", "list", crisis_id, "--toutes").output


def test_cip_order_then_closing_keeps_the_event_open(stored):
    app, config, crisis_id = stored
    opened = invoke(
        config, "cip", "activate", crisis_id, "--numero", "+33465714242", "--par", "Préfet"
    )
    assert opened.exit_code == 0, opened.output
    twice = invoke(config, "cip", "activate", crisis_id, "--numero", "+33465714242", "--par", "P")
    assert twice.exit_code == 1 and "déjà activée" in twice.output
    closed = invoke(config, "cip", "close", crisis_id, "--par", "Préfet")
    assert closed.exit_code == 0, closed.output
    assert len(_facts(app, crisis_id, CipActivated)) == 1
    assert len(_facts(app, crisis_id, CipClosed)) == 1
    with app.store.transaction() as tx:
        crisis = tx.crisis(crisis_id)
    assert crisis.closed_at is None and crisis.t0_cip is not None and crisis.cip_number is None


def test_cip_sheet_shows_the_information_to_read_and_the_call_figures(stored, clock):
    app, config, crisis_id = stored
    assert invoke(config, "cip", "sheet", crisis_id).exit_code == 1  # no CIP yet
    app.orchestrator.activate_cip(crisis_id, "+33465714242", PRESS, authority=Authority.PREFET)
    calls = [
        CipCallEnded(
            call_id=f"CA{n}",
            outcome=outcome,
            started_at=clock.now(),
            waited_seconds=wait,
            agent_id="cip-1" if outcome == "repondu" else None,
        )
        for n, (outcome, wait) in enumerate([("repondu", 30), ("repondu", 90), ("abandonne", 200)])
    ]
    app.orchestrator.record(crisis_id, calls, PRESS)
    shown = invoke(config, "cip", "sheet", crisis_id)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "numéro unique +33465714242" in text and "À lire aux appelants" in text
    assert "3 reçus, 2 répondus, 1 abandonnés" in text and "attente moyenne 60 s" in text
    assert "cip-1 : 2 appel(s) pris" in text


def test_lessons_from_markdown_checklist(tmp_path: Path):
    lessons = parse_lessons(
        "Le standard a été saturé dès T0+20.\n\n"
        "- [ ] Doubler la ligne du standard — SIDPC — 15/01/2027\n"
        "- [x] Mettre à jour la liste de rappel — cabinet\n"
        "- [ ] Former deux agents CIP de plus\n",
        "rex.md",
    )
    assert lessons.text == "Le standard a été saturé dès T0+20."
    assert [(a.title, a.owner, a.due, a.done) for a in lessons.actions] == [
        ("Doubler la ligne du standard", "SIDPC", date(2027, 1, 15), False),
        ("Mettre à jour la liste de rappel", "cabinet", None, True),
        ("Former deux agents CIP de plus", "", None, False),
    ]
    with pytest.raises(ValueError, match="ligne 1 : échéance « 31/02/2027 »"):
        parse_lessons("- [ ] Action — X — 31/02/2027", "rex.md")


async def test_reports_and_lessons_through_the_cli(stored, clock, tmp_path: Path):
    app, config, crisis_id = stored
    await advance(app, clock, 61)
    app.orchestrator.close(crisis_id, Actor(name="dircab", interface=Interface.CLI))
    notes = tmp_path / "enseignements.md"
    notes.write_text(
        "Alerte des maires à temps.\n- [ ] Doubler le standard — SIDPC — 15/01/2027\n",
        encoding="utf-8",
    )
    recorded = invoke(
        config, "report", "lessons", crisis_id, str(notes), "--par", "Référent qualité"
    )
    assert recorded.exit_code == 0, recorded.output  # the REX is written after the close
    assert len(_facts(app, crisis_id, LessonsRecorded)) == 1

    out = tmp_path / "rapports"
    rex = invoke(config, "report", "rex", crisis_id, "--output", str(out))
    assert rex.exit_code == 0, rex.output
    (pdf,) = out.glob("REX-*.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Doubler le standard" in text and "SIDPC" in text

    compliance = invoke(
        config, "report", "compliance", crisis_id, "--output", str(out), "--format", "pdf"
    )
    assert compliance.exit_code == 0, compliance.output
    (one,) = out.glob("conformite-*.pdf")
    assert len(PdfReader(one).pages) == 1

    year = clock.now().year
    annual = invoke(config, "report", "annual", str(year), "--output", str(out), "--format", "md")
    assert annual.exit_code == 0, annual.output
    (review,) = out.glob(f"bilan-annuel-{year}.md")
    content = review.read_text(encoding="utf-8")
    assert crisis_id in content and "Doubler le standard" in content

    missing = invoke(config, "report", "rex", "inconnu", "--output", str(out))
    assert missing.exit_code == 1

"""The main courante: append-only, hash-chained, and any edit or removal is detected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from crisis.journal import verify
from tests.integration.helpers import activate


def _verify(app, crisis_id):
    with app.store.transaction() as tx:
        stored, seq, head = tx.stored_journal(crisis_id)
    return verify(crisis_id, stored, seq, head)


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_intact_chain_verifies(app, clock):
    """A journal written by the orchestrator verifies, entry after entry."""
    crisis = activate(app, clock.now()).crisis
    app.orchestrator.note(crisis.id, "Point de situation avec le SDIS.", crisis.recorded_by)
    assert _verify(app, crisis.id) == []


def test_edited_entry_is_detected(app, clock, database_url):
    """Changing an entry's text after the fact breaks the chain at that entry."""
    crisis = activate(app, clock.now()).crisis
    _sql(database_url, "UPDATE journal SET text = 'rien à signaler' WHERE seq = 2")
    problems = _verify(app, crisis.id)
    assert any("n° 2" in p and "modifié" in p for p in problems)


def test_edited_fact_data_is_detected(app, clock, database_url):
    """Changing the recorded fact (not only its wording) is detected too."""
    crisis = activate(app, clock.now()).crisis
    _sql(database_url, "UPDATE journal SET actor = 'quelqu''un d''autre' WHERE seq = 1")
    assert any("n° 1" in p for p in _verify(app, crisis.id))


def test_removed_entry_in_the_middle_is_detected(app, clock, database_url):
    """Deleting an entry leaves a gap that the check names."""
    crisis = activate(app, clock.now()).crisis
    _sql(database_url, "DELETE FROM journal WHERE seq = 3")
    assert any("manquante" in p for p in _verify(app, crisis.id))


def test_removed_last_entry_is_detected(app, clock, database_url):
    """Deleting the last entry is caught by the head recorded with the crisis."""
    crisis = activate(app, clock.now()).crisis
    _sql(
        database_url,
        f"DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal WHERE crisis_id = '{crisis.id}')",
    )
    assert any("fin de la main courante" in p for p in _verify(app, crisis.id))


def test_journal_never_holds_phone_numbers_or_emails(app, clock):
    """Contacts are named by id in the main courante: no number, no address."""
    crisis = activate(app, clock.now()).crisis
    texts = " ".join(e.text + str(e.fact.model_dump()) for e in app.orchestrator.journal(crisis.id))
    for contact in crisis.roster:
        for value in (contact.mobile, contact.landline, contact.email):
            if value:
                assert value not in texts


def test_cli_verify_exits_non_zero_when_the_chain_is_broken(
    app, clock, database_url, tmp_path: Path
):
    """`crisis journal verify` says which crisis is altered and exits non-zero."""
    crisis = activate(app, clock.now()).crisis
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "crisis", "journal", "verify", "--config", str(config)]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intègre" in ok.stdout
    _sql(database_url, "UPDATE journal SET text = 'falsifié' WHERE seq = 1")
    broken = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert crisis.id in broken.stdout and "ALTÉRÉE" in broken.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "crisis", "journal", crisis.id, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0 and "Étape" in shown.stdout
    assert "ALTÉRÉE" in shown.stdout  # the journal is shown, with the warning

"""`crisis journal verify` always says what it verified: which database, how many events and
entries; an empty database is named, so a person who pointed it at the wrong one sees it
(real subprocess; SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crisis.store.urls import database_label
from tests.integration.helpers import activate, journal


def _verify(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisis", "journal", "verify", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_names_the_empty_database_and_then_what_it_checked(
    app, clock, database_url: str, tmp_path: Path
):
    """On an empty database: « Aucun événement dans la base … : rien à vérifier. », exit 0;
    with one crisis: its verdict, then the count of events and entries and the database."""
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    where = database_label(database_url)

    empty = _verify(config)
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert f"Aucun événement dans la {where} : rien à vérifier." in " ".join(empty.stdout.split())

    crisis = activate(app, clock.now()).crisis
    entries = len(journal(app, crisis.id))
    checked = _verify(config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = " ".join(checked.stdout.split())
    assert f"{crisis.id} : main courante intègre" in out
    assert f"Vérifié : 1 événement(s), {entries} entrées de main courante, dans la {where}." in out


def test_the_database_is_shown_without_its_password():
    """A PostgreSQL URL is printed with its password hidden; a SQLite file by its full path."""
    shown = database_label("postgresql+psycopg://crisis:s3cret@127.0.0.1:5432/crisis")
    assert "s3cret" not in shown and "crisis:***@127.0.0.1" in shown
    assert (
        database_label("sqlite:///var/crisis.db")
        == f"base SQLite {Path('var/crisis.db').resolve()}"
    )

"""`crisis note` through the real CLI: no entry without an author, no phone number or address
in the chained main courante, and nothing recorded when the note is refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_activate_cli import _activate, _config

CRISIS = [sys.executable, "-m", "crisis"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("inputs-cli")
    config = _config(tmp)
    result = _activate(config, "42218", "--yes")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp / "c.db") as conn:
        [(crisis_id,)] = conn.execute("SELECT id FROM crisis").fetchall()
    return config, crisis_id


def _note(config: Path, crisis_id: str, text: str, by: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CRISIS, "note", crisis_id, text, "--by", by, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _notes(config: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(config.parent / "c.db") as conn:
        return conn.execute(
            "SELECT actor, text FROM journal WHERE type = 'NoteAdded' ORDER BY seq"
        ).fetchall()


def test_a_note_without_an_author_is_refused(recorded: tuple[Path, str]):
    """An empty or blank --by is refused in French (code 2) and nothing is journaled."""
    config, crisis_id = recorded
    for by in ("", "   "):
        result = _note(config, crisis_id, "RD 1082 coupée", by)
        assert result.returncode == 2, result.stderr
        assert "--by (qui agit) : obligatoire" in " ".join(result.stderr.split())
        assert "Traceback" not in result.stderr
    assert _notes(config) == []


def test_a_note_with_a_phone_number_or_an_address_is_refused(recorded: tuple[Path, str]):
    """A note giving a number or an e-mail address is refused (code 1) without repeating it."""
    config, crisis_id = recorded
    for text in ("rappeler le 06 39 98 00 01", "écrire à maire@commune.example"):
        result = _note(config, crisis_id, text, "Agent, astreinte")
        assert result.returncode == 1, result.stderr
        message = " ".join(result.stderr.split())
        assert "note : le texte contient" in message and "annuaire" in message
        assert "39 98" not in message and "maire@" not in message
    assert _notes(config) == []


def test_a_plain_note_is_journaled_with_its_author(recorded: tuple[Path, str]):
    """A note without personal data is journaled, stripped, with the stripped author."""
    config, crisis_id = recorded
    result = _note(config, crisis_id, "  RD 1082 coupée à 02h10  ", "  Agent, astreinte ")
    assert result.returncode == 0, result.stderr
    assert _notes(config)[-1][0] == "Agent, astreinte"

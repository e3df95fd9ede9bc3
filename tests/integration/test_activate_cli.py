"""`crisis activate`: the area is resolved and shown before T0 is recorded, then frozen."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

CRISIS = [sys.executable, "-m", "crisis"]


def _config(tmp: Path) -> Path:
    config = tmp / "c.toml"
    config.write_text(
        f'data_dir = "{tmp}"\n[database]\nurl = "sqlite:///{tmp / "c.db"}"\n', encoding="utf-8"
    )
    return config


def _activate(
    config: Path, zone: str, *extra: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *CRISIS,
            "activate",
            "--kind",
            "inondation",
            "--t0",
            "00:00",
            "--synergi",
            "SYN-Z",
            "--zone",
            zone,
            "--by",
            "Agent",
            "--config",
            str(config),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def _crises(tmp: Path) -> list[tuple[str, str]]:
    if not (tmp / "c.db").exists():
        return []
    with sqlite3.connect(tmp / "c.db") as conn:
        return conn.execute("SELECT id, communes FROM crisis").fetchall()


def test_epci_and_codes_resolve_to_the_frozen_commune_list(tmp_path: Path):
    """An EPCI plus a code resolve to their communes, shown first, then frozen and journaled."""
    config = _config(tmp_path)
    result = _activate(config, "epci:244200770, 42187", "--yes")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "54 communes" in out and "Saint-Étienne Métropole" in out and "42187 Roanne" in out
    [(crisis_id, communes)] = _crises(tmp_path)
    assert communes.count('"42') == 54 and '"42187"' in communes
    journal = subprocess.run(
        [*CRISIS, "journal", crisis_id, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "54 commune(s)" in journal.stdout


def test_without_confirmation_nothing_is_recorded(tmp_path: Path):
    """Without --yes and without a terminal to confirm, T0 is not recorded and the agent is told why."""
    config = _config(tmp_path)
    result = _activate(config, "arr:421")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert re.search(r"\d+ communes", result.stdout)  # the list was shown
    assert _crises(tmp_path) == []


def test_unknown_parts_of_the_area_are_all_named(tmp_path: Path):
    """Unknown codes, arrondissements and EPCI are listed together; nothing is recorded."""
    config = _config(tmp_path)
    result = _activate(config, "42218, 99999, arr:429, epci:200000000", "--yes")
    assert result.returncode == 1
    err = " ".join(result.stderr.split())
    assert "99999" in err and "429" in err and "200000000" in err
    assert _crises(tmp_path) == []

"""`crisis exercise run --data-dir DIR` deletes only what a previous run created and marked:
a folder holding someone else's files, or the configured data, is refused (exit 2, French)
and left intact; the default folder works on a fresh clone, and again on the second run,
which ends with the exact commands to read and verify the exercise's main courante."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crisis.owned_dir import MARKER
from crisis.store import Store
from tests.scenarios.test_exercise_run import _short_scenario


def _run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CRISIS_CONFIG", "CRISIS_DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "crisis", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**env, "COLUMNS": "250"},
    )


def test_a_folder_holding_another_database_is_refused_and_kept(tmp_path: Path):
    """A non-empty folder without the marker: refused in French, exit 2, nothing deleted."""
    folder = tmp_path / "autre"
    folder.mkdir()
    (folder / "crisis.db").write_bytes(b"une autre base")
    result = _run("exercise", "run", "inondation_furan", "--data-dir", str(folder), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "n'a pas été créé par l'orchestrateur" in said and "rien n'a été supprimé" in said
    assert "Traceback" not in result.stderr
    assert [p.name for p in folder.iterdir()] == ["crisis.db"]
    assert (folder / "crisis.db").read_bytes() == b"une autre base"


@pytest.mark.parametrize("target", ["data_dir", "database"])
def test_the_configured_data_is_refused_even_when_marked(tmp_path: Path, target: str):
    """DIR equal to the configured data_dir, or containing the configured database's folder:
    refused, marker or not, and intact."""
    data, base = tmp_path / "var", tmp_path / "srv" / "base"
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{data}"\n[database]\nurl = "sqlite:///{base / "crisis.db"}"\n',
        encoding="utf-8",
    )
    folder = data if target == "data_dir" else tmp_path / "srv"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("", encoding="utf-8")
    (folder / "garder.txt").write_text("x", encoding="utf-8")
    result = _run(
        "exercise", "run", "inondation_furan", "--data-dir", str(folder), "--config", str(config),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "refusé" in said and "configur" in said and "rien n'a été supprimé" in said
    assert (folder / "garder.txt").exists()


@pytest.mark.slow
def test_the_default_folder_works_twice_and_the_run_says_how_to_verify(tmp_path: Path):
    """On a fresh clone `var/exercice` is created and marked; the second run empties it (a
    leftover goes), plays again and prints commands that read and verify its main courante."""
    scenario = _short_scenario(tmp_path)
    first = _run("exercise", "run", str(scenario), "--speed", "60", cwd=tmp_path, timeout=400)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    folder = tmp_path / "var" / "exercice"
    assert (folder / MARKER).is_file() and (folder / "crisis.db").is_file()
    (folder / "reste-du-premier.txt").write_text("x", encoding="utf-8")

    second = _run("exercise", "run", str(scenario), "--speed", "60", cwd=tmp_path, timeout=400)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert not (folder / "reste-du-premier.txt").exists() and (folder / MARKER).is_file()
    store = Store.open(f"sqlite:///{folder / 'crisis.db'}")
    try:
        with store.transaction() as tx:
            (crisis_id,) = tx.crisis_ids(open_only=False)  # the first run's database is gone
            texts = [e.text for e in tx.journal(crisis_id)]
    finally:
        store.close()
    # the CIP is ordered at T0+25: the T0+30 reminder to propose it is « sans objet »
    assert any("sans objet : la CIP est déjà activée" in t for t in texts)

    lines = {
        m[1]: m[2] for m in re.finditer(r"(?m)^Pour (relire|vérifier)[^:]*: (.+)$", second.stdout)
    }
    assert set(lines) == {"relire", "vérifier"}, second.stdout[-2000:]
    assert crisis_id in lines["relire"] and crisis_id in lines["vérifier"]
    shown = subprocess.run(
        lines["relire"], shell=True, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )  # shell: the very line a person copies
    assert shown.returncode == 0 and "sans objet" in shown.stdout, shown.stdout + shown.stderr
    verified = subprocess.run(
        lines["vérifier"], shell=True, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{crisis_id} : main courante intègre" in verified.stdout
    assert "1 événement(s)" in verified.stdout and str(folder / "crisis.db") in verified.stdout


def test_the_demo_keeps_a_folder_it_did_not_create(tmp_path: Path):
    """`crisis demo --data-dir` follows the same rule: refused in French, exit 2, intact."""
    folder = tmp_path / "autre"
    folder.mkdir()
    (folder / "notes.txt").write_text("à garder", encoding="utf-8")
    result = _run("demo", "--data-dir", str(folder), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "dossier de la démonstration" in " ".join(result.stderr.split())
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]

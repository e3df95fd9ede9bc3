"""The main job: the demo runs a flood crisis to its T0+60 verdict on the embedded default."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from crisis import compliance
from crisis.store import Store


@pytest.mark.slow
def test_demo_runs_to_the_compliance_table(tmp_path: Path):
    """`crisis demo` (accelerated) ends with the journaled verdict, reach per commune and an intact journal."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crisis",
            "demo",
            "--speed",
            "600",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Verdict journalisé" in out and "48.1" in out and "Communes jointes" in out
    assert "chaînage intègre" in out
    assert (tmp_path / "demo" / "crisis.db").exists()
    # the reach per commune, printed from the directory's communes, agrees with the journal
    assert "Communes (48.1)" in out and "Saint-Étienne" in out
    joined, total = map(int, re.search(r"Communes jointes : (\d+)/(\d+)", out).groups())
    store = Store.open(f"sqlite:///{tmp_path / 'demo' / 'crisis.db'}")
    try:
        with store.transaction() as tx:
            (crisis_id,) = tx.crisis_ids(open_only=False)
            entries = tx.journal(crisis_id)
            crisis = tx.crisis(crisis_id)
    finally:
        store.close()
    reach = compliance.commune_reach(
        entries, max(crisis.t0 + timedelta(minutes=61), *(e.at for e in entries))
    )
    assert (joined, total) == (sum(r.status == "joint" for r in reach), len(reach))
    assert 0 < joined < total, "the demo shows reached and not reached communes"
    assert out.count("non jointe") >= total - joined

"""The main job: the demo runs a flood crisis to its T0+60 verdict on the embedded default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


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

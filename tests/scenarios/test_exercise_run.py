"""The exercise, end to end: `crisis exercise run` plays a flood exercise with media pressure
and CIP activation, records the participants' training and writes the REX in HTML, PDF and
Markdown; every message it sent is framed "EXERCICE EXERCICE EXERCICE"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from channels.exercise import FRAME
from crisis.exercise.scenario import LIBRARY
from crisis.model import (
    CipActivated,
    CipCallEnded,
    CrisisClosed,
    InjectPlayed,
    MediaRequestAnswered,
    MediaRequestReceived,
)
from crisis.store import Store


def _short_scenario(tmp_path: Path) -> Path:
    """The shipped flood exercise, cut to one hour so the test runs in about a minute."""
    text = (LIBRARY / "inondation_furan.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^duration = \d+$", "duration = 60", text)
    head, *injects = text.split("[[injects]]")
    kept, tail = [], ""
    for block in injects:
        minutes = int(re.search(r'at = "T0\+(\d+)"', block)[1])  # type: ignore[index]
        if minutes < 60:
            kept.append(block)
        elif "\n[" in block:  # the sections after the last inject ([media], [cip]...) stay
            tail = block[block.index("\n[") :]
    text = "[[injects]]".join([head, *kept]) + tail
    # the callers' rate point at T0+90 is after the end of the cut exercise
    text = text.replace('[[cip.callers]]\nat = "T0+90"\nper_hour = 15\n', "")
    path = tmp_path / "exercice.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_exercise_run_writes_the_rex_and_records_training(tmp_path: Path):
    scenario = _short_scenario(tmp_path)
    data, out = tmp_path / "exercice", tmp_path / "rex"
    result = subprocess.run(
        [sys.executable, "-m", "crisis", "exercise", "run", str(scenario), "--speed", "60",
         "--data-dir", str(data), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Retour d'expérience" in result.stdout

    # the REX, three ways; the PDF's text says what it is
    (html,) = out.glob("REX-EX-*.html")
    (pdf,) = out.glob("REX-EX-*.pdf")
    (md,) = out.glob("REX-EX-*.md")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Retour d'expérience" in text and "EXERCICE" in text and "48.1" in text
    assert "<svg" in html.read_text(encoding="utf-8")
    markdown = md.read_text(encoding="utf-8")
    assert "## 6. Pression médiatique (49.2)" in markdown
    assert "## 7. Cellule d'information du public (CIP)" in markdown

    store = Store.open(f"sqlite:///{data / 'crisis.db'}")
    try:
        with store.transaction() as tx:
            (crisis_id,) = tx.crisis_ids(open_only=False)
            facts = [e.fact for e in tx.journal(crisis_id)]
            directory = tx.load_directory()
    finally:
        store.close()
    assert crisis_id.startswith("EX-")
    injects = [f for f in facts if isinstance(f, InjectPlayed)]
    assert [i.inject_id for i in injects] == [
        "inj-01",
        "inj-02",
        "inj-03",
        "inj-04",
        "inj-05",
        "inj-06",
    ]
    requests = [f for f in facts if isinstance(f, MediaRequestReceived)]
    answers = [f for f in facts if isinstance(f, MediaRequestAnswered)]
    assert len(requests) >= 10 and all(r.simulated for r in requests)
    assert answers and {a.request_id for a in answers} <= {r.request_id for r in requests}
    assert sum(isinstance(f, CipActivated) for f in facts) == 1
    calls = [f for f in facts if isinstance(f, CipCallEnded)]
    assert calls and any(c.outcome == "repondu" for c in calls)
    assert isinstance(facts[-1], CrisisClosed) or any(isinstance(f, CrisisClosed) for f in facts)

    # the participants' taking part is in their training records, with the CIP activated
    exercised = {r.contact_id for r in directory.training if crisis_id in r.label}
    assert {"cip-1", "cell-dircab", "presse-1"} <= exercised
    assert all(r.with_cip_activation for r in directory.training if crisis_id in r.label)

    # nothing left the simulator unframed
    logs = sorted((data / "simulated").glob("exercice-*.jsonl"))
    records = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert records
    assert all(r["body"].startswith(FRAME) and r["body"].endswith(FRAME) for r in records)
    # and the channels of real events carried nothing
    real_logs = [p for p in (data / "simulated").glob("*.jsonl") if p not in logs]
    assert all(not p.read_text() for p in real_logs)

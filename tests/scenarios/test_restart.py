"""Kill the orchestrator (SIGKILL) in the middle of a fan-out and start it again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contacts.geography import load_communes
from tests.scenarios.simulated_config import simulated_config

CRISIS = [sys.executable, "-m", "crisis"]


def _config(tmp: Path) -> Path:
    return simulated_config(tmp, f"sqlite:///{tmp / 'crisis.db'}")


def _lines(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _outbox(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT idempotency_key, channel, state FROM outbox").fetchall()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_sigkill_mid_fanout_then_restart_sends_everything_once(tmp_path: Path):
    """After SIGKILL and restart: timers re-armed, pending sends resumed, nothing sent twice, nothing lost."""
    config = _config(tmp_path)
    env = {**os.environ, "CRISIS_CONFIG": str(config)}
    communes = [c.code_insee for c in load_communes() if c.epci == "244200770"]
    t0 = (datetime.now(UTC) - timedelta(minutes=6)).isoformat()
    subprocess.run(
        [
            *CRISIS,
            "activate",
            "--kind",
            "inondation",
            "--t0",
            t0,
            "--synergi",
            "SYN-KILL",
            "--communes",
            ",".join(communes),
            "--by",
            "test",
            "--yes",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    voice_log = tmp_path / "data" / "simulated" / "voice.jsonl"
    first = subprocess.Popen(
        [*CRISIS, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert _wait(lambda: len(_lines(voice_log)) >= 15, 60), "the fan-out never started"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    sent_before = len(_lines(voice_log))
    total_voice = sum(1 for _k, ch, _s in _outbox(tmp_path / "crisis.db") if ch == "voice")
    assert sent_before < total_voice, (
        "the process was killed after the fan-out ended: nothing to test"
    )

    second = subprocess.Popen(
        [*CRISIS, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:

        def finished() -> bool:
            rows = _outbox(tmp_path / "crisis.db")
            return all(
                state not in {"pending", "sending", "unknown"}
                for _k, ch, state in rows
                if ch in {"voice", "sms", "email"}
            )

        assert _wait(finished, 120), "pending sends were not resumed"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    rows = _outbox(tmp_path / "crisis.db")
    for channel in ("voice", "sms"):
        log = _lines(tmp_path / "data" / "simulated" / f"{channel}.jsonl")
        keys = Counter(r["idempotency_key"] for r in log)
        assert max(keys.values()) == 1, (
            f"{channel}: sent twice {[k for k, n in keys.items() if n > 1]}"
        )
        sent = {k for k, ch, state in rows if ch == channel and state in {"sent", "delivered"}}
        assert set(keys) == sent, f"{channel}: outbox and provider disagree"
    verify = subprocess.run(
        [*CRISIS, "journal", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout

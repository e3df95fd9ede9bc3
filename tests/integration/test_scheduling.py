"""The alarm clock (APScheduler) wakes crises, late alarms included; the CLI status reads the clock."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crisis.clock import AcceleratedClock, SystemClock
from crisis.scheduling import Alarm


async def test_alarm_wakes_the_crisis_at_its_time_and_late_ones_at_once():
    """An alarm fires at its (clock) time; one already past fires immediately, never dropped."""
    woken: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    alarm = Alarm(SystemClock(), lambda crisis_id: woken.append((crisis_id, loop.time())))
    alarm.start()
    try:
        start = loop.time()
        alarm.arm("future", datetime.now(UTC) + timedelta(seconds=0.3))
        alarm.arm("overdue", datetime.now(UTC) - timedelta(minutes=20))
        await asyncio.sleep(0.8)
    finally:
        alarm.shutdown()
    names = [name for name, _ in woken]
    assert names == ["overdue", "future"]
    assert woken[1][1] - start >= 0.25


async def test_alarm_follows_an_accelerated_clock():
    """With a clock ×600, an alarm one virtual minute ahead rings after about 0.1 real second."""
    clock = AcceleratedClock(speed=600)
    woken: list[str] = []
    alarm = Alarm(clock, woken.append)
    alarm.start()
    try:
        alarm.arm("exercise", clock.now() + timedelta(minutes=1))
        await asyncio.sleep(0.05)
        assert woken == []
        await asyncio.sleep(0.4)
    finally:
        alarm.shutdown()
    assert woken == ["exercise"]


def test_status_shows_the_clock_and_each_engagement(tmp_path: Path):
    """`crisis status` prints the time since T0 and the state of each engagement, in French."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n',
        encoding="utf-8",
    )
    crisis = [sys.executable, "-m", "crisis"]
    t0 = (datetime.now(UTC) - timedelta(minutes=12)).isoformat()
    activated = subprocess.run(
        [
            *crisis,
            "activate",
            "--kind",
            "tempete",
            "--t0",
            t0,
            "--synergi",
            "SYN-9",
            "--communes",
            "42218",
            "--by",
            "Agent",
            "--yes",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert activated.returncode == 0, activated.stderr
    crisis_id = re.search(r"(\d{8}-\d{4}-tempete)", activated.stdout).group(1)
    status = subprocess.run(
        [*crisis, "status", crisis_id, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = " ".join(status.stdout.split())
    assert status.returncode == 0, status.stderr
    assert "T0+12 min" in out and "reste 48 min" in out
    assert "47.1" in out and "48.4" in out and "en cours" in out
    missing = subprocess.run(
        [*crisis, "status", "inconnu", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "aucun événement" in missing.stderr

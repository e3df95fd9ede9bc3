"""A T0 recorded by another process (`crisis activate`) while the service runs (issue 15,
point 3): the service is told at once, not at its periodic re-scan.

The service is built and served as `crisis run` builds it, with its periodic re-scan set to
ten minutes, so that only the prompt path (PostgreSQL LISTEN/NOTIFY, the SQLite change check)
can make the test pass: the crisis's first messages are sent, and the steps that fall due a
few seconds after the activation are sent too (the service armed their alarms).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from contacts.geography import load_communes
from crisis.bootstrap import build
from crisis.cli.common import load
from crisis.runtime import claim, serve
from tests.scenarios.simulated_config import simulated_config

CRISIS = [sys.executable, "-m", "crisis"]
RESCAN_S = 600.0  # the safety net, far beyond the test: it cannot be what picks the T0 up
SENT = {"sent", "delivered"}
FIRST_STEP = "alerte_astreinte"  # T0 + 0
NEXT_STEP = "rappel_cellule"  # T0 + 5 min
LEAD_S = 20  # the next step falls due this long after the activation was typed


def _config(tmp: Path, url: str) -> Path:
    return simulated_config(tmp, url, rate=20, latency_ms=20)


def _sent_steps(url: str) -> dict[str, int]:
    """Rows handed to the (simulated) provider, per step."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT step_id, state FROM outbox")).all()
    finally:
        engine.dispose()
    counts: dict[str, int] = {}
    for step_id, state in rows:
        if state in SENT:
            counts[step_id] = counts.get(step_id, 0) + 1
    return counts


async def _activate(env: dict[str, str], t0: datetime) -> None:
    communes = [c.code_insee for c in load_communes() if c.epci == "244200770"]
    process = await asyncio.create_subprocess_exec(
        *CRISIS,
        "activate",
        "--kind",
        "inondation",
        "--t0",
        t0.isoformat(),
        "--synergi",
        "SYN-PROMPT",
        "--communes",
        ",".join(communes),
        "--by",
        "test",
        "--yes",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out + err).decode()


async def _until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.mark.slow
def test_t0_recorded_by_the_cli_is_sent_without_waiting_for_the_rescan(
    database_url: str, tmp_path: Path
):
    """`crisis activate` in another process: its first messages leave, and the service arms
    the next steps' alarms at once (its periodic re-scan is ten minutes away)."""
    config = _config(tmp_path, database_url)
    env = {**os.environ, "CRISIS_CONFIG": str(config)}
    app = build(load(config), env=os.environ, send=True)  # as `crisis run` builds it
    held = claim(app, "run")

    async def story() -> tuple[dict[str, int], dict[str, int]]:
        stop = asyncio.Event()
        service = asyncio.create_task(serve(app, stop, rescan_every=RESCAN_S, claimed=held))
        try:
            await asyncio.sleep(0.5)  # the service is up and has scanned an empty database
            # the next step (T0 + 5 min) falls due LEAD_S seconds from now: long after the
            # command has recorded the T0 and queued the first step
            t0 = datetime.now(UTC) - timedelta(minutes=5) + timedelta(seconds=LEAD_S)
            await _activate(env, t0)
            await _until(lambda: FIRST_STEP in _sent_steps(database_url), 20)
            first = _sent_steps(database_url)
            await _until(lambda: NEXT_STEP in _sent_steps(database_url), LEAD_S + 20)
            return first, _sent_steps(database_url)
        finally:
            stop.set()
            await asyncio.wait_for(service, timeout=60)

    try:
        first, later = asyncio.run(story())
    finally:
        app.close()
    assert first.get(FIRST_STEP, 0) > 0, f"the T0's first messages were not sent: {first}"
    assert later.get(NEXT_STEP, 0) > 0, (
        f"the step due {LEAD_S} s after the activation was not sent: the service did not "
        f"pick the crisis up before its re-scan ({later})"
    )

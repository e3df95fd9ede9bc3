"""First-send benchmark: from a T0 recorded to the first provider request (issue 15).

The service runs as `crisis run` builds it (bootstrap's `build`, then `runtime.serve` with its
default 5-second periodic re-scan), on simulated channels; a wrapper around each channel
notes the wall time of every provider request. Each trial records a new T0 (a flood on one
commune, the on-call staff alerted at T0 + 0) and measures how long after its recording
(the crisis row's `recorded_at`, taken just before its unit of work commits) the first
message of that crisis is handed to the provider:

    in_process     the T0 recorded by the service's own orchestrator, on its event loop
                   (as the web and the API record it); `in_process_after_commit` measures
                   the same trials from the end of the recording's unit of work
    other_process  the T0 recorded by `crisis activate` in a subprocess, against the same
                   database (what an agent at a terminal does while the service runs)

    .venv/bin/python benchmarks/first_send.py                        # SQLite, 20 trials each
    .venv/bin/python benchmarks/first_send.py --trials 10
    .venv/bin/python benchmarks/first_send.py --postgres-url postgresql+psycopg://u@h/db
        (or CRISIS_TEST_POSTGRES_URL set: a fresh schema is created there, then dropped)

Nothing leaves the machine. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from channels.base import Channel, OutgoingMessage, Receipt  # noqa: E402
from crisis.bootstrap import App, build  # noqa: E402
from crisis.cli.common import load  # noqa: E402
from crisis.model import Actor, Interface, Mode  # noqa: E402
from crisis.runtime import claim, serve  # noqa: E402
from crisis.service import ActivationRequest  # noqa: E402
from playbooks.model import EventKind  # noqa: E402

CRISIS = [sys.executable, "-m", "crisis"]
COMMUNE = "42218"  # Saint-Étienne
TARGET_P95_MS = 1000.0
WAIT_S = 30.0  # a trial whose first message has not left by then counts as this long
AGENT = Actor(name="Banc d'essai", interface=Interface.CLI)


class Stamped:
    """A channel that notes when each crisis's first provider request was made."""

    def __init__(self, inner: Channel, first: dict[str, float]) -> None:
        self.inner = inner
        self.first = first

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.first.setdefault(message.crisis_id, time.time())
        return await self.inner.send(message)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        return await self.inner.lookup(message)


def _config(tmp: Path, url: str) -> Path:
    config = tmp / "crisis.toml"
    config.write_text(
        f"""
data_dir = "{tmp / "data"}"
[database]
url = "{url}"
[channels.voice]
rate_per_second = 30
[channels.voice.simulation]
latency_ms = 50
[channels.sms]
rate_per_second = 30
[channels.sms.simulation]
latency_ms = 50
""",
        encoding="utf-8",
    )
    return config


def _request(ref: str) -> ActivationRequest:
    return ActivationRequest(
        kind=EventKind.INONDATION,
        t0=datetime.now(UTC),
        synergi_ref=ref,
        communes=(COMMUNE,),
        recorded_by=AGENT,
    )


async def _cli_activate(env: dict[str, str], ref: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *CRISIS,
        "activate",
        "--kind",
        "inondation",
        "--t0",
        datetime.now(UTC).isoformat(),
        "--synergi",
        ref,
        "--communes",
        COMMUNE,
        "--by",
        "banc d'essai",
        "--yes",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"crisis activate: exit {process.returncode}: {err.decode()[-500:]}")


def _recorded(app: App, ref: str) -> tuple[str, float]:
    with app.store.transaction() as tx:
        found = tx.crises_like(Mode.REEL, ref, EventKind.INONDATION)
    crisis = next(c for c in found if c.synergi_ref == ref)  # "like": near references too
    return crisis.id, crisis.recorded_at.timestamp()


async def _first_send(first: dict[str, float], crisis_id: str) -> float | None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if crisis_id in first:
            return first[crisis_id]
        await asyncio.sleep(0.005)
    return None


async def _trials(
    app: App, first: dict[str, float], env: dict[str, str], trials: int
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"in_process": [], "other_process": [], "committed": []}
    for i in range(trials):
        for mode in ("in_process", "other_process"):
            ref = f"SYN-BENCH-{mode}-{i}-{uuid.uuid4().hex[:6]}"
            if mode == "in_process":
                app.orchestrator.activate(_request(ref))
                committed = time.time()
            else:
                await _cli_activate(env, ref)
            crisis_id, recorded = _recorded(app, ref)
            sent = await _first_send(first, crisis_id)
            results[mode].append(WAIT_S if sent is None else max(0.0, sent - recorded))
            if mode == "in_process":
                results["committed"].append(WAIT_S if sent is None else sent - committed)
            await asyncio.sleep(0.2)  # let the crisis's other first messages go
    return results


def _figures(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(s * 1000 for s in seconds)
    cut = statistics.quantiles(ms, n=20, method="inclusive") if len(ms) > 1 else ms * 19
    return {
        "trials": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(cut[18], 1),
        "max_ms": round(ms[-1], 1),
        "missed": sum(1 for s in seconds if s >= WAIT_S),
    }


def run_backend(url: str, trials: int) -> dict[str, Any]:
    """Serve on `url` as `crisis run` does and run the trials of both modes."""
    with tempfile.TemporaryDirectory(prefix="first-send-") as tmp:
        config = _config(Path(tmp), url)
        env = {**os.environ, "CRISIS_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
        app = build(load(config), env=os.environ, send=True)
        first: dict[str, float] = {}
        for name, channel in list(app.dispatcher.channels.items()):
            app.dispatcher.channels[name] = Stamped(channel, first)
        held = claim(app, "run")

        async def main() -> dict[str, list[float]]:
            stop = asyncio.Event()
            service = asyncio.create_task(serve(app, stop, claimed=held))
            try:
                await asyncio.sleep(1.0)
                return await _trials(app, first, env, trials)
            finally:
                stop.set()
                await service

        try:
            results = asyncio.run(main())
        finally:
            app.close()
    figures = {mode: _figures(values) for mode, values in results.items()}
    figures["in_process_after_commit"] = figures.pop("committed")
    return figures


def _postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def _load() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="trials per mode and database")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRISIS_TEST_POSTGRES_URL", ""),
        help="also measure on this PostgreSQL (a fresh schema, dropped afterwards)",
    )
    args = parser.parse_args(argv)
    load_before = _load()
    started = time.perf_counter()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="first-send-db-") as tmp:
        print(f"# sqlite: {args.trials} trials per mode ...", flush=True)
        report["sqlite"] = run_backend(f"sqlite:///{tmp}/crisis.db", args.trials)
    if args.postgres_url:
        print(f"# postgresql: {args.trials} trials per mode ...", flush=True)
        url, drop = _postgres_schema(args.postgres_url)
        try:
            report["postgresql"] = run_backend(url, args.trials)
        finally:
            drop()
    met = all(
        backend[mode]["p95_ms"] <= TARGET_P95_MS and backend[mode]["missed"] == 0
        for backend in report.values()
        for mode in ("in_process", "other_process")
    )
    summary = {
        **report,
        "target_p95_ms": TARGET_P95_MS,
        "met": met,
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
        "load_after": _load(),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

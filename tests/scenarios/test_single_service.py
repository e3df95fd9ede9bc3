"""Two `crisis run` on one database: one dispatches, the other is refused (issue 13, point 2)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from contacts.geography import load_communes
from tests.scenarios.simulated_config import simulated_config

CRISIS = [sys.executable, "-m", "crisis"]
SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef"  # test only: 48 characters


def _config(tmp: Path, url: str, extra: str = "") -> Path:
    return simulated_config(tmp, url, extra=extra)


def _activate(env: dict[str, str], synergi: str) -> None:
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
            synergi,
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


def _sends(data: Path) -> Counter[str]:
    """Provider calls per idempotency key, every simulated channel together."""
    keys: Counter[str] = Counter()
    for log in sorted((data / "simulated").glob("*.jsonl")):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                keys[json.loads(line)["idempotency_key"]] += 1
    return keys


def _outbox(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(text("SELECT channel, state FROM outbox"))]
    finally:
        engine.dispose()


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _run(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CRISIS, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_two_services_on_one_database_send_every_message_once(database_url: str, tmp_path: Path):
    """Two services started together: one is refused (host and PID of the other), no duplicate."""
    config = _config(tmp_path, database_url)
    env = {**os.environ, "CRISIS_CONFIG": str(config), "COLUMNS": "400"}
    _activate(env, "SYN-DOUBLE")
    services = [_run(env), _run(env)]  # a systemd unit and a terminal, within milliseconds
    try:
        assert _wait(lambda: any(s.poll() is not None for s in services), 60), (
            "neither service was refused"
        )
        refused = next(s for s in services if s.poll() is not None)
        serving = next(s for s in services if s is not refused)
        _out, error = refused.communicate(timeout=30)
        assert refused.returncode == 2, error
        assert "déjà servie" in error and "Traceback" not in error
        assert f"PID {serving.pid}" in error and f"l'hôte {socket.gethostname()}" in error
        assert serving.poll() is None, "the service that holds the database stopped"

        data = tmp_path / "data"
        assert _wait(lambda: sum(_sends(data).values()) >= 10, 60), "the fan-out never started"
        late = subprocess.run(  # a restart script, in the middle of the fan-out
            [*CRISIS, "run"], env=env, capture_output=True, text=True, timeout=120
        )
        assert late.returncode == 2 and f"PID {serving.pid}" in late.stderr, late.stderr

        def finished() -> bool:
            rows = _outbox(database_url)
            return bool(rows) and all(
                state not in {"pending", "sending", "unknown"}
                for channel, state in rows
                if channel in {"voice", "sms", "email"}
            )

        assert _wait(finished, 120), "the fan-out did not end"
    finally:
        for service in services:
            _stop(service)
    sends = _sends(tmp_path / "data")
    twice = sorted(k for k, n in sends.items() if n > 1)
    assert not twice, f"sent twice: {twice}"
    sent = sum(1 for _c, state in _outbox(database_url) if state in {"sent", "delivered"})
    assert sum(sends.values()) == sent > 0


def test_a_killed_service_leaves_no_lock(database_url: str, tmp_path: Path):
    """After SIGKILL of the service, the next one starts at once: the lock died with it."""
    config = _config(tmp_path, database_url)
    env = {**os.environ, "CRISIS_CONFIG": str(config), "COLUMNS": "400"}
    first = _run(env)
    try:
        assert first.stdout is not None
        assert "Orchestrateur démarré" in first.stdout.readline()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    second = _run(env)
    try:
        assert second.stdout is not None
        assert "Orchestrateur démarré" in second.stdout.readline()
        time.sleep(1)
        assert second.poll() is None, second.communicate(timeout=30)[1]
    finally:
        _stop(second)
    assert second.returncode == 0


def test_a_taken_web_port_refuses_the_service_before_any_send(tmp_path: Path):
    """Web port taken: a French refusal (code 2), no traceback, nothing dispatched."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        url = f"sqlite:///{tmp_path / 'crisis.db'}"
        web = f'[web]\nhost = "127.0.0.1"\nport = {port}\n'
        web += 'public_base_url = "https://crise.prefecture.example"\n'
        config = _config(tmp_path, url, web)
        env = {
            **os.environ,
            "CRISIS_CONFIG": str(config),
            "CRISIS_WEB_SECRET": SECRET,
            "COLUMNS": "400",
        }
        _activate(env, "SYN-PORT")
        result = subprocess.run(
            [*CRISIS, "run"], env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 2, result.stderr
    assert re.search(
        rf"n'a pas pu démarrer sur 127\.0\.0\.1:{port} : port déjà utilisé", result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert "Orchestrateur démarré" not in result.stdout
    assert not _sends(tmp_path / "data")
    states = {state for _c, state in _outbox(url)}
    assert states == {"pending"}, states

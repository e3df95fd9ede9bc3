"""Start Stoplight Prism on loopback, serving a mock from one of the official OpenAPI specs.

The test command (`./scripts/dev test`) runs `npm ci`, which installs Prism in node_modules.
Outside CI a missing Prism skips the contract tests with the reason; in CI it fails them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPECS = Path(__file__).resolve().parent / "specs"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_prism() -> Path:
    """The Prism binary, or fail (CI) / skip (elsewhere) saying how to get it."""
    if PRISM.exists():
        return PRISM
    message = "Prism absent (node_modules/.bin/prism) : ./scripts/dev test lance npm ci"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def prism_mock(spec: Path, *, timeout: float = 60.0) -> Iterator[str]:
    """Serve `spec` with Prism on a free loopback port; yield its base URL."""
    binary = require_prism()
    port = free_port()
    log = spec.parent / f".prism-{spec.stem}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Prism stopped: {log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(base + "/__health", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Prism did not start in time") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink(missing_ok=True)

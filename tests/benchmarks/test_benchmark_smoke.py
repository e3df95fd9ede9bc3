"""The provider and callback benchmarks run on a tiny case, so that they cannot rot: every
contender sends everything once through the fake Twilio, every callback is recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "rate_fraction_of_limit",
    "cpu_ms_per_notification",
    "http_429",
    "duplicates",
    "lost",
    "peak_rss_mb",
}

pytestmark = pytest.mark.slow


def _last_json(script: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_providers_tiny_case_every_contender_sends_each_message_once() -> None:
    summary = _last_json("providers.py", "--cases", "tiny_sms")
    contenders = summary["cases"]["tiny_sms"]
    assert set(contenders) == {"product", "naive_loop", "thread_pool"}
    for name, r in contenders.items():
        assert "error" not in r, (name, r)
        assert set(r) >= FIGURES, (name, sorted(r))
        assert r["accepted"] == r["messages"] == 12, (name, r)
        assert r["duplicates"] == 0 and r["lost"] == 0 and r["unauthorized"] == 0, (name, r)
        assert r["rate_fraction_of_limit"] > 0 and r["cpu_ms_per_notification"] > 0, (name, r)
    product = contenders["product"]
    assert product["finished"] and product["journal_ok"], product
    assert product["outbox_states"] == {"sent": 12}, product


def test_callbacks_small_storm_is_recorded_by_both_receivers() -> None:
    summary = _last_json("callbacks.py", "--n", "100")
    for name in ("product", "baseline"):
        r = summary[name]
        assert "error" not in r, (name, r)
        assert r["callbacks"] == 100 and r["statuses"] == {"204": 100}, (name, r)
        assert r["all_recorded"], (name, r)
        assert r["requests_per_second"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0, (name, r)
    product = summary["product"]
    assert product["rows_delivered"] == product["facts_delivery_reported"] == 100, product
    assert product["journal_ok"], product

"""Callback benchmark: a storm of signed Twilio status callbacks ("delivered") from 50 concurrent
clients, to the product's webhook app and to a minimal FastAPI + SQLite receiver, in one run.

The product is built as `crisis run` builds it (crisis.cli.common.open_app on a TOML file with
the SMS channel on Twilio) and served by `crisis.runtime.serve` (uvicorn on 127.0.0.1, the
dispatcher and the re-scan running too). Before the storm, N SMS rows are written to its outbox
and dispatched through its own Dispatcher to an instant in-process channel that returns Twilio
sids, so every callback is the receipt of a real `sent` row (not timed). Each callback is signed
with twilio.request_validator.RequestValidator over the public URL the product verifies
(twilio.public_base_url + /webhooks/twilio/status?k=KEY).

The baseline is FastAPI + sqlite3 (WAL, synchronous=NORMAL, as the product's store): it checks
the same signature and inserts one row per callback, committed before it answers 204.

Figures per receiver: requests/s over the storm, p50/p99 latency, HTTP statuses, the
receiver's CPU time per callback, everything recorded (outbox rows `delivered` and
DeliveryReported facts; baseline rows) and, for the product, the journal chain verified
(crisis.journal.verify).

    .venv/bin/python benchmarks/callbacks.py                 # 20 000 callbacks (~2 min)
    .venv/bin/python benchmarks/callbacks.py --n 200         # smoke test

The last line printed is one JSON object: {"product": {...}, "baseline": {...}, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
import uvicorn
import yarl
from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.fake_twilio import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402
from benchmarks.providers import SMS_BODY, SMS_SENDER, recipients  # noqa: E402

CLIENTS = 50
PUBLIC_BASE_URL = "https://crise.prefecture.example"
STATUS_PATH = "/webhooks/twilio/status"
CRISIS_ID = "bench-callbacks"
TARGETS = {"requests_per_second_min": 1000.0, "p99_ms_max": 100.0, "ratio_to_baseline_min": 0.8}


def key_of(i: int) -> str:
    """The outbox key of the i-th maire's SMS."""
    return f"{CRISIS_ID}:alerte_maires:maire-B{i + 1:05d}:sms:v1"


def sid_of(key: str) -> str:
    """The Twilio sid the instant channel gives the row (derived from its key)."""
    return "SM" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[str], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"receiver exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"receiver not listening on {port}")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the product -------------------------------------------------------------------------------


class InstantChannel:
    """Answers every send at once with a Twilio-like sid (the setup's provider)."""

    def __init__(self, name: Any) -> None:
        self.name = name

    async def send(self, message: Any) -> Any:
        from channels.base import Receipt  # noqa: PLC0415

        return Receipt(provider_id=sid_of(message.idempotency_key), status="sent")

    async def lookup(self, message: Any) -> Any:
        return None


def _product_config(tmp: Path, port: int) -> Path:
    text = f"""
data_dir = "{tmp / "var"}"

[database]
url = "sqlite:///{tmp / "crisis.db"}"

[channels.sms]
provider = "twilio"
rate_per_second = 1000
burst = 100
concurrency = 400

[twilio]
api_base_url = "http://127.0.0.1:9"
public_base_url = "{PUBLIC_BASE_URL}"
sms_sender = "{SMS_SENDER}"

[web]
port = {port}
"""
    path = tmp / "crisis.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _setup_outbox(app: Any, n: int) -> None:
    """N real SMS rows, `sent` through the app's store by a Dispatcher on InstantChannel."""
    from benchmarks.providers import bench_crisis  # noqa: PLC0415
    from channels.base import ChannelName  # noqa: PLC0415
    from contacts.model import Role  # noqa: PLC0415
    from crisis.model import SendMessage  # noqa: PLC0415
    from crisis.outbox import ChannelLimits, Dispatcher  # noqa: PLC0415
    from playbooks.model import Engagement  # noqa: PLC0415

    numbers = recipients(n)
    now = app.clock.now()
    crisis = bench_crisis(numbers, now).model_copy(
        update={"id": CRISIS_ID, "idempotency_key": CRISIS_ID}
    )
    messages = [
        SendMessage(
            idempotency_key=key_of(i),
            crisis_id=CRISIS_ID,
            step_id="alerte_maires",
            engagement=Engagement.E47_1,
            channel=ChannelName.SMS,
            contact_id=f"maire-B{i + 1:05d}",
            address=to,
            role=Role.MAIRE,
            commune=f"B{i + 1:05d}",
            body=SMS_BODY,
            valid_until=now + timedelta(hours=6),
        )
        for i, to in enumerate(numbers)
    ]
    with app.store.transaction() as tx:
        tx.insert_crisis(crisis, [])
        tx.enqueue(messages, now)
    dispatcher = Dispatcher(
        app.store,
        {ChannelName.SMS: InstantChannel(ChannelName.SMS)},
        {ChannelName.SMS: ChannelLimits(rate_per_second=1e6, burst=10_000, concurrency=1000)},
        app.clock,
    )
    asyncio.run(dispatcher.drain())


def _product_checks(app: Any, n: int) -> dict[str, Any]:
    from crisis.journal import verify  # noqa: PLC0415

    with app.store.transaction() as tx:
        counts = tx.outbox_counts(CRISIS_ID)
        stored, head_seq, head_hash = tx.stored_journal(CRISIS_ID)
    problems = verify(CRISIS_ID, stored, head_seq, head_hash)
    reported = sum(1 for e in stored if e.data.get("type") == "DeliveryReported")
    delivered = counts.get(("sms", "delivered"), 0)
    return {
        "outbox_states": {state: c for (_, state), c in sorted(counts.items())},
        "rows_delivered": delivered,
        "facts_delivery_reported": reported,
        "journal_entries": len(stored),
        "journal_ok": not problems,
        "journal_problems": problems[:5],
        "all_recorded": delivered == n and reported == n,
    }


def serve_product(n: int, port: int) -> dict[str, Any]:
    """Build as `crisis run` does, write and send the outbox, serve until SIGTERM, check."""
    from crisis.cli.common import open_app  # noqa: PLC0415
    from crisis.runtime import serve  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="callbacks-") as name:
        os.environ["CRISIS_TWILIO_ACCOUNT_SID"] = ACCOUNT_SID
        os.environ["CRISIS_TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
        app = open_app(_product_config(Path(name), port), send=True)
        _setup_outbox(app, n)

        async def main() -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            print("READY", flush=True)
            await serve(app, stop)

        asyncio.run(main())
        result = _product_checks(app, n)
        app.close()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


# --- the baseline ------------------------------------------------------------------------------


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling (which re-raises SIGTERM once stopped)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_baseline(n: int, port: int) -> dict[str, Any]:
    """FastAPI + sqlite3: signature checked, one row inserted and committed per callback."""
    with tempfile.TemporaryDirectory(prefix="callbacks-baseline-") as name:
        db = sqlite3.connect(Path(name) / "receipts.db", check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE receipt (k TEXT, sid TEXT, status TEXT, at REAL)")
        validator = RequestValidator(AUTH_TOKEN)
        web = FastAPI()

        @web.post(STATUS_PATH)
        async def status(request: Request, k: str = "") -> Response:
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            url = f"{PUBLIC_BASE_URL}{request.url.path}?{request.url.query}"
            if not validator.validate(url, form, request.headers.get("x-twilio-signature", "")):
                return Response(status_code=403)
            db.execute(
                "INSERT INTO receipt VALUES (?, ?, ?, ?)",
                (k, form.get("MessageSid"), form.get("MessageStatus"), time.time()),
            )
            db.commit()
            return Response(status_code=204)

        config = uvicorn.Config(
            web,
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_config=None,
            lifespan="off",
            server_header=False,
        )
        server = _QuietServer(config)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, lambda: setattr(server, "should_exit", True))
            print("READY", flush=True)
            await server.serve()

        asyncio.run(main())  # until SIGTERM
        rows = db.execute("SELECT count(*), count(DISTINCT k) FROM receipt").fetchone()
        db.close()
    return {
        "rows": rows[0],
        "distinct_keys": rows[1],
        "all_recorded": rows[0] == n and rows[1] == n,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


SERVERS = {"product": serve_product, "baseline": serve_baseline}


# --- the storm ---------------------------------------------------------------------------------


def signed_callbacks(n: int) -> list[tuple[str, bytes, str]]:
    """(path?query, form body, X-Twilio-Signature) for each of the n rows' "delivered"."""
    validator = RequestValidator(AUTH_TOKEN)
    out = []
    for i, to in enumerate(recipients(n)):
        key = key_of(i)
        sid = sid_of(key)
        target = f"{STATUS_PATH}?k={quote(key, safe='')}"
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "MessageStatus": "delivered",
            "SmsSid": sid,
            "SmsStatus": "delivered",
            "To": to,
            "From": SMS_SENDER,
        }
        signature = validator.compute_signature(f"{PUBLIC_BASE_URL}{target}", params)
        out.append((target, urlencode(params).encode(), signature))
    return out


async def storm(port: int, requests: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    """Post every callback from CLIENTS concurrent keep-alive clients; latencies and statuses."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    base = f"http://127.0.0.1:{port}"

    async def client(session: aiohttp.ClientSession) -> None:
        while queue:
            target, body, signature = queue.pop()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            t0 = time.perf_counter()
            url = yarl.URL(base + target, encoded=True)  # the query exactly as signed
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {
        "callbacks": len(latencies),
        "wall_seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def run_receiver(name: str, n: int, requests: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    """Start the receiver in its own process, storm it, stop it, read its checks."""
    port = _free_port()
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        name,
        "--n",
        str(n),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "READY":
            raise RuntimeError("receiver did not start")
        _wait_port(port, proc)
        load = os.getloadavg()[0]
        cpu0 = _cpu_of(proc.pid)
        result = asyncio.run(storm(port, requests))
        result["receiver_cpu_ms_per_callback"] = round(
            (_cpu_of(proc.pid) - cpu0) * 1000 / max(1, result["callbacks"]), 3
        )
        result["loadavg_1min_before"] = round(load, 2)
    finally:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    lines = out.strip().splitlines()
    try:
        result.update(json.loads(lines[-1]))
    except (IndexError, json.JSONDecodeError):
        result["error"] = f"exit {proc.returncode}"
        result["stderr"] = err[-2000:]
        print(err, file=sys.stderr)
    return result


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"  {name:<8} {r['requests_per_second']:.0f} callbacks/s, p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms, statuses {r['statuses']}, "
        f"CPU {r['receiver_cpu_ms_per_callback']:.2f} ms/callback, "
        f"all recorded: {r.get('all_recorded')}"
        + (f", journal ok: {r['journal_ok']}" if "journal_ok" in r else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="distinct callbacks (default 20 000)")
    parser.add_argument("--receivers", default="product,baseline")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: be a receiver
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        print(json.dumps(SERVERS[args.serve](args.n, args.port), ensure_ascii=False))
        return 0

    started = time.perf_counter()
    requests = signed_callbacks(args.n)
    results: dict[str, Any] = {}
    for name in [r.strip() for r in args.receivers.split(",") if r.strip()]:
        print(f"# {name}: {args.n} signed status callbacks from {CLIENTS} clients", flush=True)
        results[name] = run_receiver(name, args.n, requests)
        print(_line(name, results[name]), flush=True)
    product, baseline = results.get("product"), results.get("baseline")
    if product and baseline:
        product["ratio_to_baseline"] = round(
            product["requests_per_second"] / baseline["requests_per_second"], 3
        )
    summary = {
        **results,
        "benchmark": "callbacks",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "clients": CLIENTS,
        "targets": TARGETS,
        "met": _met(product),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _met(product: dict[str, Any] | None) -> dict[str, Any]:
    if not product or "error" in product:
        return {"all": False}
    met = {
        "requests_per_second": product["requests_per_second"] >= TARGETS["requests_per_second_min"],
        "p99_ms": product["p99_ms"] < TARGETS["p99_ms_max"],
        "ratio_to_baseline": product.get("ratio_to_baseline", 0.0)
        >= TARGETS["ratio_to_baseline_min"],
        "all_recorded": bool(product.get("all_recorded")),
        "journal_ok": bool(product.get("journal_ok")),
    }
    met["all"] = all(met.values())
    return met


if __name__ == "__main__":
    sys.exit(main())

"""Provider-path benchmark: the product's real Twilio channels and dispatcher against two peers
written with the official Twilio SDK, all sending to the same fake Twilio on 127.0.0.1
(benchmarks/fake_twilio.py: 200 ms latency, 429 beyond R accepted creates per sliding second).

Cases (N notifications at R per second):

    sms_n1000_r30     SMS,   N = 1 000,  R = 30
    sms_n3000_r100    SMS,   N = 3 000,  R = 100
    sms_n35000_r1000  SMS,   N = 35 000, R = 1 000
    voice_n1000_r30   calls, N = 1 000,  R = 30

Contenders, each in its own subprocess (its CPU time and peak memory are its own):

    product      the orchestrator built by crisis.bootstrap exactly as `crisis run` builds it
                 (crisis.cli.common.open_app on a TOML file: channel provider "twilio",
                 twilio.api_base_url at the fake, a fresh SQLite database), the N messages
                 written to its outbox, then its Dispatcher drained through the real channel;
    naive_loop   `Client(...).messages.create` (or `calls.create`) one after the other;
    thread_pool  10 threads doing the same, retrying a 429 after 1 s.

The peers send the first min(N, 300) messages (ratios are computed on rates). Per contender and
case: rate_fraction_of_limit (provider side: (accepted - 1) / (last accepted - first accepted)
/ R), cpu_ms_per_notification, http_429, duplicates, lost, peak_rss_mb.

    .venv/bin/python benchmarks/providers.py                           # every case (~7 min)
    .venv/bin/python benchmarks/providers.py --cases sms_n1000_r30 --contenders product
    .venv/bin/python benchmarks/providers.py --cases tiny              # smoke test (seconds)

The last line printed is one JSON object: {"cases": {CASE: {"product": {...}, ...}}, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.fake_twilio import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402
from contacts.demo import directory_for_benchmark  # noqa: E402


@dataclass(frozen=True)
class Case:
    """N notifications on one channel at R per second."""

    channel: str  # "sms" or "voice"
    n: int
    rate: float


CASES: dict[str, Case] = {
    "sms_n1000_r30": Case("sms", 1_000, 30.0),
    "sms_n3000_r100": Case("sms", 3_000, 100.0),
    "sms_n35000_r1000": Case("sms", 35_000, 1_000.0),
    "voice_n1000_r30": Case("voice", 1_000, 30.0),
    # smoke tests only (not in the default run)
    "tiny_sms": Case("sms", 12, 20.0),
    "tiny_voice": Case("voice", 6, 20.0),
}
DEFAULT_CASES = ("sms_n1000_r30", "sms_n3000_r100", "sms_n35000_r1000", "voice_n1000_r30")
ALIASES = {"tiny": "tiny_sms,tiny_voice", "all": ",".join(DEFAULT_CASES)}
CONTENDERS = ("product", "naive_loop", "thread_pool")
PEER_MESSAGES = 300  # the peers send the first min(N, 300)
POOL_THREADS = 10
RETRY_AFTER_429_S = 1.0

TARGETS = {
    "rate_fraction_of_limit_min": 0.95,
    "cpu_ms_per_notification_max": 1.5,
    "peak_rss_mb_max_at_35000": 300.0,
    "duplicates": 0,
    "lost": 0,
    "http_429": 0,
}

SMS_SENDER = "PREF42"
VOICE_FROM = "+33199000001"
PUBLIC_BASE_URL = "https://crise.prefecture.example"
# The same ~300-character SMS as benchmarks/fanout.py (already rendered).
SMS_BODY = (
    "Préfecture de la Loire – ALERTE INONDATION : le COD est activé depuis 14h00. "
    "Votre commune est concernée. Mettez en œuvre votre plan communal de sauvegarde, "
    "relayez les consignes de mise à l'abri et signalez toute victime au 04 65 71 00 00. "
    "Point de situation à 15h00. Répondez 1 pour confirmer la réception."
)


def recipients(n: int) -> list[str]:
    """The first n maires' numbers of contacts.demo.directory_for_benchmark (ARCEP fiction
    blocks: mobiles, then landlines past 10 000)."""
    directory = directory_for_benchmark(n)
    out = [c.mobile or c.landline for c in directory.contacts]
    return [a for a in out if a is not None]


def _usage() -> tuple[float, float]:
    """(CPU seconds of this process so far, peak RSS in MB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


# --- the product -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def product_config(tmp: Path, case: Case, api: str, latency: float) -> Path:
    """A `crisis run` configuration: the case's channel on Twilio at the fake, R per second,
    burst 1 (the fake, like Twilio's account limit, refuses a burst above R in any second)
    and enough concurrency for R x latency sends in flight."""
    burst = 1
    concurrency = math.ceil(2 * case.rate * latency) + 10
    text = f"""
data_dir = "{tmp / "var"}"

[database]
url = "sqlite:///{tmp / "crisis.db"}"

[channels.{case.channel}]
provider = "twilio"
rate_per_second = {case.rate}
burst = {burst}
concurrency = {concurrency}

[twilio]
api_base_url = "{api}"
public_base_url = "{PUBLIC_BASE_URL}"
sms_sender = "{SMS_SENDER}"
voice_from = "{VOICE_FROM}"

[web]
port = {_free_port()}
"""
    path = tmp / "crisis.toml"
    path.write_text(text, encoding="utf-8")
    return path


def bench_crisis(numbers: list[str], now: datetime) -> Any:
    """A minimal real crisis row for the outbox and journal to hang on (as in fanout.py)."""
    from crisis.model import SYSTEM, Crisis, Mode  # noqa: PLC0415 - after sys.path is set
    from playbooks.model import EventKind, Plan  # noqa: PLC0415

    plan = Plan(
        kind=EventKind.INONDATION,
        playbook_title="Benchmark fournisseurs",
        playbook_version=1,
        playbook_digest="0" * 64,
        t0=now,
        steps=(),
        templates={},
        applicable_sections=(),
        quorum={},
    )
    codes = [f"B{i + 1:05d}" for i in range(len(numbers))]
    return Crisis(
        id="bench-providers",
        kind=EventKind.INONDATION,
        mode=Mode.REEL,
        t0=now,
        synergi_ref="BENCH-0002",
        communes=tuple(codes),
        commune_names={c: f"Commune {c}" for c in codes},
        recorded_by=SYSTEM,
        recorded_at=now,
        idempotency_key="bench-providers",
        plan=plan,
        roster=(),
    )


def _messages(crisis: Any, channel: Any, numbers: list[str], now: datetime) -> list[Any]:
    from contacts.model import Role  # noqa: PLC0415
    from crisis.model import SendMessage  # noqa: PLC0415
    from playbooks.model import Engagement  # noqa: PLC0415

    valid_until = now + timedelta(hours=6)
    return [
        SendMessage(
            idempotency_key=f"{crisis.id}:alerte_maires:maire-B{i + 1:05d}:{channel.value}:v1",
            crisis_id=crisis.id,
            step_id="alerte_maires",
            engagement=Engagement.E47_1,
            channel=channel,
            contact_id=f"maire-B{i + 1:05d}",
            address=address,
            display_name=f"Maire de B{i + 1:05d}",
            role=Role.MAIRE,
            commune=f"B{i + 1:05d}",
            body=SMS_BODY,
            valid_until=valid_until,
            ask_acknowledgement=True,
        )
        for i, address in enumerate(numbers)
    ]


IN_FLIGHT = ("pending", "sending", "unknown")


async def _dispatch_within(app: Any, crisis_id: str, seconds: float) -> bool:
    """Run the dispatcher until no row of the crisis is pending or in flight (a 429's retry
    included, which `drain` would not wait for), for `seconds` at most (False: stopped)."""
    stop = asyncio.Event()
    runner = asyncio.create_task(app.dispatcher.run(stop))
    deadline = time.monotonic() + seconds
    finished = False
    try:
        while time.monotonic() < deadline and not runner.done():
            await asyncio.sleep(1.0)
            with app.store.transaction() as tx:
                counts = tx.outbox_counts(crisis_id)
            if not any(n for (_, state), n in counts.items() if state in IN_FLIGHT):
                finished = True
                break
    finally:
        stop.set()
        await runner
    return finished


def run_product(case: Case, api: str, latency: float, max_seconds: float) -> dict[str, Any]:
    """The orchestrator as `crisis run` builds it, its outbox written, its dispatcher drained."""
    from channels.base import ChannelName  # noqa: PLC0415
    from crisis.cli.common import open_app  # noqa: PLC0415
    from crisis.journal import verify  # noqa: PLC0415

    numbers = recipients(case.n)
    with tempfile.TemporaryDirectory(prefix="providers-") as name:
        tmp = Path(name)
        config = product_config(tmp, case, api, latency)
        os.environ["CRISIS_TWILIO_ACCOUNT_SID"] = ACCOUNT_SID
        os.environ["CRISIS_TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
        app = open_app(config, send=True)  # what `crisis run` does
        channel = ChannelName(case.channel)
        now = app.clock.now()
        crisis = bench_crisis(numbers, now)
        with app.store.transaction() as tx:
            tx.insert_crisis(crisis, [])
        cpu0, wall0 = _usage()[0], time.perf_counter()
        messages = _messages(crisis, channel, numbers, now)
        with app.store.transaction() as tx:
            tx.enqueue(messages, now)
        del messages
        finished = asyncio.run(_dispatch_within(app, crisis.id, max_seconds))
        cpu1, peak = _usage()
        wall = time.perf_counter() - wall0
        with app.store.transaction() as tx:
            counts = tx.outbox_counts(crisis.id)
            stored, head_seq, head_hash = tx.stored_journal(crisis.id)
        problems = verify(crisis.id, stored, head_seq, head_hash)
        app.close()
    states = {state: c for (_, state), c in sorted(counts.items())}
    in_flight = sum(states.get(s, 0) for s in IN_FLIGHT)
    return {
        "messages": case.n,
        "finished": finished,
        "unfinished": in_flight,
        "outbox_states": states,
        "journal_ok": not problems,
        "cpu_seconds": round(cpu1 - cpu0, 3),
        "cpu_seconds_process": round(cpu1, 3),
        "wall_seconds": round(wall, 3),
        "peak_rss_mb": round(peak, 1),
    }


# --- the peers ---------------------------------------------------------------------------------


def sdk_client(api: str) -> Any:
    """The official SDK's client as a script would build it, pointed at the fake."""
    from twilio.rest import Client  # noqa: PLC0415

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.edge = None
    client.region = None
    client.api.base_url = api
    return client


def sdk_send(client: Any, channel: str, to: str, i: int) -> Any:
    """One Messages.create or Calls.create, with the product's parameters."""
    callback = f"{PUBLIC_BASE_URL}/webhooks/twilio/status?k=peer-{i}"
    if channel == "sms":
        return client.messages.create(
            to=to, from_=SMS_SENDER, body=SMS_BODY, status_callback=callback, validity_period=21600
        )
    return client.calls.create(
        to=to,
        from_=VOICE_FROM,
        url=f"{PUBLIC_BASE_URL}/webhooks/twilio/voice?k=peer-{i}",
        method="POST",
        status_callback=callback,
        status_callback_method="POST",
        machine_detection="DetectMessageEnd",
        timeout=30,
    )


def run_naive(case: Case, api: str, _latency: float, _max_seconds: float) -> dict[str, Any]:
    """One create after the other; an error is given up (counted)."""
    from twilio.base.exceptions import TwilioRestException  # noqa: PLC0415

    numbers = recipients(min(case.n, PEER_MESSAGES))
    client = sdk_client(api)
    errors = 0
    cpu0, wall0 = _usage()[0], time.perf_counter()
    for i, to in enumerate(numbers):
        try:
            sdk_send(client, case.channel, to, i)
        except TwilioRestException:
            errors += 1
    cpu1, peak = _usage()
    return _peer_figures(len(numbers), errors, cpu1 - cpu0, cpu1, time.perf_counter() - wall0, peak)


def run_pool(case: Case, api: str, _latency: float, _max_seconds: float) -> dict[str, Any]:
    """10 threads (one SDK client each); a 429 is retried after 1 s, anything else given up."""
    from twilio.base.exceptions import TwilioRestException  # noqa: PLC0415

    numbers = recipients(min(case.n, PEER_MESSAGES))
    local = threading.local()
    errors = 0
    lock = threading.Lock()

    def send(item: tuple[int, str]) -> None:
        nonlocal errors
        if not hasattr(local, "client"):
            local.client = sdk_client(api)
        i, to = item
        while True:
            try:
                sdk_send(local.client, case.channel, to, i)
                return
            except TwilioRestException as exc:
                if exc.status == 429:
                    time.sleep(RETRY_AFTER_429_S)
                    continue
                with lock:
                    errors += 1
                return

    cpu0, wall0 = _usage()[0], time.perf_counter()
    with ThreadPoolExecutor(max_workers=POOL_THREADS) as pool:
        list(pool.map(send, enumerate(numbers)))
    cpu1, peak = _usage()
    return _peer_figures(len(numbers), errors, cpu1 - cpu0, cpu1, time.perf_counter() - wall0, peak)


def _peer_figures(
    n: int, errors: int, cpu: float, cpu_process: float, wall: float, peak: float
) -> dict[str, Any]:
    return {
        "messages": n,
        "finished": True,
        "unfinished": 0,
        "errors_given_up": errors,
        "cpu_seconds": round(cpu, 3),
        "cpu_seconds_process": round(cpu_process, 3),
        "wall_seconds": round(wall, 3),
        "peak_rss_mb": round(peak, 1),
    }


RUNNERS = {"product": run_product, "naive_loop": run_naive, "thread_pool": run_pool}


# --- the parent: the fake, one subprocess per contender, the figures ---------------------------


class Fake:
    """benchmarks/fake_twilio.py in its own process (its CPU is not the contenders')."""

    def __init__(self, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "fake_twilio.py"),
                "--latency-ms",
                str(latency_ms),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fake Twilio did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self.latency_ms = latency_ms

    def reset(self, rate: float) -> None:
        data = urllib.parse.urlencode({"rate": rate, "latency_ms": self.latency_ms}).encode()
        with urllib.request.urlopen(f"{self.url}/_bench/reset", data=data, timeout=10):
            pass

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_bench/stats", timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def figures(case: Case, result: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
    """The provider-side figures of one contender's run, with its own."""
    stamps = sorted(stats["stamps"])
    accepted: dict[str, int] = stats["accepted"]
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / span if span > 0 else float("nan")
    expected = set(recipients(result["messages"]))
    reached = sum(1 for to in expected if accepted.get(to, 0) > 0)
    done = max(len(stamps), 1)
    return {
        "rate_fraction_of_limit": round(rate / case.rate, 4),
        "achieved_rate_per_second": round(rate, 2),
        "accepted": len(stamps),
        "cpu_ms_per_notification": round(result["cpu_seconds"] * 1000 / done, 3),
        "cpu_ms_per_notification_process": round(result["cpu_seconds_process"] * 1000 / done, 3),
        "http_429": stats["http_429"],
        "duplicates": sum(c - 1 for c in accepted.values() if c > 1),
        "lost": max(0, len(expected) - reached - result["unfinished"]),
        "unexpected_recipients": sum(1 for to in accepted if to not in expected),
        "peak_rss_mb": result["peak_rss_mb"],
        "lookups": stats["lists"],
        "unauthorized": stats["unauthorized"],
        **{k: v for k, v in result.items() if k not in {"peak_rss_mb"}},
    }


def run_contender(fake: Fake, name: str, case_name: str, max_seconds: float) -> dict[str, Any]:
    """One contender on one case, in its own subprocess, against a freshly reset fake."""
    case = CASES[case_name]
    fake.reset(case.rate)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--run",
        name,
        "--cases",
        case_name,
        "--api",
        fake.url,
        "--latency-ms",
        str(fake.latency_ms),
        "--max-seconds",
        str(max_seconds),
    ]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        print(proc.stderr, file=sys.stderr)
        return {"error": f"exit {proc.returncode}", "stderr": proc.stderr[-2000:]}
    out = figures(case, result, fake.stats())
    out["loadavg_1min_before"] = round(load, 2)
    return out


def _met(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    met: dict[str, Any] = {}
    for name, contenders in cases.items():
        r = contenders.get("product")
        if r is None or "error" in r:
            met[name] = {"error": r is not None}
            continue
        m = {
            "rate_fraction_of_limit": r["rate_fraction_of_limit"]
            >= TARGETS["rate_fraction_of_limit_min"]
            and r["finished"],
            "cpu_ms_per_notification": r["cpu_ms_per_notification"]
            <= TARGETS["cpu_ms_per_notification_max"],
            "duplicates": r["duplicates"] == 0,
            "lost": r["lost"] == 0,
            "http_429": r["http_429"] == 0,
        }
        if r["messages"] >= 35_000:
            m["peak_rss_mb"] = r["peak_rss_mb"] <= TARGETS["peak_rss_mb_max_at_35000"]
        met[name] = m
    met["all"] = all(v for case in met.values() if isinstance(case, dict) for v in case.values())
    return met


def _line(name: str, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"  {name}: ERROR {r['error']}"
    return (
        f"  {name:<11} {r['accepted']:>6} accepted, {r['achieved_rate_per_second']:.1f}/s = "
        f"{r['rate_fraction_of_limit']:.3f} of R, CPU {r['cpu_ms_per_notification']:.2f} ms/msg, "
        f"429: {r['http_429']}, dup {r['duplicates']}, lost {r['lost']}, "
        f"unfinished {r['unfinished']}, RSS {r['peak_rss_mb']:.0f} MB, "
        f"{r['wall_seconds']:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases",
        default=",".join(DEFAULT_CASES),
        help=f"comma-separated among {', '.join(CASES)} (or tiny, all)",
    )
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=45.0,
        help="the product's dispatch is stopped after this (default 45 s: a product at R "
        "finishes every case in 35 s)",
    )
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one contender here
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n for c in args.cases.split(",") for n in ALIASES.get(c.strip(), c.strip()).split(",")]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")

    if args.run:
        result = RUNNERS[args.run](
            CASES[names[0]], args.api, args.latency_ms / 1000, args.max_seconds
        )
        print(json.dumps(result, ensure_ascii=False))
        return 0

    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    started = time.perf_counter()
    fake = Fake(args.latency_ms)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in names:
            case = CASES[name]
            print(f"# {name}: {case.channel} N={case.n} R={case.rate:g}/s", flush=True)
            results[name] = {}
            for contender in contenders:
                r = run_contender(fake, contender, name, args.max_seconds)
                results[name][contender] = r
                print(_line(contender, r), flush=True)
    finally:
        fake.close()
    summary = {
        "benchmark": "providers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "latency_ms": args.latency_ms,
        "peer_messages": PEER_MESSAGES,
        "cases": results,
        "targets": TARGETS,
        "met": _met(results),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

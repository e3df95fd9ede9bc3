"""The Twilio channels over real sockets on 127.0.0.1: where requests go, what they carry, and
how refused, silent and cut connections are classified (retry, or look up before any resend)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Recipient
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
)
from channels.twilio_sms import TwilioSmsChannel
from channels.twilio_voice import TwilioVoiceChannel
from crisis.clock import FakeClock

ACCOUNT = "AC" + "a" * 32
CREDS = TwilioCredentials.from_env({ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "tok"})
NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


def _settings(base: str, timeout_s: float = 5.0) -> TwilioSettings:
    return TwilioSettings(
        api_base_url=base,
        public_base_url="https://crise.example.fr",
        voice_from="+33199000001",
        sms_sender="PREF42",
        timeout_s=timeout_s,
    )


def _message(channel: ChannelName) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"crise-1/c-17/{channel.value}",
        channel=channel,
        recipient=Recipient(contact_id="c-17", address="+33639980001"),
        body="Crue : évacuez les berges.",
    )


class _Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        self.requests.append(
            {"path": urlsplit(self.path).path, "form": form, "auth": self.headers["Authorization"]}
        )
        prefix = "CA" if self.path.endswith("/Calls.json") else "SM"
        body = json.dumps({"sid": prefix + "f" * 32, "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep numbers out of test output
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server answering 201 to every POST and remembering what it got."""
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (_Recorder,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_messages_and_calls_go_to_the_configured_api_host(recorder):
    """api_base_url redirects both Messages and Calls, with basic auth and the form we built."""
    base, seen = recorder
    clock = FakeClock(NOW)
    sms = await TwilioSmsChannel(_settings(base), CREDS, clock).send(_message(ChannelName.SMS))
    call = await TwilioVoiceChannel(_settings(base), CREDS, clock).send(_message(ChannelName.VOICE))
    assert (sms.provider_id, call.provider_id) == ("SM" + "f" * 32, "CA" + "f" * 32)
    assert [r["path"] for r in seen] == [
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json",
    ]
    assert all(r["auth"].startswith("Basic ") for r in seen)
    assert seen[0]["form"]["From"] == ["PREF42"]
    assert seen[0]["form"]["Body"] == ["Crue : évacuez les berges."]
    assert seen[1]["form"]["MachineDetection"] == ["DetectMessageEnd"]
    assert seen[1]["form"]["Url"] == [
        "https://crise.example.fr/webhooks/twilio/voice?k=crise-1%2Fc-17%2Fvoice"
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retryable():
    """Nobody listens: nothing was sent, trying again is safe."""
    channel = TwilioSmsChannel(_settings(f"http://127.0.0.1:{_free_port()}"), CREDS, FakeClock(NOW))
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message(ChannelName.SMS))
    assert failure.value.retryable and not failure.value.ambiguous
    assert "connexion refusée" in failure.value.public_reason


class _Sink:
    """A TCP server that reads the request and then stays silent, or hangs up."""

    def __init__(self, *, hang_up: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.hang_up = hang_up
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        conns = []
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.recv(65536)
            if self.hang_up:
                conn.close()
            else:
                conns.append(conn)
        for conn in conns:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


async def test_silent_provider_times_out_as_ambiguous_without_blocking_the_loop():
    """The request left and no answer came within timeout_s: ambiguous; meanwhile the event
    loop kept running (the SDK call is in a thread)."""
    sink = _Sink(hang_up=False)
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    try:
        channel = TwilioVoiceChannel(_settings(sink.url, timeout_s=0.5), CREDS, FakeClock(NOW))
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failure:
            await channel.send(_message(ChannelName.VOICE))
        elapsed = time.monotonic() - started
        stop.set()
        await ticking
    finally:
        sink.close()
    assert failure.value.ambiguous and not failure.value.retryable
    assert 0.4 < elapsed < 3.0
    assert ticks >= 10


async def test_connection_cut_after_the_request_is_ambiguous():
    """The provider hung up after reading the request: it may have acted on it."""
    sink = _Sink(hang_up=True)
    try:
        channel = TwilioSmsChannel(_settings(sink.url), CREDS, FakeClock(NOW))
        with pytest.raises(DeliveryFailed) as failure:
            await channel.send(_message(ChannelName.SMS))
    finally:
        sink.close()
    assert failure.value.ambiguous and not failure.value.retryable
    assert "coupée" in failure.value.public_reason

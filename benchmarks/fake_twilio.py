"""A fake Twilio REST API for the benchmarks, on 127.0.0.1, asyncio-based (1 000 req/s with
200 ms latency on one core).

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json   CreateMessage (201)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json   ListMessage (200, newest first)
    POST /2010-04-01/Accounts/{AccountSid}/Calls.json      CreateCall (201)
    GET  /2010-04-01/Accounts/{AccountSid}/Calls.json      ListCall (200, newest first)

The JSON shapes are those of tests/fakes/twilio_fake.py (the official specification's
resources), which the Twilio SDK parses. HTTP Basic auth with the account SID and its token is
checked. Every answer waits `latency` seconds (default 0.2), then goes out in one `send` with
TCP_NODELAY on a keep-alive HTTP/1.1 connection: a header written apart from the body would add
a 40 ms Nagle delay to every keep-alive client.

At most `rate` creates are accepted in any sliding second; beyond, HTTP 429 with Twilio's error
20429 and nothing is created. The fake counts accepted creates per recipient (duplicates, lost),
keeps their arrival times (the provider-side rate) and counts 429s. The benchmark reads and
resets these through two extra routes:

    GET  /_bench/stats    {"accepted": {to: n}, "stamps": [...], "http_429": n, ...}
    POST /_bench/reset    forget everything; optional form `rate`, `latency_ms`

Run alone, it prints `PORT <n>` once listening and serves until killed:

    .venv/bin/python benchmarks/fake_twilio.py --rate 30 --latency-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import collections
import contextlib
import json
import secrets
import socket
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "be" * 16  # the benchmark's account
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # a fake account's token

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
}
_ERRORS = {
    400: (21604, "A 'To' phone number is required."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
}


def error_body(status: int, code: int | None = None, message: str = "") -> dict[str, Any]:
    """Twilio's error JSON (TwilioRestException is built from it)."""
    default_code, default_message = _ERRORS.get(status, (20500, "Error"))
    code = code or default_code
    return {
        "code": code,
        "message": message or default_message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def message_resource(account: str, sid: str, form: dict[str, str], created: str) -> dict[str, Any]:
    """api.v2010.account.message, as CreateMessage answers it."""
    return {
        "account_sid": account,
        "api_version": API_VERSION,
        "body": form.get("Body", ""),
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "EUR",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"
        },
        "to": form.get("To", ""),
        "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
    }


def call_resource(account: str, sid: str, form: dict[str, str], created: str) -> dict[str, Any]:
    """api.v2010.account.call, as CreateCall answers it."""
    to, from_ = form.get("To", ""), form.get("From", "")
    return {
        "account_sid": account,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": created,
        "date_updated": created,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": from_,
        "from_formatted": from_,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "EUR",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {},
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": f"/{API_VERSION}/Accounts/{account}/Calls/{sid}.json",
    }


class FakeState:
    """What the fake accepted and refused since the last reset."""

    def __init__(self, rate: float, latency: float, account: str, token: str) -> None:
        self.account = account
        self._auth = "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()
        self.reset(rate, latency)

    def reset(self, rate: float, latency: float) -> None:
        """Forget everything; new limit and latency."""
        self.rate = rate
        self.latency = latency
        self.window: collections.deque[float] = collections.deque()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.stamps: list[float] = []
        self.records: dict[str, list[dict[str, Any]]] = {"messages": [], "calls": []}
        self.http_429 = 0
        self.requests = 0
        self.unauthorized = 0
        self.lists = 0

    def authorized(self, header: str | None) -> bool:
        """HTTP Basic with the account SID and its token."""
        if not header:
            return False
        try:
            base64.b64decode(header[6:], validate=True)
        except (binascii.Error, ValueError):
            return False
        return secrets.compare_digest(header, self._auth)

    def admit(self, now: float) -> bool:
        """Whether one more create fits in the sliding second (and count it when it does)."""
        window = self.window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.rate:
            self.http_429 += 1
            return False
        window.append(now)
        return True

    def create(self, kind: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """A create within the limit: recorded, (201, resource); or 400 like Twilio."""
        to = form.get("To", "")
        if not to:
            return 400, error_body(400)
        if kind == "messages" and not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, error_body(400, 21603, "A 'From' phone number is required.")
        if kind == "calls" and not (form.get("Url") or form.get("Twiml")):
            return 400, error_body(400, 21205, "Url parameter is required.")
        now = time.time()
        if not self.admit(now):
            return 429, error_body(429)
        self.stamps.append(now)
        self.accepted[to] += 1
        created = format_datetime(datetime.now(UTC))
        prefix = "SM" if kind == "messages" else "CA"
        sid = prefix + secrets.token_hex(16)
        build = message_resource if kind == "messages" else call_resource
        resource = build(self.account, sid, form, created)
        self.records[kind].append(resource)
        return 201, resource

    def listing(self, kind: str, query: dict[str, str], path: str) -> dict[str, Any]:
        """One page, newest first, filtered on To and From."""
        self.lists += 1
        items = [
            r
            for r in reversed(self.records[kind])
            if r["to"] == query.get("To", r["to"]) and r["from"] == query.get("From", r["from"])
        ]
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        chunk = items[:size]
        return {
            kind: chunk,
            "end": max(0, len(chunk) - 1),
            "first_page_uri": f"{path}?{urlencode({**query, 'Page': 0})}",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{path}?{urlencode(query)}",
        }

    def stats(self) -> dict[str, Any]:
        """Everything counted since the reset."""
        return {
            "accepted": dict(self.accepted),
            "stamps": self.stamps,
            "http_429": self.http_429,
            "requests": self.requests,
            "unauthorized": self.unauthorized,
            "lists": self.lists,
            "rate": self.rate,
            "latency_ms": self.latency * 1000,
        }

    def handle(
        self, method: str, target: str, auth: str | None, body: bytes
    ) -> tuple[int, dict[str, Any] | None, bool]:
        """(status, JSON body, answer late?) for one request."""
        parts = urlsplit(target)
        path = parts.path
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        if path == "/_bench/stats":
            return 200, self.stats(), False
        if path == "/_bench/reset":
            self.reset(
                float(form.get("rate", self.rate)),
                float(form.get("latency_ms", self.latency * 1000)) / 1000,
            )
            return 200, {"ok": True}, False
        self.requests += 1
        prefix = f"/{API_VERSION}/Accounts/"
        sid, _, resource = path[len(prefix) : -len(".json")].partition("/")
        kind = {"Messages": "messages", "Calls": "calls"}.get(resource)
        if not path.startswith(prefix) or kind is None or method not in {"GET", "POST"}:
            return 404, error_body(404), True
        if not self.authorized(auth):
            self.unauthorized += 1
            return 401, error_body(401), True
        if sid != self.account:
            return 404, error_body(404), True
        if method == "GET":
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            return 200, self.listing(kind, query, path), True
        status, answer = self.create(kind, form)
        return status, answer, True


def _response(status: int, body: dict[str, Any] | None, keep_alive: bool) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        "\r\n"
    )
    return head.encode() + payload  # one buffer: one send


class _Connection(asyncio.Protocol):
    """One keep-alive client connection (requests answered in order, no pipelining needed)."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # an answer is pending: the next request waits in the buffer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def _next(self) -> None:
        if self.busy or self.transport is None:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        method, target, version = [*lines[0].split(" "), "", "", ""][:3]
        keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        status, answer, late = self.state.handle(method, target, headers.get("authorization"), body)
        data = _response(status, answer, keep_alive)
        self.busy = True
        delay = self.state.latency if late else 0.0
        asyncio.get_running_loop().call_later(delay, self._answer, data, keep_alive)

    def _answer(self, data: bytes, keep_alive: bool) -> None:
        self.busy = False
        if self.transport is None:
            return
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()
            return
        self._next()


async def serve(state: FakeState, host: str, port: int, ready: asyncio.Future[int] | None) -> None:
    """Serve until cancelled; `ready` gets the bound port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(state), host, port, backlog=4096, reuse_address=True
    )
    bound = int(server.sockets[0].getsockname()[1])
    if ready is not None:
        ready.set_result(bound)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=30.0, help="accepted creates per second")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    args = parser.parse_args(argv)
    state = FakeState(args.rate, args.latency_ms / 1000, ACCOUNT_SID, AUTH_TOKEN)

    async def run() -> None:
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve(state, args.host, args.port, ready))
        print(f"PORT {await ready}", flush=True)
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Body limits on a real uvicorn server on 127.0.0.1: a huge unauthenticated POST is refused
(413, French) before the route or the token check, without the server reading it all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import pytest

from crisis.bootstrap import App
from crisis.web import serve_web
from crisis.web.limits import API_MAX_BODY, DEFAULT_MAX_BODY, IMPORT_MAX_BODY, limit_for

BASE = "https://crise.example.fr"
HUGE = 20 * 1024 * 1024  # 20 MB announced or streamed; far less is ever sent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_address_has_its_limit():
    """The API and the webhooks take 64 KiB, the directory import 6 MiB, other forms 256 KiB."""
    assert limit_for("/api/v1/crises") == API_MAX_BODY == 64 * 1024
    assert limit_for("/webhooks/twilio/status") == 64 * 1024
    assert limit_for("/annuaire/import") == IMPORT_MAX_BODY
    assert limit_for("/crises/X/notes") == DEFAULT_MAX_BODY


def _exchange(port: int, head: bytes, chunks: int, chunk: bytes) -> tuple[bytes, int]:
    """Send the head then up to `chunks` chunks, stopping once the server answered; returns
    the answer and how many bytes of body were sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        conn.setblocking(False)
        answer = b""
        for _ in range(chunks):
            with contextlib.suppress(BlockingIOError):
                answer += conn.recv(65536)
            if b"\r\n\r\n" in answer:
                break
            try:
                conn.setblocking(True)
                conn.sendall(chunk)
                sent += len(chunk)
                conn.setblocking(False)
            except OSError:  # the server closed after answering
                break
        conn.setblocking(True)
        deadline = time.monotonic() + 10
        while b"}" not in answer and time.monotonic() < deadline:
            try:
                data = conn.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
    return answer, sent


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_huge_unauthenticated_post_is_refused_before_being_read(
    app: App, streamed: bool
) -> None:
    """20 MB to the API without a token: 413 in French, answered before the body is read (a
    declared length) or as soon as a streamed body passes 64 KiB."""
    port = _free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve_web(
            app, stop, host="127.0.0.1", port=port, twilio_auth_token=None, public_base_url=BASE
        )
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        length = b"Transfer-Encoding: chunked" if streamed else f"Content-Length: {HUGE}".encode()
        head = (
            b"POST /api/v1/crises HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + length + b"\r\n\r\n"
        )
        piece = b"x" * 16384
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if streamed else piece
        # announced: nothing of the body is sent, the answer must come without it; streamed:
        # the answer must come before the 20 MB are through (socket buffers take a few MB)
        chunks = HUGE // 16384 if streamed else 0
        answer, sent = await asyncio.to_thread(_exchange, port, head, chunks, chunk)
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=10)
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2] or b"{}")
    assert body["detail"] == "requête trop volumineuse : 64 Kio au plus pour cette adresse"
    assert sent < HUGE // 2, sent  # refused long before the 20 MB were sent

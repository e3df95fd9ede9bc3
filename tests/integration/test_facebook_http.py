"""The Facebook channel over real HTTP, against a small Graph API stand-in on 127.0.0.1.

Facebook publishes no OpenAPI spec: the stand-in follows the Graph API documentation for
POST /{version}/{page-id}/feed (form fields, answer {"id": "{page-id}_{post-id}"}), the page
feed read (GET with fields and limit) and its error bodies ({"error": {"code": ...}}).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Recipient
from channels.facebook import (
    TOKEN_REFUSED,
    FacebookChannel,
    FacebookCredentials,
    FacebookSettings,
)
from crisis.clock import FakeClock

PAGE = "104987654321"
TOKEN = "jeton-page-longue-duree"
VERSION = "v21.0"
T0 = datetime(2026, 11, 23, 1, 45, tzinfo=UTC)


class GraphPage:
    """State of the fake Page: its posts (newest first) and how to misbehave."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.stall = threading.Event()  # set = answer normally; cleared = hold POSTs
        self.stall.set()


def _error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ab1"}
    }


def make_handler(page: GraphPage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _feed_path(self) -> bool:
            return urlsplit(self.path).path == f"/{VERSION}/{PAGE}/feed"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            page.requests.append(("POST", self.path))
            if not page.stall.wait(timeout=5):
                return
            if not self._feed_path():
                self._answer(*_error(100, "Unsupported post request."))
            elif form.get("access_token") != [TOKEN]:
                self._answer(*_error(190, "Invalid OAuth access token - Cannot parse access token"))
            elif not form.get("message", [""])[0]:
                self._answer(*_error(100, "(#100) Missing message or attachment"))
            elif any(p["message"] == form["message"][0] for p in page.posts):
                self._answer(*_error(506, "Duplicate status message"))
            else:
                post_id = f"{PAGE}_{9000 + len(page.posts)}"
                created = (T0 + timedelta(seconds=len(page.posts))).strftime(
                    "%Y-%m-%dT%H:%M:%S+0000"
                )
                page.posts.insert(
                    0, {"id": post_id, "message": form["message"][0], "created_time": created}
                )
                self._answer(200, {"id": post_id})

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            page.requests.append(("GET", self.path))
            if not self._feed_path():
                self._answer(*_error(100, "Unknown path components"))
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(*_error(190, "Invalid OAuth access token"))
            else:
                limit = int(query.get("limit", ["25"])[0])
                fields = query.get("fields", ["id"])[0].split(",")
                data = [
                    {k: v for k, v in post.items() if k in fields} for post in page.posts[:limit]
                ]
                self._answer(
                    200, {"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}}
                )

    return Handler


@pytest.fixture
def graph() -> Iterator[tuple[str, GraphPage]]:
    page = GraphPage()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(page))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page
    finally:
        page.stall.set()
        server.shutdown()
        server.server_close()


def channel(
    base_url: str, token: str = TOKEN, *, timeout_s: float = 5.0, clock: FakeClock | None = None
) -> FacebookChannel:
    settings = FacebookSettings(page_id=PAGE, graph_base_url=base_url, timeout_s=timeout_s)
    credentials = FacebookCredentials.from_env({"CRISIS_FACEBOOK_PAGE_TOKEN": token})
    return FacebookChannel(settings, credentials, clock or FakeClock(T0))


def message(key: str = "crise-1:etape-2:public:facebook:v1") -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        channel=ChannelName.FACEBOOK,
        recipient=Recipient(contact_id="page-prefecture", address=PAGE),
        body="Crue de la Seine : évacuation des quais bas de Melun. Suivez les consignes.",
    )


async def test_publish_returns_the_graph_post_id(graph: tuple[str, GraphPage]) -> None:
    """The Page receives the stamped text; the receipt is "{page_id}_{post_id}"."""
    base, page = graph
    fb = channel(base)
    receipt = await fb.send(message())
    await fb.aclose()
    assert receipt.provider_id == f"{PAGE}_9000"
    assert page.posts[0]["message"].startswith(message().body + " (màj 02:45 · réf. ")


async def test_lookup_finds_a_post_after_restart_and_not_an_unsent_one(
    graph: tuple[str, GraphPage],
) -> None:
    """A restarted channel (later minute) finds the post; another message is not found."""
    base, _ = graph
    first = channel(base)
    receipt = await first.send(message())
    await first.aclose()
    restarted = channel(base, clock=FakeClock(T0 + timedelta(minutes=50)))
    found = await restarted.lookup(message())
    missing = await restarted.lookup(message("crise-1:etape-3:public:facebook:v1"))
    await restarted.aclose()
    assert found is not None and found.provider_id == receipt.provider_id
    assert missing is None


async def test_resend_is_refused_as_duplicate_and_answers_the_first_post(
    graph: tuple[str, GraphPage],
) -> None:
    """Sending the same message twice leaves one post on the Page and the same receipt."""
    base, page = graph
    fb = channel(base)
    first = await fb.send(message())
    again = await fb.send(message())
    await fb.aclose()
    assert again.provider_id == first.provider_id
    assert len(page.posts) == 1


async def test_expired_token_is_final_and_asks_for_manual_publication(
    graph: tuple[str, GraphPage],
) -> None:
    """Graph's code 190 gives the French reason telling the agent to publish by hand."""
    base, page = graph
    fb = channel(base, token="jeton-expire")
    with pytest.raises(DeliveryFailed) as caught:
        await fb.send(message())
    await fb.aclose()
    assert caught.value.public_reason == TOKEN_REFUSED
    assert not caught.value.retryable and not caught.value.ambiguous
    assert page.posts == []


async def test_no_answer_after_sending_is_ambiguous(graph: tuple[str, GraphPage]) -> None:
    """The request reached the server but no answer came in time: never resend blindly."""
    base, page = graph
    page.stall.clear()
    fb = channel(base, timeout_s=0.3)
    with pytest.raises(DeliveryFailed) as caught:
        await fb.send(message())
    await fb.aclose()
    assert caught.value.ambiguous and not caught.value.retryable
    assert page.requests == [("POST", f"/{VERSION}/{PAGE}/feed")]


async def test_connection_refused_is_retryable() -> None:
    """Nothing listens on the port: the message certainly did not leave, retry later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fb = channel(f"http://127.0.0.1:{port}")
    with pytest.raises(DeliveryFailed) as caught:
        await fb.send(message())
    await fb.aclose()
    assert caught.value.retryable and not caught.value.ambiguous

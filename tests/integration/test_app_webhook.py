"""The mobile app channel against a real HTTP server on 127.0.0.1 that checks signatures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from channels.app import AppChannel, AppCredentials, AppSettings, verify_signature
from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Receipt, Recipient
from crisis.clock import FakeClock

SECRET = "secret-partage-de-test-fictif-0123456789abcdef"
T = datetime(2026, 3, 14, 8, 30, tzinfo=UTC)
KEY = "crise-7:etape-appli:public:app:v1"


@dataclass
class Vendor:
    """The app vendor's server: verifies signatures, stores alerts by id, answers as scripted."""

    clock: FakeClock
    replies: list[int] = field(default_factory=list)  # forced status codes, consumed in order
    delay: float = 0.0  # seconds to wait after recording, before answering
    payloads: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)
    rejected: int = 0
    lookups: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def signed(self, request: BaseHTTPRequestHandler, body: bytes) -> bool:
        ok = verify_signature(
            SECRET,
            request.headers.get("X-Crisis-Timestamp", ""),
            body,
            request.headers.get("X-Crisis-Signature", ""),
            now=self.clock.now(),
        )
        self.rejected += not ok
        return ok


def _handler(vendor: Vendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, data: dict[str, Any] | None = None) -> None:
            raw = json.dumps(data or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not vendor.signed(self, body):
                return self._answer(401, {"error": "signature"})
            if vendor.replies:
                return self._answer(vendor.replies.pop(0))
            payload = json.loads(body)
            if payload["id"] in vendor.known:
                return self._answer(409, {"id": vendor.known[payload["id"]]})
            vendor.payloads.append(payload)
            vendor.headers.append(dict(self.headers))
            vendor.known[payload["id"]] = f"app-{len(vendor.known) + 1}"
            if vendor.delay:
                vendor.release.wait(vendor.delay)
            return self._answer(201, {"id": vendor.known[payload["id"]]})

        def do_GET(self) -> None:
            if not vendor.signed(self, b""):
                return self._answer(401)
            key = unquote(self.path.rsplit("/", 1)[1])
            vendor.lookups.append(key)
            if vendor.replies:
                return self._answer(vendor.replies.pop(0))
            if key in vendor.known:
                return self._answer(200, {"id": vendor.known[key], "status": "publié"})
            return self._answer(404)

    return Handler


@pytest.fixture
def vendor() -> Iterator[Vendor]:
    state = Vendor(clock=FakeClock(T))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/alertes"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _channel(url: str, *, clock: FakeClock | None = None, **overrides: Any) -> AppChannel:
    settings = AppSettings(
        **{"url": url, "timeout_s": 5, "app_name": "Alerte Loire", "lookup_enabled": True}
        | overrides
    )
    credentials = AppCredentials.from_env({"CRISIS_APP_HMAC_SECRET": SECRET})
    return AppChannel(settings, credentials, clock or FakeClock(T))


def _message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "idempotency_key": KEY,
        "channel": ChannelName.APP,
        "recipient": Recipient(contact_id="public", address="application"),
        "subject": "Crue de la Loire : évacuation des quais",
        "body": "Évacuation préventive des quais de Saint-Étienne à 14 h. Restez à l'écoute.",
        "valid_until": T + timedelta(hours=6),
        "crisis_id": "crise-7",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


async def test_signed_alert_is_accepted_with_the_documented_payload(vendor):
    """The vendor verifies the signature and receives exactly the documented JSON."""
    channel = _channel(vendor.url)
    receipt = await channel.send(_message())
    await channel.aclose()

    assert receipt == Receipt(provider_id="app-1", status="sent")
    assert vendor.rejected == 0
    assert vendor.payloads == [
        {
            "id": KEY,
            "type": "alerte",
            "crisis": "crise-7",
            "title": "Crue de la Loire : évacuation des quais",
            "body": "Évacuation préventive des quais de Saint-Étienne à 14 h. Restez à l'écoute.",
            "valid_until": "2026-03-14T14:30:00+00:00",
            "sent_at": "2026-03-14T08:30:00+00:00",
        }
    ]
    headers = vendor.headers[0]
    assert headers["Idempotency-Key"] == KEY
    assert headers["X-Crisis-Timestamp"] == str(int(T.timestamp()))
    assert headers["Content-Type"] == "application/json; charset=utf-8"


async def test_exercise_is_typed_exercice_and_null_validity_is_sent(vendor):
    """An exercise message is marked so the app never shows it as a real alert."""
    await _channel(vendor.url).send(_message(exercise=True, valid_until=None))
    assert vendor.payloads[0]["type"] == "exercice"
    assert vendor.payloads[0]["valid_until"] is None


async def test_resend_of_a_received_alert_gets_409_and_still_a_receipt(vendor):
    """409 means the vendor already has this id: success, and it is shown only once."""
    channel = _channel(vendor.url)
    first = await channel.send(_message())
    again = await channel.send(_message())
    assert first.provider_id == again.provider_id == "app-1"
    assert len(vendor.payloads) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_busy_vendor_is_retryable(vendor, status):
    """429 and 503: the vendor did not take the alert; try again later."""
    vendor.replies.append(status)
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url).send(_message())
    assert failure.value.retryable is True
    assert failure.value.ambiguous is False
    assert str(status) in failure.value.public_reason


async def test_vendor_500_is_ambiguous(vendor):
    """Another 5xx: the vendor may have stored the alert before failing."""
    vendor.replies.append(500)
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url).send(_message())
    assert failure.value.ambiguous is True
    assert failure.value.retryable is False


async def test_vendor_400_is_final(vendor):
    """A refused payload will be refused again."""
    vendor.replies.append(400)
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url).send(_message())
    assert failure.value.retryable is False
    assert failure.value.ambiguous is False
    assert "Alerte Loire" in failure.value.public_reason


async def test_stale_timestamp_is_rejected_by_the_vendor_and_final(vendor):
    """A server clock ten minutes late fails verification (replay window): the agent is told."""
    late = FakeClock(T - timedelta(minutes=10))
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url, clock=late).send(_message())
    assert vendor.rejected == 1
    assert vendor.payloads == []
    assert failure.value.retryable is False
    assert "CRISIS_APP_HMAC_SECRET" in failure.value.public_reason
    assert "401" in failure.value.public_reason


async def test_slow_vendor_beyond_the_timeout_is_ambiguous(vendor):
    """The alert left and the answer did not come back in time: never resend blindly."""
    vendor.delay = 3.0
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url, timeout_s=0.3).send(_message())
    assert failure.value.ambiguous is True
    assert failure.value.retryable is False
    assert len(vendor.payloads) == 1  # it did arrive: exactly why resending would duplicate


async def test_connection_refused_is_retryable(vendor):
    """Nobody listening: nothing was sent."""
    closed = vendor.url.rsplit(":", 1)[0] + ":1/v1/alertes"
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(closed).send(_message())
    assert failure.value.retryable is True
    assert failure.value.ambiguous is False


async def test_lookup_finds_a_received_alert_and_knows_an_unknown_one(vendor):
    """GET {url}/{id}: 200 gives the receipt, 404 says it certainly was not received."""
    channel = _channel(vendor.url)
    await channel.send(_message())
    found = await channel.lookup(_message())
    missing = await channel.lookup(_message(idempotency_key="crise-7:autre/étape:public"))
    assert found == Receipt(provider_id="app-1", status="sent")
    assert missing is None
    assert vendor.lookups == [KEY, "crise-7:autre/étape:public"]
    assert vendor.rejected == 0


async def test_lookup_with_an_unexpected_status_stays_ambiguous(vendor):
    """Neither 200 nor 404: a human decides."""
    vendor.replies.append(500)
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url).lookup(_message())
    assert failure.value.ambiguous is True
    assert failure.value.retryable is False


async def test_lookup_disabled_never_answers_not_sent(vendor):
    """A vendor without the lookup endpoint: no request, the row stays for a human."""
    with pytest.raises(DeliveryFailed) as failure:
        await _channel(vendor.url, lookup_enabled=False).lookup(_message())
    assert failure.value.ambiguous is True
    assert vendor.lookups == []

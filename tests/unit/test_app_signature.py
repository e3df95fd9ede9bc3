"""Webhook signature for the mobile app vendor, and the app channel's configuration."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from channels.app import (
    AppChannel,
    AppCredentials,
    AppSettings,
    check_app,
    sign,
    verify_signature,
)
from channels.base import ChannelConfigError, ChannelName, OutgoingMessage, Recipient
from crisis.clock import FakeClock

SECRET = b"secret-partage-de-test-fictif-0123456789abcdef"
NOW = datetime(2026, 3, 14, 8, 30, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = '{"id":"crise-7:etape-1","title":"Évacuation"}'.encode()


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    """The documented formula, computed independently."""
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"


def test_good_signature_is_accepted():
    """Right secret, same body, fresh timestamp."""
    assert verify_signature(SECRET, str(TS), BODY, sign(SECRET, TS, BODY), now=NOW)
    assert verify_signature(SECRET.decode(), TS, BODY, sign(SECRET, TS, BODY), now=NOW.timestamp())


def test_tampered_body_is_rejected():
    """One changed byte in the body breaks the signature."""
    header = sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY.replace(b"1", b"2"), header, now=NOW)


def test_tampered_timestamp_is_rejected():
    """The timestamp is signed too: moving it breaks the signature."""
    header = sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS + 1, BODY, header, now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_rejected(offset):
    """Outside the 300 s window, even a correct signature is refused (replay)."""
    ts = TS + offset
    assert not verify_signature(SECRET, ts, BODY, sign(SECRET, ts, BODY), now=NOW)


def test_timestamp_inside_the_window_is_accepted():
    """A few minutes of clock drift are tolerated."""
    ts = TS - 299
    assert verify_signature(SECRET, ts, BODY, sign(SECRET, ts, BODY), now=NOW)


def test_wrong_secret_is_rejected():
    """A signature made with another secret fails."""
    other = b"un-autre-secret-de-test-fictif-9876543210fedcba"
    assert not verify_signature(SECRET, TS, BODY, sign(other, TS, BODY), now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [("abc", None), ("", None), ("-5", None), (str(TS), ""), (str(TS), "sha1=00"), (str(TS), "é")],
)
def test_malformed_input_is_rejected_without_error(timestamp, header):
    """Garbage in the headers gives False, not an exception."""
    value = header if header is not None else sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, timestamp, BODY, value, now=NOW)


async def test_channel_signs_exactly_the_bytes_it_sends():
    """What the channel POSTs verifies with the shared secret at the receiver's time."""
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "app-1"})

    channel = AppChannel(
        AppSettings(url="https://app.example.fr/v1/alertes"),
        AppCredentials(hmac_secret=SECRET),
        FakeClock(NOW),
        http=httpx.AsyncClient(transport=httpx.MockTransport(vendor)),
    )
    message = OutgoingMessage(
        idempotency_key="crise-7:etape-1",
        channel=ChannelName.APP,
        recipient=Recipient(contact_id="public", address="application"),
        body="Évacuation préventive",
    )
    await channel.send(message)
    request = seen[0]
    assert verify_signature(
        SECRET,
        request.headers["X-Crisis-Timestamp"],
        request.content,
        request.headers["X-Crisis-Signature"],
        now=NOW + timedelta(seconds=2),
    )
    assert json.loads(request.content)["title"] == "Évacuation préventive"  # first line


def test_secret_missing_or_short_is_a_french_config_error():
    """The variable is named; the secret itself never appears."""
    with pytest.raises(ChannelConfigError, match="CRISIS_APP_HMAC_SECRET absente"):
        AppCredentials.from_env({})
    with pytest.raises(ChannelConfigError, match="32 octets") as error:
        AppCredentials.from_env({"CRISIS_APP_HMAC_SECRET": "trop-court-fictif"})
    assert "trop-court-fictif" not in str(error.value)


def test_secret_is_hidden_from_repr():
    """Logs of the credentials object never show the secret."""
    assert "secret-partage" not in repr(AppCredentials(hmac_secret=SECRET))


@pytest.mark.parametrize(
    "url",
    [
        "http://app.example.fr/v1/alertes",
        "ftp://app.example.fr/",
        "https://user:motdepasse@app.example.fr/",
        "https://app.example.fr/v1?token=x",
        "app.example.fr",
    ],
)
def test_bad_urls_are_refused_in_french(url):
    """https only (http for loopback tests); no credentials or query string in the URL."""
    with pytest.raises(ValidationError, match=r"app\.url"):
        AppSettings(url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook/"])
def test_http_is_allowed_on_loopback(url):
    """Local fakes in tests and demos run on plain http."""
    assert not AppSettings(url=url).url.endswith("/")


def test_check_app_reports_missing_secret_without_sending():
    """check_app lists configuration problems in French."""
    settings = AppSettings(url="https://app.example.fr/v1/alertes")
    assert check_app(settings, {"CRISIS_APP_HMAC_SECRET": SECRET.decode()}) == []
    problems = check_app(settings, {})
    assert len(problems) == 1
    assert "CRISIS_APP_HMAC_SECRET" in problems[0]

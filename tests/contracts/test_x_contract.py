"""The X channel, through real tweepy, against Prism serving X's official OpenAPI spec (trimmed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Recipient
from channels.x import REFUSED, XChannel, XCredentials, XSettings
from crisis.clock import FakeClock
from tests.contracts.prism import SPECS, prism_mock

SPEC = SPECS / "x_api_v2_openapi.json"
EXAMPLE_ID = "1445880548472328192"  # the 201 example added to POST /2/tweets
CREDENTIALS = XCredentials("cle-app", "secret-app", "jeton-compte", "secret-compte")
T0 = datetime(2026, 11, 23, 1, 45, tzinfo=UTC)


@pytest.fixture(scope="module")
def prism_x() -> Iterator[str]:
    with prism_mock(SPEC) as base_url:
        yield base_url


class Exchange:
    """What went over the wire: method, URL, status, request body and Authorization header."""

    def __init__(self, response: requests.Response) -> None:
        request = response.request
        self.method = request.method
        self.url = str(request.url)
        self.status = response.status_code
        body = request.body
        self.body: dict[str, Any] = json.loads(body) if isinstance(body, str | bytes) else {}
        value = request.headers.get("Authorization", "")
        self.authorization = value.decode() if isinstance(value, bytes) else value


def channel_with_log(base_url: str) -> tuple[XChannel, list[Exchange]]:
    channel = XChannel(XSettings(api_base_url=base_url, timeout_s=10), CREDENTIALS, FakeClock(T0))
    log: list[Exchange] = []

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        log.append(Exchange(response))

    channel.client.session.hooks["response"].append(record)  # type: ignore[attr-defined]
    return channel, log


def message(body: str) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key="crise-1:etape-2:public:x:v1",
        channel=ChannelName.X,
        recipient=Recipient(contact_id="compte-prefecture", address="@prefecture"),
        body=body,
    )


async def test_post_through_tweepy_returns_the_spec_example_id(prism_x: str) -> None:
    """A signed OAuth 1.0a POST /2/tweets is accepted by the spec; the receipt is the post id."""
    channel, log = channel_with_log(prism_x)
    receipt = await channel.send(message("Crue de la Seine : évacuation des quais bas de Melun."))
    assert receipt.provider_id == EXAMPLE_ID
    assert [(e.method, e.url, e.status) for e in log] == [("POST", f"{prism_x}/2/tweets", 201)]
    assert log[0].authorization.startswith("OAuth ")
    assert log[0].body["text"].endswith(")")  # the stamp closes the text


async def test_thread_parts_are_chained_replies_the_spec_accepts(prism_x: str) -> None:
    """Each part after the first is a reply (reply.in_reply_to_tweet_id) and gets 201."""
    body = " ".join(
        f"Consigne {n} : ne vous engagez pas sur les routes inondées, même en véhicule haut."
        for n in range(8)
    )
    channel, log = channel_with_log(prism_x)
    receipt = await channel.send(message(body))
    assert receipt.provider_id == EXAMPLE_ID
    assert len(log) >= 3
    assert all(e.status == 201 for e in log)
    assert "reply" not in log[0].body
    assert all(e.body["reply"] == {"in_reply_to_tweet_id": EXAMPLE_ID} for e in log[1:])


async def test_lookup_requests_are_valid_for_the_spec(prism_x: str) -> None:
    """get_me then get_users_tweets pass the spec's checks (path id, max_results <= 100);
    the mock's placeholder posts are not our message, so the answer is None."""
    channel, log = channel_with_log(prism_x)
    assert await channel.lookup(message("Message jamais publié.")) is None
    assert [(e.method, e.status) for e in log] == [("GET", 200), ("GET", 200)]
    assert log[0].url == f"{prism_x}/2/users/me"
    assert log[1].url.startswith(f"{prism_x}/2/users/2244994945/tweets?max_results=100")


class StripAuthorization(requests.adapters.HTTPAdapter):
    """Sends requests without their Authorization header (lost credentials)."""

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        request.headers.pop("Authorization", None)
        return super().send(request, *args, **kwargs)


async def test_request_without_credentials_is_refused_and_not_retried(prism_x: str) -> None:
    """The spec answers 401 without Authorization: a final failure asking for manual posting."""
    channel, log = channel_with_log(prism_x)
    channel.client.session.mount("http://", StripAuthorization())  # type: ignore[attr-defined]
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(message("Crue de la Seine : évacuation des quais bas de Melun."))
    assert [e.status for e in log] == [401]
    assert not caught.value.retryable and not caught.value.ambiguous
    assert caught.value.public_reason == REFUSED

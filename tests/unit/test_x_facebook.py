"""X and Facebook channels: provider errors mapped to retry / ambiguous / refused, with fakes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
import tweepy  # type: ignore[import-untyped]
import urllib3.exceptions
from pydantic import ValidationError

from channels.base import (
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Recipient,
)
from channels.facebook import (
    FacebookChannel,
    FacebookCredentials,
    FacebookSettings,
    check_facebook,
)
from channels.publication import weighted_length
from channels.x import (
    REFUSED,
    RateLimited,
    XChannel,
    XCredentials,
    XSettings,
    build_client,
    check_x,
)
from crisis.clock import FakeClock

T0 = datetime(2026, 11, 23, 1, 45, tzinfo=UTC)  # 02:45 in Paris
X_ENV = {
    "CRISIS_X_API_KEY": "cle-app",
    "CRISIS_X_API_SECRET": "secret-app",
    "CRISIS_X_ACCESS_TOKEN": "jeton-compte",
    "CRISIS_X_ACCESS_SECRET": "secret-compte",
}
SHORT = "Crue de la Seine : évacuation des quais bas de Melun. Suivez les consignes des secours."
LONG = " ".join(
    f"Consigne {n} : ne vous engagez pas sur les routes inondées, même en véhicule haut."
    for n in range(8)
)


def message(body: str = SHORT, key: str = "crise-1:etape-2:public:x:v1") -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        channel=ChannelName.X,
        recipient=Recipient(contact_id="compte-prefecture", address="@prefecture"),
        body=body,
    )


def http_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "error"
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


def duplicate_error() -> tweepy.Forbidden:
    return tweepy.Forbidden(
        http_response(
            403,
            {
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "type": "about:blank",
                "title": "Forbidden",
                "status": 403,
            },
        )
    )


def refused_connection() -> requests.ConnectionError:
    cause = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/2/tweets", cause))  # type: ignore[arg-type]


class FakeXClient:
    """Records posts like X would, or raises the error queued for the next post."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []  # newest last
        self.calls: list[dict[str, Any]] = []
        self.errors: list[Exception | None] = []  # one per create_tweet call, None = accept

    def create_tweet(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        if any(post["text"] == kwargs["text"] for post in self.posts):
            raise duplicate_error()
        post = {"id": str(1000 + len(self.posts)), "text": kwargs["text"]}
        self.posts.append(post)
        return {"data": dict(post)}

    def get_me(self, **kwargs: Any) -> Any:
        return {"data": {"id": "2244994945", "username": "prefecture"}}

    def get_users_tweets(self, id: str, **kwargs: Any) -> Any:
        assert id == "2244994945"
        return {"data": list(reversed(self.posts))[: kwargs.get("max_results", 10)]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def fake() -> FakeXClient:
    return FakeXClient()


@pytest.fixture
def x(fake: FakeXClient, clock: FakeClock) -> XChannel:
    return XChannel(XSettings(), XCredentials.from_env(X_ENV), clock, client=fake)


# --- X: sending ---------------------------------------------------------------------------


async def test_post_is_stamped_with_paris_time_and_returns_the_tweet_id(
    x: XChannel, fake: FakeXClient
) -> None:
    """A short message is one post ending with "(màj 02:45 · réf. ....)"; the receipt is its id."""
    receipt = await x.send(message())
    assert receipt.provider_id == "1000"
    assert fake.calls[0]["text"].startswith(SHORT + " (màj 02:45 · réf. ")
    assert fake.calls[0]["in_reply_to_tweet_id"] is None


async def test_long_body_is_a_thread_of_chained_replies(x: XChannel, fake: FakeXClient) -> None:
    """Each part replies to the previous one; the receipt is the first post."""
    receipt = await x.send(message(LONG))
    assert len(fake.calls) >= 3
    assert receipt.provider_id == "1000"
    assert [c["in_reply_to_tweet_id"] for c in fake.calls] == [None] + [
        str(1000 + i) for i in range(len(fake.calls) - 1)
    ]
    assert all(weighted_length(c["text"]) <= 280 for c in fake.calls)


async def test_rate_limit_is_retryable_with_the_reset_delay(x: XChannel, fake: FakeXClient) -> None:
    """429 with x-rate-limit-reset: RateLimited, retryable, retry_after_s from the clock."""
    reset = int(T0.timestamp()) + 600
    fake.errors = [
        tweepy.TooManyRequests(
            http_response(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)}),
            reset_time=reset,
        )
    ]
    with pytest.raises(RateLimited) as caught:
        await x.send(message())
    assert caught.value.retryable and not caught.value.ambiguous
    assert caught.value.retry_after_s == 600
    assert "10 min" in caught.value.public_reason


async def test_daily_cap_uses_the_24_hour_reset(x: XChannel, fake: FakeXClient) -> None:
    """When the account's 24-hour cap is spent, the wait runs to that reset."""
    reset_24h = int(T0.timestamp()) + 7200
    headers = {
        "x-rate-limit-reset": str(int(T0.timestamp()) + 60),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(reset_24h),
    }
    fake.errors = [tweepy.TooManyRequests(http_response(429, {}, headers))]
    with pytest.raises(RateLimited) as caught:
        await x.send(message())
    assert caught.value.retry_after_s == 7200


@pytest.mark.parametrize(
    "error",
    [
        tweepy.Unauthorized(http_response(401, {"title": "Unauthorized", "status": 401})),
        tweepy.Forbidden(
            http_response(
                403, {"detail": "You are not permitted to perform this action.", "status": 403}
            )
        ),
    ],
    ids=["401", "403-not-duplicate"],
)
async def test_auth_refusal_is_final_and_asks_for_manual_publication(
    x: XChannel, fake: FakeXClient, error: Exception
) -> None:
    """Expired token or missing rights: not retryable, and the agent is told to publish by hand."""
    fake.errors = [error]
    with pytest.raises(DeliveryFailed) as caught:
        await x.send(message())
    assert not caught.value.retryable and not caught.value.ambiguous
    assert caught.value.public_reason == REFUSED
    assert "publier à la main sur X" in REFUSED


async def test_duplicate_means_already_posted_and_gives_the_existing_id(
    x: XChannel, fake: FakeXClient
) -> None:
    """A resend X refuses as duplicate is found on the account: same receipt, one post."""
    first = await x.send(message())
    x2 = XChannel(XSettings(), XCredentials.from_env(X_ENV), FakeClock(T0), client=fake)
    again = await x2.send(message())
    assert again.provider_id == first.provider_id
    assert len(fake.posts) == 1


async def test_duplicate_not_found_is_left_to_a_human(x: XChannel, fake: FakeXClient) -> None:
    """X says duplicate but the post is not among the recent ones: ambiguous, never resent."""
    fake.errors = [duplicate_error()]
    with pytest.raises(DeliveryFailed) as caught:
        await x.send(message())
    assert caught.value.ambiguous and not caught.value.retryable


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        (requests.ConnectTimeout("connect timeout"), True, False),
        (refused_connection(), True, False),
        (requests.ReadTimeout("read timeout"), False, True),
        (
            requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.")),
            False,
            True,
        ),
        (
            tweepy.TwitterServerError(http_response(503, {"title": "Service Unavailable"})),
            True,
            False,
        ),
        (tweepy.TwitterServerError(http_response(500, {"title": "Internal Error"})), False, True),
        (tweepy.BadRequest(http_response(400, {"title": "Invalid Request"})), False, False),
    ],
    ids=["connect-timeout", "refused", "read-timeout", "aborted", "503", "500", "400"],
)
async def test_transport_and_server_errors_are_mapped(
    x: XChannel, fake: FakeXClient, error: Exception, retryable: bool, ambiguous: bool
) -> None:
    """Before the request left: retry; after it left: ambiguous (look up, never resend blindly)."""
    fake.errors = [error]
    with pytest.raises(DeliveryFailed) as caught:
        await x.send(message())
    assert (caught.value.retryable, caught.value.ambiguous) == (retryable, ambiguous)


async def test_thread_interrupted_by_rate_limit_resumes_without_reposting(
    x: XChannel, fake: FakeXClient, clock: FakeClock
) -> None:
    """A 429 on part 2 says the thread is partly online; the retry posts only parts 2..n."""
    fake.errors = [None, tweepy.TooManyRequests(http_response(429, {}), reset_time=None)]
    with pytest.raises(RateLimited) as caught:
        await x.send(message(LONG))
    assert "fil publié en partie : 1/" in caught.value.public_reason
    clock.advance(900)
    receipt = await x.send(message(LONG))
    texts = [post["text"] for post in fake.posts]
    assert receipt.provider_id == "1000"
    assert len(texts) == len(set(texts))  # no part posted twice
    assert len(fake.calls) == len(texts) + 1  # part 1 not even tried again (one call got 429)
    assert texts[0].startswith("1/") and texts[-1].startswith(f"{len(texts)}/{len(texts)} ")
    assert fake.calls[2]["in_reply_to_tweet_id"] == "1000"


async def test_resend_after_a_lookup_miss_is_the_same_text(
    x: XChannel, fake: FakeXClient, clock: FakeClock
) -> None:
    """The stamp is the first attempt's: minutes later the text is identical."""
    fake.errors = [requests.ReadTimeout("read timeout")]
    with pytest.raises(DeliveryFailed):
        await x.send(message())
    assert await x.lookup(message()) is None
    clock.advance(300)
    await x.send(message())
    assert fake.calls[0]["text"] == fake.calls[1]["text"]


# --- X: look-up ---------------------------------------------------------------------------


async def test_lookup_finds_the_post_after_a_restart(fake: FakeXClient) -> None:
    """A new channel (restart, later minute) finds the post by its reference."""
    first = XChannel(XSettings(), XCredentials.from_env(X_ENV), FakeClock(T0), client=fake)
    receipt = await first.send(message())
    later = FakeClock(datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    restarted = XChannel(XSettings(), XCredentials.from_env(X_ENV), later, client=fake)
    found = await restarted.lookup(message())
    assert found is not None and found.provider_id == receipt.provider_id


async def test_lookup_of_an_unsent_message_is_none(x: XChannel, fake: FakeXClient) -> None:
    """Another message of the account does not count as this one."""
    await x.send(message(key="crise-1:etape-1:public:x:v1"))
    assert await x.lookup(message()) is None


async def test_partial_thread_found_by_lookup_is_completed_by_the_resend(fake: FakeXClient) -> None:
    """Lookup sees parts 1..k online: None, then the resend posts only the missing parts,
    with the minute already online."""
    first = XChannel(XSettings(), XCredentials.from_env(X_ENV), FakeClock(T0), client=fake)
    fake.errors = [None, requests.ReadTimeout("read timeout")]
    with pytest.raises(DeliveryFailed) as caught:
        await first.send(message(LONG))
    assert caught.value.ambiguous
    later = FakeClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    restarted = XChannel(XSettings(), XCredentials.from_env(X_ENV), later, client=fake)
    assert await restarted.lookup(message(LONG)) is None
    receipt = await restarted.send(message(LONG))
    assert receipt.provider_id == "1000"
    assert all("(màj 02:45 · " in post["text"] for post in fake.posts)
    assert fake.calls[2]["in_reply_to_tweet_id"] == "1000"
    assert len(fake.calls) == len(fake.posts) + 1  # only the timed-out call posted nothing


async def test_lookup_failure_is_ambiguous(x: XChannel, fake: FakeXClient) -> None:
    """When X cannot be asked, the row stays unknown for a human: never None."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise requests.ReadTimeout("read timeout")

    fake.get_users_tweets = broken  # type: ignore[method-assign]
    with pytest.raises(DeliveryFailed) as caught:
        await x.lookup(message())
    assert caught.value.ambiguous and not caught.value.retryable


# --- X: client, credentials, configuration -------------------------------------------------


class RecordingAdapter(requests.adapters.HTTPAdapter):
    """Answers every request with 201 and remembers its URL and timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Any]] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.seen.append((str(request.url), kwargs.get("timeout")))
        response = http_response(201, {"data": {"id": "42", "text": "ok"}})
        response.request = request
        return response


def test_client_never_sleeps_on_rate_limits_and_has_a_timeout() -> None:
    """tweepy's client: wait_on_rate_limit off, every request sent to the base URL with a timeout."""
    settings = XSettings(api_base_url="http://127.0.0.1:4010", timeout_s=3)
    client = build_client(settings, XCredentials.from_env(X_ENV))
    assert client.wait_on_rate_limit is False
    adapter = RecordingAdapter()
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    client.create_tweet(text="essai")
    assert adapter.seen == [("http://127.0.0.1:4010/2/tweets", 3)]


def test_credentials_name_missing_variables_and_hide_secrets() -> None:
    """Missing variables are named; the secrets never appear in repr."""
    with pytest.raises(ChannelConfigError) as caught:
        XCredentials.from_env({"CRISIS_X_API_KEY": "cle-app"})
    assert "CRISIS_X_ACCESS_SECRET" in str(caught.value)
    assert "cle-app" not in str(caught.value)
    assert "secret-compte" not in repr(XCredentials.from_env(X_ENV))


def test_check_x_reports_missing_variables_and_clear_text_url() -> None:
    """Configuration problems are listed in French without calling X."""
    problems = check_x(XSettings(api_base_url="http://x.example.org"), {})
    assert len(problems) == 5
    assert any("CRISIS_X_API_KEY" in p for p in problems)
    assert any("https" in p for p in problems)
    assert check_x(XSettings(api_base_url="http://127.0.0.1:4010"), X_ENV) == []


def test_x_settings_reject_unknown_timezone() -> None:
    """A typo in the time zone is an error in French."""
    with pytest.raises(ValidationError, match="fuseau horaire inconnu"):
        XSettings(timezone="Europe/Pariss")


# --- Facebook -----------------------------------------------------------------------------

PAGE = "104987654321"
FB_ENV = {"CRISIS_FACEBOOK_PAGE_TOKEN": "jeton-page"}
FEED = f"/v21.0/{PAGE}/feed"


def graph_error(
    status: int, code: int, *, transient: bool = False, subcode: int | None = None
) -> httpx.Response:
    error: dict[str, Any] = {
        "message": "err",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A1",
    }
    if transient:
        error["is_transient"] = True
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


def facebook(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock | None = None
) -> FacebookChannel:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return FacebookChannel(
        FacebookSettings(page_id=PAGE),
        FacebookCredentials.from_env(FB_ENV),
        clock or FakeClock(T0),
        http=http,
    )


async def test_facebook_post_sends_stamped_message_and_token_as_form() -> None:
    """POST /v21.0/{page}/feed with message and access_token; the receipt is the post id."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": f"{PAGE}_555"})

    receipt = await facebook(handler).send(message())
    assert receipt.provider_id == f"{PAGE}_555"
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert (seen[0].method, seen[0].url.path) == ("POST", FEED)
    assert form["access_token"] == "jeton-page"
    assert form["message"].startswith(SHORT + " (màj 02:45 · réf. ")


@pytest.mark.parametrize(
    ("response", "retryable", "ambiguous", "phrase"),
    [
        (graph_error(400, 190, subcode=463), False, False, "jeton expiré"),
        (graph_error(403, 200), False, False, "droits de publication"),
        (graph_error(400, 10), False, False, "droits de publication"),
        (graph_error(400, 4), True, False, "limite d'appels"),
        (graph_error(400, 32), True, False, "limite d'appels"),
        (graph_error(400, 368), False, False, "anti-abus"),
        (graph_error(500, 2, transient=True), True, False, "nouvel essai"),
        (graph_error(500, 1), False, True, "peut-être en ligne"),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), False, True, "peut-être en ligne"),
        (graph_error(400, 100), False, False, "publier à la main"),
    ],
    ids=["190", "200", "10", "4", "32", "368", "500-transient", "500", "502-html", "100"],
)
async def test_facebook_graph_errors_are_mapped(
    response: httpx.Response, retryable: bool, ambiguous: bool, phrase: str
) -> None:
    """Graph error codes decide: token/permissions final, rate limits retried, 5xx ambiguous."""
    channel = facebook(lambda request: response)
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(message())
    assert (caught.value.retryable, caught.value.ambiguous) == (retryable, ambiguous)
    assert phrase in caught.value.public_reason
    assert "jeton-page" not in caught.value.public_reason


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        (httpx.ConnectError("refused"), True, False),
        (httpx.ConnectTimeout("connect"), True, False),
        (httpx.ReadTimeout("read"), False, True),
        (httpx.WriteTimeout("write"), False, True),
        (httpx.RemoteProtocolError("closed"), False, True),
    ],
    ids=["connect-error", "connect-timeout", "read-timeout", "write-timeout", "closed"],
)
async def test_facebook_transport_errors_are_mapped(
    error: Exception, retryable: bool, ambiguous: bool
) -> None:
    """No connection: retry. Timeout once the request left: ambiguous."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(DeliveryFailed) as caught:
        await facebook(handler).send(message())
    assert (caught.value.retryable, caught.value.ambiguous) == (retryable, ambiguous)


def feed_handler(
    posts: list[dict[str, str]], post_answer: httpx.Response | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A page feed: GET lists `posts` (token in the Bearer header); POST gives `post_answer`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.path == FEED
            assert request.headers["Authorization"] == "Bearer jeton-page"
            assert "access_token" not in str(request.url)
            assert request.url.params["fields"] == "id,message,created_time"
            return httpx.Response(200, json={"data": posts})
        assert post_answer is not None
        return post_answer

    return handler


async def test_facebook_duplicate_is_answered_with_the_existing_post() -> None:
    """506 duplicate: the post is found in the feed and its id returned."""
    clock = FakeClock(T0)
    probe = facebook(feed_handler([]), clock)
    text = await _posted_text(probe)
    posts = [{"id": f"{PAGE}_777", "message": text, "created_time": "2026-11-23T01:45:03+0000"}]
    channel = facebook(feed_handler(posts, graph_error(400, 506)), clock)
    receipt = await channel.send(message())
    assert receipt.provider_id == f"{PAGE}_777"


async def test_facebook_duplicate_not_found_is_ambiguous() -> None:
    """506 but nothing in the feed: ambiguous, left to a human."""
    channel = facebook(feed_handler([], graph_error(400, 506)))
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(message())
    assert caught.value.ambiguous


async def _posted_text(channel: FacebookChannel) -> str:
    """The exact text a channel posts for `message()`."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(dict(httpx.QueryParams(request.content.decode()))["message"])
        return httpx.Response(200, json={"id": f"{PAGE}_1"})

    channel.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await channel.send(message())
    return sent[0]


async def test_facebook_lookup_matches_after_restart_and_misses_other_posts() -> None:
    """A post sent at 02:45 is found by a channel started at 03:30; other posts do not match."""
    text = await _posted_text(facebook(feed_handler([])))
    posts = [
        {
            "id": f"{PAGE}_900",
            "message": "Autre information de la préfecture.",
            "created_time": "x",
        },
        {"id": f"{PAGE}_901", "message": text, "created_time": "2026-11-23T01:45:03+0000"},
    ]
    later = FakeClock(datetime(2026, 11, 23, 2, 30, tzinfo=UTC))
    found = await facebook(feed_handler(posts), later).lookup(message())
    assert found is not None and found.provider_id == f"{PAGE}_901"
    assert await facebook(feed_handler(posts[:1]), later).lookup(message()) is None


async def test_facebook_lookup_failure_is_ambiguous() -> None:
    """The feed cannot be read (expired token): the message stays unknown, never None."""
    channel = facebook(lambda request: graph_error(400, 190))
    with pytest.raises(DeliveryFailed) as caught:
        await channel.lookup(message())
    assert caught.value.ambiguous and not caught.value.retryable


def test_facebook_configuration_checks() -> None:
    """Missing token, missing page id and clear-text URL are reported; bad values rejected."""
    problems = check_facebook(FacebookSettings(graph_base_url="http://graph.example.org"), {})
    assert any("CRISIS_FACEBOOK_PAGE_TOKEN" in p for p in problems)
    assert any("page_id" in p for p in problems)
    assert any("https" in p for p in problems)
    assert check_facebook(FacebookSettings(page_id=PAGE), FB_ENV) == []
    with pytest.raises(ValidationError, match="identifiant numérique"):
        FacebookSettings(page_id="prefecture77")
    with pytest.raises(ValidationError, match="graph_version"):
        FacebookSettings(page_id=PAGE, graph_version="21")
    with pytest.raises(ChannelConfigError, match="page_id"):
        FacebookChannel(FacebookSettings(), FacebookCredentials.from_env(FB_ENV), FakeClock(T0))
    with pytest.raises(ChannelConfigError, match="CRISIS_FACEBOOK_PAGE_TOKEN"):
        FacebookCredentials.from_env({})
    assert "jeton-page" not in repr(FacebookCredentials.from_env(FB_ENV))

"""Twilio voice and SMS channels against a recording fake client: what is sent, how errors
map to DeliveryFailed, look-ups, settings, credentials and the configuration check."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import pydantic
import pytest
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient

from channels.base import (
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Recipient,
)
from channels.twilio_common import (
    ADVICE,
    ENV_ACCOUNT_SID,
    ENV_API_KEY_SECRET,
    ENV_API_KEY_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
    check_twilio,
    make_client,
)
from channels.twilio_errors import delivery_failure
from channels.twilio_http import DEFAULT_CONNECTIONS, LoopSession
from channels.twilio_sms import ACK_PROMPT, TwilioSmsChannel
from channels.twilio_voice import TwilioVoiceChannel
from crisis.clock import FakeClock

NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
MOBILE = "+33639980001"
ACCOUNT = "AC" + "a" * 32
TOKEN = "secret-token-value-0123456789abcd"
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN}
SERVICE = "MG" + "b" * 32
BASE = "https://crise.example.fr"


class FakeResource:
    """Records create_async/page_async calls, the thread they ran in, and fails when told to."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.created: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []
        self.records: list[SimpleNamespace] = []
        self.error: Exception | None = None
        self.list_error: Exception | None = None
        self.threads: list[int] = []

    async def create_async(self, **params: Any) -> SimpleNamespace:
        self.threads.append(threading.get_ident())
        if self.error is not None:
            raise self.error
        self.created.append(params)
        return SimpleNamespace(sid=f"{self.prefix}{len(self.created):032x}", status="queued")

    async def page_async(self, **params: Any) -> list[SimpleNamespace]:
        self.threads.append(threading.get_ident())
        self.queries.append(params)
        if self.list_error is not None:
            raise self.list_error
        return list(self.records)


class FakeHttp:
    """The client's http_client: counts closings."""

    def __init__(self) -> None:
        self.closed = 0

    async def close(self) -> None:
        self.closed += 1


class FakeClient:
    def __init__(self) -> None:
        self.messages = FakeResource("SM")
        self.calls = FakeResource("CA")
        self.http_client = FakeHttp()


def _settings(**overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "public_base_url": BASE,
        "voice_from": "+33199000001",
        "sms_sender": "PREF42",
    }
    values.update(overrides)
    return TwilioSettings(**values)


def _message(channel: ChannelName, **overrides: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "idempotency_key": "crise-1/alerte maires/c-17/" + channel.value,
        "channel": channel,
        "recipient": Recipient(contact_id="c-17", address=MOBILE),
        "body": "Préfecture de la Loire : crue, évacuez les berges.",
    }
    values.update(overrides)
    return OutgoingMessage(**values)


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def _sms(client: FakeClient, clock: FakeClock, **settings: Any) -> TwilioSmsChannel:
    creds = TwilioCredentials.from_env(ENV)
    return TwilioSmsChannel(_settings(**settings), creds, clock, client_factory=lambda: client)


def _voice(client: FakeClient, clock: FakeClock, **settings: Any) -> TwilioVoiceChannel:
    creds = TwilioCredentials.from_env(ENV)
    return TwilioVoiceChannel(_settings(**settings), creds, clock, client_factory=lambda: client)


# --- SMS send ----------------------------------------------------------------------------------


async def test_sms_send_passes_sender_body_callback_and_validity(client, clock):
    """To, Body, From=sender, StatusCallback with the URL-encoded key, ValidityPeriod in seconds."""
    message = _message(ChannelName.SMS, valid_until=NOW + timedelta(minutes=30))
    receipt = await _sms(client, clock).send(message)
    assert receipt.provider_id == "SM" + f"{1:032x}"
    assert receipt.status == "sent"
    assert client.messages.created == [
        {
            "to": MOBILE,
            "body": message.body,
            "from_": "PREF42",
            "status_callback": (
                f"{BASE}/webhooks/twilio/status?k=crise-1%2Falerte%20maires%2Fc-17%2Fsms"
            ),
            "validity_period": 1800,
        }
    ]


async def test_sms_send_awaits_the_sdk_async_call_without_a_worker_thread(client, clock):
    """create_async is awaited on the event loop's own thread: no thread pool caps the sends."""
    await _sms(client, clock).send(_message(ChannelName.SMS))
    assert client.messages.threads == [threading.get_ident()]


async def test_sends_are_in_flight_together_beyond_a_thread_pool(clock):
    """40 sends at once are 40 SDK calls in flight at once (the default thread pool of a
    2-core machine ran 6)."""

    class Held(FakeResource):
        def __init__(self) -> None:
            super().__init__("SM")
            self.in_flight = self.peak = 0
            self.release = asyncio.Event()

        async def create_async(self, **params: Any) -> SimpleNamespace:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if self.in_flight == 40:
                self.release.set()
            await self.release.wait()
            self.in_flight -= 1
            return await super().create_async(**params)

    client = FakeClient()
    client.messages = Held()
    channel = _sms(client, clock)
    messages = [
        _message(ChannelName.SMS, idempotency_key=f"crise-1/alerte/c-{i}/sms") for i in range(40)
    ]
    receipts = await asyncio.wait_for(asyncio.gather(*map(channel.send, messages)), timeout=10)
    assert client.messages.peak == 40
    assert len({r.provider_id for r in receipts}) == 40


async def test_aclose_closes_the_client_connections(client, clock):
    """Each channel closes its SDK client's HTTP session (at shutdown)."""
    for channel in (_sms(client, clock), _voice(client, clock)):
        await channel.aclose()
    assert client.http_client.closed == 2


async def test_sms_through_a_messaging_service_uses_its_sid_not_from(client, clock):
    """With messaging_service_sid, From is left out; no validity when the message has none."""
    await _sms(client, clock, sms_sender=None, messaging_service_sid=SERVICE).send(
        _message(ChannelName.SMS)
    )
    sent = client.messages.created[0]
    assert sent["messaging_service_sid"] == SERVICE
    assert "from_" not in sent
    assert "validity_period" not in sent


async def test_validity_is_clamped_to_twilio_maximum(client, clock):
    """A message valid for two days waits at most 36 000 s in Twilio's queue."""
    await _sms(client, clock).send(_message(ChannelName.SMS, valid_until=NOW + timedelta(days=2)))
    assert client.messages.created[0]["validity_period"] == 36_000


@pytest.mark.parametrize("left", [timedelta(0), timedelta(milliseconds=900), timedelta(minutes=-5)])
async def test_stale_sms_is_not_sent(client, clock, left):
    """A message whose validity has ended (or ends within the second) is refused, not sent."""
    with pytest.raises(DeliveryFailed) as failure:
        await _sms(client, clock).send(_message(ChannelName.SMS, valid_until=NOW + left))
    assert failure.value.public_reason == "message périmé, non envoyé"
    assert not failure.value.retryable
    assert client.messages.created == []


async def test_reply_prompt_added_when_a_service_can_receive_replies(client, clock):
    """Asked to acknowledge, through a Messaging Service: the body ends with the prompt."""
    channel = _sms(client, clock, sms_sender=None, messaging_service_sid=SERVICE)
    message = _message(ChannelName.SMS, ask_acknowledgement=True)
    await channel.send(message)
    assert client.messages.created[0]["body"] == f"{message.body}\n{ACK_PROMPT}"
    assert ACK_PROMPT == "Répondez 1 pour confirmer la réception."


async def test_reply_prompt_not_repeated_when_already_in_the_body(client, clock):
    """A template that already asks for "1" is left as written."""
    channel = _sms(client, clock, sms_sender=None, messaging_service_sid=SERVICE)
    body = f"Alerte crue. {ACK_PROMPT}"
    await channel.send(_message(ChannelName.SMS, body=body, ask_acknowledgement=True))
    assert client.messages.created[0]["body"] == body


async def test_no_reply_prompt_from_an_alphanumeric_sender(client, clock):
    """An alphanumeric sender cannot receive replies: asking for "1" would be a lie."""
    message = _message(ChannelName.SMS, ask_acknowledgement=True)
    await _sms(client, clock).send(message)
    assert client.messages.created[0]["body"] == message.body


@pytest.mark.parametrize("address", ["0639980001", "", "+33 6 39 98 00 01", "maire@example.fr"])
async def test_malformed_number_is_refused_without_a_request(client, clock, address):
    """Only E.164 numbers go to Twilio; the reason does not repeat the address."""
    message = _message(ChannelName.SMS, recipient=Recipient(contact_id="c-17", address=address))
    with pytest.raises(DeliveryFailed) as failure:
        await _sms(client, clock).send(message)
    assert not failure.value.retryable
    assert client.messages.created == []
    if address:
        assert address not in failure.value.public_reason


async def test_too_long_sms_is_refused_without_a_request(client, clock):
    """Twilio refuses bodies over 1 600 characters; we say so before sending."""
    with pytest.raises(DeliveryFailed) as failure:
        await _sms(client, clock).send(_message(ChannelName.SMS, body="x" * 1601))
    assert "trop long" in failure.value.public_reason
    assert client.messages.created == []


# --- error mapping -----------------------------------------------------------------------------


def _rest(status: int, code: int | None = None) -> TwilioRestException:
    uri = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    msg = f"Unable to create record: The 'To' number {MOBILE} is not a valid phone number."
    return TwilioRestException(status, uri, msg=msg, code=code, method="POST")


_KEY: Any = SimpleNamespace(host="api.twilio.com", port=443, ssl=True)  # aiohttp ConnectionKey


def _refused() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(_KEY, ConnectionRefusedError(111, "Connection refused"))


def _dns() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorDNSError(_KEY, socket.gaierror(-2, "Name or service not known"))


def _tls() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorCertificateError(_KEY, ssl.CertificateError("bad certificate"))


def _aborted() -> aiohttp.ClientError:
    return aiohttp.ClientOSError(104, "Connection reset by peer")


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        (_rest(429, 20429), True, False),
        (_rest(429), True, False),
        (_rest(401, 20003), False, False),
        (_rest(403), False, False),
        (_rest(401, 20005), False, False),
        (_rest(400, 21211), False, False),
        (_rest(400, 21614), False, False),
        (_rest(400, 21408), False, False),
        (_rest(400), False, False),
        (_rest(503), True, False),
        (_rest(500), False, True),
        (_rest(502), False, True),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), False, True),
        (TimeoutError(), False, True),
        (aiohttp.ConnectionTimeoutError("Connection timeout to host"), True, False),
        (_refused(), True, False),
        (_dns(), True, False),
        (_tls(), True, False),
        (_aborted(), False, True),
        (aiohttp.ServerDisconnectedError(), False, True),
        (aiohttp.ClientPayloadError("Response payload is not completed"), False, True),
    ],
    ids=lambda v: v if isinstance(v, bool) else type(v).__name__ + str(getattr(v, "status", "")),
)
async def test_errors_map_to_delivery_failed(client, clock, error, retryable, ambiguous):
    """429 and connection refused retry; a timeout after the request left or a 5xx is
    ambiguous; auth, account and number errors are final; no reason quotes the number."""
    client.messages.error = error
    with pytest.raises(DeliveryFailed) as failure:
        await _sms(client, clock).send(_message(ChannelName.SMS))
    assert (failure.value.retryable, failure.value.ambiguous) == (retryable, ambiguous)
    assert MOBILE not in failure.value.public_reason
    assert failure.value.__cause__ is None  # Twilio's message (with the number) is not chained
    assert failure.value.__suppress_context__


@pytest.mark.parametrize(
    ("status", "code"), [(401, 20003), (403, None), (401, 20005), (400, 30002)]
)
async def test_account_refusals_tell_the_agent_to_act_by_hand(client, clock, status, code):
    """Bad credentials or a suspended account: the channel is down, call by hand."""
    client.calls.error = _rest(status, code)
    with pytest.raises(DeliveryFailed) as failure:
        await _voice(client, clock).send(_message(ChannelName.VOICE))
    assert failure.value.public_reason == (
        "compte Twilio refusé (identifiants invalides ou compte suspendu) : "
        "prévenir l'administrateur, appeler à la main"
    )
    assert not failure.value.retryable


def test_invalid_or_fixed_number_reasons_point_at_the_directory():
    """21211 and 21614 are the recipient's number: fix the directory, reach them otherwise."""
    invalid = delivery_failure(_rest(400, 21211), manual="appeler à la main")
    assert "numéro du destinataire invalide" in invalid.public_reason
    not_mobile = delivery_failure(_rest(400, 21614), manual="appeler à la main")
    assert "pas un mobile" in not_mobile.public_reason
    assert "joindre ce destinataire autrement" in not_mobile.public_reason


def test_rfc9457_service_errors_are_mapped_too():
    """The SDK's newer exception type carries the same status and code."""
    error = TwilioServiceException(
        type_uri="https://www.twilio.com/docs/errors/20003",
        title="Authenticate",
        status=401,
        code=20003,
    )
    failure = delivery_failure(error, manual="appeler à la main")
    assert failure.public_reason.startswith("compte Twilio refusé")


# --- SMS look-up -------------------------------------------------------------------------------


def _record(sid: str, body: str, created: datetime, **extra: Any) -> SimpleNamespace:
    values = {"direction": "outbound-api", "status": "sent", **extra}
    return SimpleNamespace(sid=sid, body=body, date_created=created, **values)


async def test_sms_lookup_finds_the_message_by_its_text(client, clock):
    """A recent outbound SMS to the number with the same text is the one we sent."""
    message = _message(ChannelName.SMS)
    client.messages.records = [
        _record("SM-other", "Autre message", NOW - timedelta(minutes=1)),
        _record("SM-ours", message.body, NOW - timedelta(minutes=2), status="delivered"),
    ]
    receipt = await _sms(client, clock).lookup(message)
    assert receipt is not None
    assert (receipt.provider_id, receipt.status) == ("SM-ours", "delivered")
    assert client.messages.queries[0]["to"] == MOBILE


async def test_sms_lookup_matches_through_smart_encoding(client, clock):
    """Twilio may have replaced typographic characters: the match folds both texts."""
    message = _message(ChannelName.SMS, body="« Évacuez » l’école")
    client.messages.records = [_record("SM-1", '" Évacuez " l\'école', NOW)]
    receipt = await _sms(client, clock).lookup(message)
    assert receipt is not None and receipt.provider_id == "SM-1"


async def test_sms_lookup_none_when_list_succeeds_without_match(client, clock):
    """Nothing recent with that text: certainly not sent."""
    message = _message(ChannelName.SMS)
    client.messages.records = [
        _record("SM-old", message.body, NOW - timedelta(days=3)),
        _record("SM-in", message.body, NOW, direction="inbound"),
    ]
    assert await _sms(client, clock).lookup(message) is None


async def test_sms_lookup_skips_a_message_issued_for_another_key(client, clock):
    """The same text sent for another outbox row is not this row's message."""
    channel = _sms(client, clock)
    other = _message(ChannelName.SMS, idempotency_key="crise-1/autre/c-17/sms")
    sent = await channel.send(other)
    client.messages.records = [_record(sent.provider_id, other.body, NOW)]
    assert await channel.lookup(_message(ChannelName.SMS)) is None
    assert (await channel.lookup(other)) is not None


async def test_sms_lookup_failure_is_ambiguous(client, clock):
    """When Twilio cannot be asked, the row stays unknown (never None, never resent)."""
    client.messages.list_error = aiohttp.SocketTimeoutError("Timeout on reading data from socket")
    with pytest.raises(DeliveryFailed) as failure:
        await _sms(client, clock).lookup(_message(ChannelName.SMS))
    assert failure.value.ambiguous and not failure.value.retryable
    assert "vérification auprès de Twilio impossible" in failure.value.public_reason


# --- voice -------------------------------------------------------------------------------------


async def test_voice_send_places_a_call_that_fetches_twiml_from_our_webhook(client, clock):
    """Calls.create with the prefecture's number, the TwiML URL and status callback carrying
    the key, answering-machine detection until the beep, and a 30 s ring time."""
    message = _message(ChannelName.VOICE)
    receipt = await _voice(client, clock).send(message)
    assert receipt.provider_id == "CA" + f"{1:032x}"
    key = "crise-1%2Falerte%20maires%2Fc-17%2Fvoice"
    assert client.calls.created == [
        {
            "to": MOBILE,
            "from_": "+33199000001",
            "url": f"{BASE}/webhooks/twilio/voice?k={key}",
            "method": "POST",
            "status_callback": f"{BASE}/webhooks/twilio/status?k={key}",
            "status_callback_method": "POST",
            "machine_detection": "DetectMessageEnd",
            "timeout": 30,
        }
    ]
    assert client.calls.threads == [threading.get_ident()]


async def test_stale_call_is_not_placed(client, clock):
    """A call whose message is no longer true is not placed."""
    with pytest.raises(DeliveryFailed, match="message périmé"):
        await _voice(client, clock).send(_message(ChannelName.VOICE, valid_until=NOW))
    assert client.calls.created == []


async def test_voice_lookup_finds_a_recent_call_to_the_number(client, clock):
    """An outbound call to the number from our number within the window is found."""
    client.calls.records = [
        SimpleNamespace(
            sid="CA-1", direction="outbound-api", date_created=NOW - timedelta(minutes=3)
        )
    ]
    receipt = await _voice(client, clock).lookup(_message(ChannelName.VOICE))
    assert receipt is not None and receipt.provider_id == "CA-1"
    assert client.calls.queries[0]["to"] == MOBILE
    assert client.calls.queries[0]["from_"] == "+33199000001"


async def test_voice_lookup_ignores_old_calls_and_other_keys_calls(client, clock):
    """A call older than the window, or issued by us for another message, is not this one."""
    channel = _voice(client, clock)
    other = await channel.send(_message(ChannelName.VOICE, idempotency_key="autre"))
    client.calls.records = [
        SimpleNamespace(sid=other.provider_id, direction="outbound-api", date_created=NOW),
        SimpleNamespace(
            sid="CA-old", direction="outbound-api", date_created=NOW - timedelta(hours=2)
        ),
    ]
    assert await channel.lookup(_message(ChannelName.VOICE)) is None


async def test_voice_lookup_failure_is_ambiguous(client, clock):
    """A look-up refused by Twilio leaves the call unknown."""
    client.calls.list_error = _rest(500)
    with pytest.raises(DeliveryFailed) as failure:
        await _voice(client, clock).lookup(_message(ChannelName.VOICE))
    assert failure.value.ambiguous


def test_channels_need_their_settings(client, clock):
    """No caller id, no sender, no public URL: the channel cannot be built (French, named)."""
    creds = TwilioCredentials.from_env(ENV)
    with pytest.raises(ChannelConfigError, match=r"twilio\.voice_from"):
        TwilioVoiceChannel(_settings(voice_from=None), creds, clock, client_factory=FakeClient)
    with pytest.raises(ChannelConfigError, match="sms_sender ou messaging_service_sid"):
        TwilioSmsChannel(_settings(sms_sender=None), creds, clock, client_factory=FakeClient)
    with pytest.raises(ChannelConfigError, match=r"twilio\.public_base_url"):
        TwilioSmsChannel(_settings(public_base_url=None), creds, clock, client_factory=FakeClient)


# --- settings and credentials ------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["PREF42", "Prefecture", "SIDPC 42", "A"])
def test_valid_alphanumeric_senders(sender):
    """1 to 11 ASCII letters, digits or spaces, with at least one letter."""
    assert _settings(sms_sender=sender).sms_sender == sender


@pytest.mark.parametrize("sender", ["", "123456", "PREFECTURE42", "Préf42", " PREF", "PREF!"])
def test_invalid_alphanumeric_senders(sender):
    """Digits only, more than 11 characters, accents or punctuation are refused."""
    with pytest.raises(pydantic.ValidationError, match=r"twilio\.sms_sender"):
        _settings(sms_sender=sender)


def test_sender_and_service_are_exclusive():
    """One way to send SMS, not two."""
    with pytest.raises(pydantic.ValidationError, match="pas les deux"):
        _settings(messaging_service_sid=SERVICE)


@pytest.mark.parametrize(
    "number", ["0199000001", "+33 1 99 00 00 01", "+3319900000", "33199000001"]
)
def test_voice_from_must_be_e164(number):
    """The caller id is an E.164 number."""
    with pytest.raises(pydantic.ValidationError, match=r"twilio\.voice_from"):
        _settings(voice_from=number)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://crise.example.fr/", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://crise.example.fr", False),
        ("ftp://crise.example.fr", False),
        ("https://crise.example.fr/?a=1", False),
    ],
)
def test_base_urls_are_https_except_on_loopback(url, ok):
    """Twilio must reach us over https; http is for local tests only."""
    if ok:
        assert not _settings(public_base_url=url).public_base_url.endswith("/")
        assert TwilioSettings(api_base_url=url).api_base_url == url.rstrip("/")
    else:
        with pytest.raises(pydantic.ValidationError, match="public_base_url"):
            _settings(public_base_url=url)


def test_unknown_settings_are_refused():
    """A typo in [twilio] is an error, not a silent default."""
    with pytest.raises(pydantic.ValidationError):
        TwilioSettings(voice_form="+33199000001")


def test_credentials_from_env_with_auth_token():
    """Account SID and auth token; repr hides the token."""
    creds = TwilioCredentials.from_env(ENV)
    assert creds.basic_auth() == (ACCOUNT, TOKEN)
    assert creds.webhook_token == TOKEN
    assert TOKEN not in repr(creds)


def test_credentials_from_env_with_api_key():
    """An API key pair authenticates the REST calls; its secret stays out of repr."""
    key = "SK" + "c" * 32
    creds = TwilioCredentials.from_env(
        {ENV_ACCOUNT_SID: ACCOUNT, ENV_API_KEY_SID: key, ENV_API_KEY_SECRET: "key-secret"}
    )
    assert creds.basic_auth() == (key, "key-secret")
    assert creds.webhook_token is None
    assert "key-secret" not in repr(creds)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, ENV_ACCOUNT_SID),
        ({ENV_ACCOUNT_SID: "AC123", ENV_AUTH_TOKEN: TOKEN}, ENV_ACCOUNT_SID),
        ({ENV_ACCOUNT_SID: ACCOUNT}, ENV_AUTH_TOKEN),
        ({ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "  "}, ENV_AUTH_TOKEN),
        ({ENV_ACCOUNT_SID: ACCOUNT, ENV_API_KEY_SID: "SK" + "c" * 32}, ENV_API_KEY_SECRET),
        (
            {ENV_ACCOUNT_SID: ACCOUNT, ENV_API_KEY_SID: "x", ENV_API_KEY_SECRET: "s"},
            ENV_API_KEY_SID,
        ),
    ],
)
def test_missing_or_malformed_credentials_name_the_variable(env, named):
    """The error names the environment variable and never shows a secret."""
    with pytest.raises(ChannelConfigError) as error:
        TwilioCredentials.from_env(env)
    assert named in str(error.value)
    assert TOKEN not in str(error.value)


def test_client_has_a_timeout_and_the_configured_api_host():
    """The SDK's async client times out (connect and read, on every request: the SDK passes
    no timeout of its own), never retries by itself, and sends Messages and Calls to
    api_base_url."""
    settings = _settings(api_base_url="http://127.0.0.1:4010", timeout_s=3.5)
    client = make_client(settings, TwilioCredentials.from_env(ENV))
    assert isinstance(client.http_client, AsyncTwilioHttpClient)
    assert client.http_client.is_async
    assert client.http_client.timeout == 3.5
    session = client.http_client.session
    assert isinstance(session, LoopSession)  # no aiohttp_retry RetryClient
    assert (session.timeout.sock_connect, session.timeout.sock_read) == (3.5, 3.5)
    assert session.timeout.total is None
    assert client.edge is None and client.region is None
    for resource in (client.messages, client.calls):
        assert resource._version.domain.absolute_url("x") == "http://127.0.0.1:4010/x"


def test_connection_pool_is_never_smaller_than_the_channel_concurrency():
    """The pool holds the channel's concurrency (aiohttp's 100 at least), whatever the cores."""
    settings = _settings()
    credentials = TwilioCredentials.from_env(ENV)
    for wanted, pool in ((10, DEFAULT_CONNECTIONS), (DEFAULT_CONNECTIONS, 100), (1500, 1500)):
        client = make_client(settings, credentials, connections=wanted)
        assert client.http_client.session.connections == pool


# --- configuration check -----------------------------------------------------------------------


def test_check_of_a_complete_configuration_is_clean():
    """Credentials, caller id, messaging service and a public https URL: nothing to report."""
    settings = _settings(sms_sender=None, messaging_service_sid=SERVICE)
    assert check_twilio(settings, ENV, uses_voice=True, uses_sms=True) == []


def test_check_reports_what_is_missing_in_french():
    """Missing credentials, caller id, sender and public URL are each reported."""
    settings = TwilioSettings()
    problems = check_twilio(settings, {}, uses_voice=True, uses_sms=True)
    text = "\n".join(problems)
    assert ENV_ACCOUNT_SID in text
    assert "twilio.voice_from manquant" in text
    assert "ni sms_sender" in text
    assert "twilio.public_base_url manquant" in text
    assert len(problems) == 4


def test_check_warns_that_loopback_urls_are_unreachable_from_twilio():
    """A 127.0.0.1 public URL works for tests only: Twilio cannot call it back."""
    settings = _settings(
        public_base_url="http://127.0.0.1:8000", api_base_url="http://127.0.0.1:4010"
    )
    problems = check_twilio(settings, ENV, uses_voice=True, uses_sms=False)
    assert any(
        p.startswith(ADVICE) and "n'est joignable que depuis cette machine" in p for p in problems
    )
    assert any(p.startswith(ADVICE) and "simulateur local" in p for p in problems)


def test_check_says_an_alphanumeric_sender_cannot_collect_replies():
    """With an alphanumeric sender, SMS acknowledgements are impossible: said at check time."""
    problems = check_twilio(_settings(), ENV, uses_voice=False, uses_sms=True)
    assert problems == [
        f"{ADVICE}twilio.sms_sender (PREF42) : un expéditeur alphanumérique ne peut pas recevoir "
        "de réponse ; les SMS ne demanderont pas « Répondez 1 » (utiliser messaging_service_sid "
        "avec un numéro pour recueillir les accusés)"
    ]


def test_check_needs_the_auth_token_for_webhooks():
    """With an API key only, Twilio's signed callbacks cannot be verified."""
    env = {ENV_ACCOUNT_SID: ACCOUNT, ENV_API_KEY_SID: "SK" + "c" * 32, ENV_API_KEY_SECRET: "s"}
    problems = check_twilio(_settings(), env, uses_voice=True, uses_sms=False)
    assert any(ENV_AUTH_TOKEN in p and "authentifiés" in p for p in problems)


def test_check_of_unused_twilio_is_empty():
    """No voice or SMS step: nothing to check."""
    assert check_twilio(TwilioSettings(), {}, uses_voice=False, uses_sms=False) == []

"""The Twilio channels against Prism serving Twilio's official OpenAPI spec (trimmed copy in
specs/twilio_api_v2010.json, MIT): the requests we build are the ones the spec accepts, and
the answers it documents are read correctly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.base import ChannelName, DeliveryFailed, OutgoingMessage, Recipient
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
    make_client,
)
from channels.twilio_sms import TwilioSmsChannel
from channels.twilio_voice import TwilioVoiceChannel
from crisis.clock import FakeClock
from tests.contracts.prism import SPECS, prism_mock

SPEC = SPECS / "twilio_api_v2010.json"
ACCOUNT = "AC" + "a" * 32  # Prism checks ^AC[0-9a-fA-F]{32}$
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "prism-token"}
# The spec's examples: create answers, and the first page of the list answers
EXAMPLE_SMS_SID = "SM" + "a" * 32
EXAMPLE_CALL_SID = "CA" + "a" * 32
LISTED_SMS_SID = "SMded05904ccb347238880ca9264e8fe1c"  # body "testing", created 24/05/2019 17:44
LISTED_CALL_AT = datetime(2019, 10, 18, 17, 5, tzinfo=UTC)  # the listed call: 18/10/2019 17:00
NOW = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    """One Prism for the whole session, on a free loopback port."""
    with prism_mock(SPEC) as url:
        yield url


def _settings(prism_url: str, **overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "api_base_url": prism_url,
        "public_base_url": "https://crise.example.fr",
        "voice_from": "+33199000001",
        "sms_sender": "PREF42",
        "timeout_s": 10,
    }
    values.update(overrides)
    return TwilioSettings(**values)


def _message(
    channel: ChannelName, body: str = "Crue de la Loire : évacuez les berges."
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"crise-1/alerte/c-17/{channel.value}",
        channel=channel,
        recipient=Recipient(contact_id="c-17", address="+33639980001"),
        body=body,
        ask_acknowledgement=True,
    )


class _Unauthenticated:
    """A client factory whose client sends no credentials at all."""

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings

    def __call__(self) -> Any:
        client = make_client(self.settings, TwilioCredentials.from_env(ENV))
        client.username = client.password = None
        return client


class _CallsWithoutFrom:
    """A client whose Calls.create drops From, to see how a spec violation comes back."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = self
        self.messages = client.messages
        self.http_client = client.http_client

    async def create_async(self, **params: Any) -> Any:
        params.pop("from_")
        return await self._client.calls.create_async(from_=None, **params)


async def test_sms_with_alphanumeric_sender_is_accepted(prism_url):
    """Messages.create with From=sender: the spec's 201 answer gives the message sid."""
    channel = TwilioSmsChannel(
        _settings(prism_url), TwilioCredentials.from_env(ENV), FakeClock(NOW)
    )
    receipt = await channel.send(_message(ChannelName.SMS))
    assert receipt.provider_id == EXAMPLE_SMS_SID
    assert receipt.status == "sent"


async def test_sms_through_messaging_service_is_accepted(prism_url):
    """Messages.create with MessagingServiceSid (and the reply prompt) passes the spec."""
    settings = _settings(prism_url, sms_sender=None, messaging_service_sid="MG" + "b" * 32)
    channel = TwilioSmsChannel(settings, TwilioCredentials.from_env(ENV), FakeClock(NOW))
    receipt = await channel.send(_message(ChannelName.SMS))
    assert receipt.provider_id == EXAMPLE_SMS_SID


async def test_sms_with_validity_period_is_accepted(prism_url):
    """ValidityPeriod is an integer the spec accepts."""
    channel = TwilioSmsChannel(
        _settings(prism_url), TwilioCredentials.from_env(ENV), FakeClock(NOW)
    )
    message = _message(ChannelName.SMS).model_copy(
        update={"valid_until": datetime(2026, 11, 23, 3, 0, tzinfo=UTC)}
    )
    assert (await channel.send(message)).provider_id == EXAMPLE_SMS_SID


async def test_voice_call_is_accepted(prism_url):
    """Calls.create with To, From, Url, StatusCallback, MachineDetection and Timeout passes."""
    channel = TwilioVoiceChannel(
        _settings(prism_url), TwilioCredentials.from_env(ENV), FakeClock(NOW)
    )
    receipt = await channel.send(_message(ChannelName.VOICE))
    assert receipt.provider_id == EXAMPLE_CALL_SID


async def test_missing_credentials_are_a_final_account_refusal(prism_url):
    """The spec answers 401 without credentials: not retryable, the agent calls by hand."""
    settings = _settings(prism_url)
    channel = TwilioVoiceChannel(
        settings,
        TwilioCredentials.from_env(ENV),
        FakeClock(NOW),
        client_factory=_Unauthenticated(settings),
    )
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message(ChannelName.VOICE))
    assert not failure.value.retryable and not failure.value.ambiguous
    assert failure.value.public_reason.startswith("compte Twilio refusé")
    assert failure.value.public_reason.endswith("appeler à la main")


async def test_call_without_from_is_refused_by_the_spec_and_mapped(prism_url):
    """A Call without From breaks the spec (4xx): a final refusal for the administrator."""
    settings = _settings(prism_url)
    creds = TwilioCredentials.from_env(ENV)
    channel = TwilioVoiceChannel(
        settings,
        creds,
        FakeClock(NOW),
        client_factory=lambda: _CallsWithoutFrom(make_client(settings, creds)),
    )
    with pytest.raises(DeliveryFailed) as failure:
        await channel.send(_message(ChannelName.VOICE))
    assert not failure.value.retryable and not failure.value.ambiguous
    assert "requête refusée par Twilio" in failure.value.public_reason
    assert "prévenir l'administrateur" in failure.value.public_reason


async def test_sms_lookup_reads_the_list_endpoint(prism_url):
    """Messages list: the documented message with our text and recent enough is found;
    another text is certainly not sent (None)."""
    clock = FakeClock(datetime(2019, 5, 24, 18, 0, tzinfo=UTC))
    channel = TwilioSmsChannel(_settings(prism_url), TwilioCredentials.from_env(ENV), clock)
    found = await channel.lookup(_message(ChannelName.SMS, body="testing"))
    assert found is not None and found.provider_id == LISTED_SMS_SID
    assert await channel.lookup(_message(ChannelName.SMS, body="autre texte")) is None


async def test_voice_lookup_reads_the_list_endpoint(prism_url):
    """Calls list: the documented call is found within the window, not years later."""
    creds = TwilioCredentials.from_env(ENV)
    recent = TwilioVoiceChannel(_settings(prism_url), creds, FakeClock(LISTED_CALL_AT))
    found = await recent.lookup(_message(ChannelName.VOICE))
    assert found is not None and found.provider_id == EXAMPLE_CALL_SID
    later = TwilioVoiceChannel(_settings(prism_url), creds, FakeClock(NOW))
    assert await later.lookup(_message(ChannelName.VOICE)) is None


async def test_lookup_without_credentials_stays_unknown(prism_url):
    """A refused list call does not mean "not sent": the look-up is ambiguous."""
    settings = _settings(prism_url)
    channel = TwilioSmsChannel(
        settings,
        TwilioCredentials.from_env(ENV),
        FakeClock(NOW),
        client_factory=_Unauthenticated(settings),
    )
    with pytest.raises(DeliveryFailed) as failure:
        await channel.lookup(_message(ChannelName.SMS))
    assert failure.value.ambiguous


def test_trimmed_spec_keeps_the_used_operations_and_resolves_every_ref():
    """The committed spec holds Messages, Calls and IncomingPhoneNumbers, and no dangling $ref."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    account = "/2010-04-01/Accounts/{AccountSid}"
    assert {"post", "get"} <= set(spec["paths"][f"{account}/Messages.json"])
    assert {"post", "get"} <= set(spec["paths"][f"{account}/Calls.json"])
    assert "get" in spec["paths"][f"{account}/IncomingPhoneNumbers.json"]
    assert "post" in spec["paths"][f"{account}/IncomingPhoneNumbers/{{Sid}}.json"]

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref
    assert (SPECS / "twilio_api_v2010.LICENSE").read_text(encoding="utf-8").startswith("MIT")

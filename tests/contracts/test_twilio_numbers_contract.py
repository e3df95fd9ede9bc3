"""The numéro unique's reading and changes against Prism serving Twilio's official OpenAPI spec
(trimmed copy in specs/twilio_api_v2010.json, MIT): ListIncomingPhoneNumber and
UpdateIncomingPhoneNumber requests are the ones the spec accepts (Prism answers 422 otherwise),
and the documented answer is read correctly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
    make_client,
)
from channels.twilio_numbers import NumberConfig, NumberConfigError, TwilioNumbers
from tests.contracts.prism import SPECS, prism_mock

SPEC = SPECS / "twilio_api_v2010.json"
ACCOUNT = "AC" + "a" * 32  # Prism checks ^AC[0-9a-fA-F]{32}$
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "prism-token"}
LIST_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json"
EXAMPLE_SID = "PN" + "a" * 32
CIP_URL = "https://crise.example.fr/webhooks/twilio/cip/voice"


def _documented_number() -> str:
    """The number in the spec's list example: the only one Prism's answer contains (read from
    the spec rather than written here; it is never called)."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    listing = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"]
    examples = listing["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    return str(examples["readFull"]["value"]["incoming_phone_numbers"][0]["phone_number"])


DOCUMENTED = _documented_number()


class _Recorder:
    """Wraps the SDK's HTTP client: every request and Prism's status, for assertions."""

    def __init__(self, inner: Any, corrupt: dict[str, str] | None = None) -> None:
        self._inner = inner
        self._corrupt = corrupt or {}
        self.seen: list[tuple[str, str, dict[str, Any], dict[str, Any], int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        data = dict(kwargs.get("data") or {})
        if method == "POST" and self._corrupt:
            data.update(self._corrupt)
            kwargs["data"] = data
        response = await self._inner.request(method, url, **kwargs)
        params = dict(kwargs.get("params") or {})
        self.seen.append((method, urlsplit(url).path, params, data, response.status_code))
        return response


@pytest.fixture(scope="module")
def prism_url() -> Iterator[str]:
    """One Prism for this module, on a free loopback port."""
    with prism_mock(SPEC) as url:
        yield url


def _numbers(
    prism_url: str, *, corrupt: dict[str, str] | None = None, anonymous: bool = False
) -> tuple[TwilioNumbers, _Recorder]:
    settings = TwilioSettings(api_base_url=prism_url, timeout_s=10)
    client = make_client(settings, TwilioCredentials.from_env(ENV))
    if anonymous:
        client.username = client.password = None
    recorder = _Recorder(client.http_client, corrupt)
    client.http_client = recorder
    numbers = TwilioNumbers(
        settings, TwilioCredentials.from_env(ENV), client_factory=lambda: client
    )
    return numbers, recorder


async def test_current_lists_by_phone_number_and_reads_the_documented_config(prism_url):
    """ListIncomingPhoneNumber filtered on PhoneNumber; the example's routing is read (empty
    values as None, methods kept)."""
    numbers, recorder = _numbers(prism_url)
    config = await numbers.current(DOCUMENTED)
    assert config.sid == EXAMPLE_SID
    assert config.voice_url is None and config.voice_method == "POST"
    assert config.status_callback is None and config.voice_application_sid is None
    assert config.trunk_sid is None
    [(method, path, params, _, status)] = recorder.seen
    assert (method, path, status) == ("GET", LIST_PATH, 200)
    assert params["PhoneNumber"] == DOCUMENTED


async def test_a_number_missing_from_the_answer_is_not_owned(prism_url):
    """The answer lists another number only: the prefecture does not own this one."""
    numbers, _ = _numbers(prism_url)
    with pytest.raises(NumberConfigError) as failure:
        await numbers.current("+33199000042")
    assert not failure.value.retryable
    assert "le numéro unique n'appartient pas" in failure.value.public_reason


async def test_point_to_sends_an_update_the_spec_accepts(prism_url):
    """UpdateIncomingPhoneNumber with VoiceUrl, VoiceMethod, fallback and StatusCallback: 200
    from Prism, and the configuration read before is returned."""
    numbers, recorder = _numbers(prism_url)
    previous = await numbers.point_to(
        DOCUMENTED,
        CIP_URL,
        fallback_url="https://crise.example.fr/static/cip-secours.xml",
        status_callback=f"{CIP_URL}/status",
    )
    assert previous.sid == EXAMPLE_SID and previous.voice_url is None
    method, path, _, form, status = recorder.seen[-1]
    assert (method, path, status) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{EXAMPLE_SID}.json",
        200,
    )
    assert form["VoiceUrl"] == CIP_URL and form["VoiceMethod"] == "POST"
    assert form["VoiceFallbackUrl"].endswith("cip-secours.xml")
    assert form["StatusCallback"] == f"{CIP_URL}/status"


async def test_restore_sends_the_previous_routing_in_an_update_the_spec_accepts(prism_url):
    """Closing puts back a switchboard URL (GET), its fallback and a TwiML App: 200 from Prism."""
    numbers, recorder = _numbers(prism_url)
    previous = NumberConfig(
        sid=EXAMPLE_SID,
        phone_number=DOCUMENTED,
        voice_url="https://standard.example.fr/accueil",
        voice_method="GET",
        voice_fallback_url="https://standard.example.fr/secours",
        voice_fallback_method="POST",
        voice_application_sid="AP" + "d" * 32,
    )
    assert await numbers.restore(previous) is True
    method, _, _, form, status = recorder.seen[-1]
    assert (method, status) == ("POST", 200)
    assert form == {
        "VoiceUrl": "https://standard.example.fr/accueil",
        "VoiceMethod": "GET",
        "VoiceFallbackUrl": "https://standard.example.fr/secours",
        "VoiceApplicationSid": "AP" + "d" * 32,
    }


async def test_an_update_breaking_the_spec_is_refused_and_mapped(prism_url):
    """A method outside GET/POST breaks the spec: Prism's 4xx is a final refusal for the
    administrator (so the accepted updates above were really checked)."""
    numbers, recorder = _numbers(prism_url, corrupt={"VoiceMethod": "PUT"})
    with pytest.raises(NumberConfigError) as failure:
        await numbers.point_to(DOCUMENTED, CIP_URL)
    assert 400 <= recorder.seen[-1][4] < 500
    assert not failure.value.retryable and not failure.value.ambiguous
    assert "requête refusée par Twilio" in failure.value.public_reason
    assert failure.value.previous is not None and failure.value.previous.sid == EXAMPLE_SID


async def test_missing_credentials_are_a_final_account_refusal(prism_url):
    """The spec answers 401 without credentials: not retryable, set the number by hand."""
    numbers, _ = _numbers(prism_url, anonymous=True)
    with pytest.raises(NumberConfigError) as failure:
        await numbers.current(DOCUMENTED)
    assert not failure.value.retryable and not failure.value.ambiguous
    assert "compte Twilio refusé" in failure.value.public_reason
    assert failure.value.public_reason.endswith("à la main dans la console Twilio")


def test_the_filter_is_sent_as_the_spec_names_it():
    """The query parameter the spec documents for the filter is PhoneNumber."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    listing = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"]
    names = {p["name"] for p in listing["get"]["parameters"]}
    assert {"PhoneNumber", "PageSize"} <= names

"""The switchboard's announcement against Prism serving Twilio's official OpenAPI spec: sending
reads the number (ListIncomingPhoneNumber) and points it at /webhooks/twilio/standard
(UpdateIncomingPhoneNumber) with requests the spec accepts; withdrawing sends the restore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from channels.base import ChannelName, OutgoingMessage, Recipient
from channels.switchboard import STANDARD_PATH, SwitchboardChannel, SwitchboardSettings
from channels.twilio_common import (
    ENV_ACCOUNT_SID,
    ENV_AUTH_TOKEN,
    TwilioCredentials,
    TwilioSettings,
    make_client,
)
from channels.twilio_numbers import TwilioNumbers
from tests.contracts.prism import SPECS, prism_mock

SPEC = SPECS / "twilio_api_v2010.json"
ACCOUNT = "AC" + "a" * 32
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: "prism-token"}
EXAMPLE_SID = "PN" + "a" * 32
BASE = "https://crise.example.fr"
UPDATE_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{EXAMPLE_SID}.json"


def _documented_number() -> str:
    """The number of the spec's list example (the only one Prism answers; never called)."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    listing = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"]
    examples = listing["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    return str(examples["readFull"]["value"]["incoming_phone_numbers"][0]["phone_number"])


class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 23, 1, 10, tzinfo=UTC)

    async def sleep(self, seconds: float) -> None:
        return None


class _Recorder:
    """Wraps the SDK's HTTP client: every request and Prism's status."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.seen: list[tuple[str, str, dict[str, Any], int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._inner.request(method, url, **kwargs)
        data = dict(kwargs.get("data") or {})
        self.seen.append((method, urlsplit(url).path, data, response.status_code))
        return response


@pytest.fixture(scope="module")
def prism_url() -> Iterator[str]:
    with prism_mock(SPEC) as url:
        yield url


async def test_send_and_withdraw_send_requests_the_spec_accepts(prism_url, tmp_path):
    """List then Update (VoiceUrl = the standard route, POST): 200; withdraw restores: 200."""
    settings = TwilioSettings(api_base_url=prism_url, timeout_s=10)
    client = make_client(settings, TwilioCredentials.from_env(ENV))
    recorder = _Recorder(client.http_client)
    client.http_client = recorder
    numbers = TwilioNumbers(
        settings, TwilioCredentials.from_env(ENV), client_factory=lambda: client
    )
    switchboard = SwitchboardSettings(number=_documented_number(), state_dir=tmp_path)
    channel = SwitchboardChannel(switchboard, numbers, BASE, _Clock())
    message = OutgoingMessage(
        idempotency_key="k1",
        channel=ChannelName.STANDARD,
        recipient=Recipient(contact_id="standard", address="standard"),
        body="La préfecture ouvre le numéro unique de la cellule d'information du public.",
        crisis_id="20261123-0210-inondation",
    )
    receipt = await channel.send(message)
    assert receipt.provider_id.startswith(EXAMPLE_SID + ":")
    assert all(200 <= status < 300 for *_, status in recorder.seen), recorder.seen
    updates = [(data, status) for method, path, data, status in recorder.seen if method == "POST"]
    [(form, _)] = updates
    assert form["VoiceUrl"] == BASE + STANDARD_PATH and form["VoiceMethod"] == "POST"
    assert [path for method, path, _, _ in recorder.seen if method == "POST"] == [UPDATE_PATH]

    # Prism keeps no state: its answer still shows the documented routing, the one stored
    # before the change, so the restore reads the number (accepted) and has nothing to write.
    seen = len(recorder.seen)
    assert await channel.withdraw("20261123-0210-inondation") is False
    [(method, _, _, status)] = recorder.seen[seen:]
    assert (method, status) == ("GET", 200)
    assert channel.current_announcement() is None
    state = json.loads((tmp_path / "standard.json").read_text(encoding="utf-8"))
    assert state["previous"] is None and state["announcements"] == {}

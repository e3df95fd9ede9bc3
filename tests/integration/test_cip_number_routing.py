"""The numéro unique follows the préfet's orders through the real composition root and the
project's fake Twilio: pointed at the CIP line (with the status callback that fills the CIP
figures) at T0 CIP, restored exactly when the CIP closes or when the event closes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from channels.base import ChannelName
from channels.twilio_common import ENV_ACCOUNT_SID, ENV_AUTH_TOKEN
from crisis.bootstrap import App, build
from crisis.model import Actor, Authority, Interface, Mode, NoteAdded, WarningRaised
from crisis.settings import Settings
from tests.fakes.twilio_fake import FakeNumber, FakeTwilio, Fault
from tests.integration.helpers import activate, journal

ACCOUNT = "AC" + "d" * 32
TOKEN = "fake-token-cip"
ENV = {ENV_ACCOUNT_SID: ACCOUNT, ENV_AUTH_TOKEN: TOKEN}
NUMBER = "+33465714242"  # ARCEP fiction block 04 65 71
BASE = "https://crise.example.fr"
SWITCHBOARD = "https://standard.example.fr/accueil"
PREFET = Actor(name="Préfet de la Loire", interface=Interface.CLI)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    twilio = FakeTwilio(ACCOUNT, TOKEN, now=lambda: datetime(2026, 11, 23, 1, 10, tzinfo=UTC))
    with twilio.running():
        yield twilio


@pytest.fixture
def number(fake: FakeTwilio) -> FakeNumber:
    return fake.add_number(NUMBER, voice_url=SWITCHBOARD, voice_method="GET")


@pytest.fixture
def routed(settings: Settings, clock, fake: FakeTwilio) -> Iterator[App]:
    channels = dict(settings.channels)
    channels[ChannelName.VOICE] = channels[ChannelName.VOICE].model_copy(
        update={"provider": "twilio"}
    )
    custom = settings.model_copy(
        update={
            "channels": channels,
            "sections": {
                "twilio": {
                    "api_base_url": fake.base_url,
                    "public_base_url": BASE,
                    "voice_from": "+33465710000",
                    "timeout_s": 5,
                },
            },
            "cip": {"number": NUMBER},
        }
    )
    application = build(custom, clock=clock, env=ENV)
    yield application
    application.close()


def _texts(app: App, crisis_id: str, kind: type) -> list[str]:
    return [e.text for e in journal(app, crisis_id) if isinstance(e.fact, kind)]


def test_order_points_the_number_and_closing_the_cip_restores_it(routed: App, number, clock):
    crisis = activate(routed, clock.now()).crisis
    routed.orchestrator.activate_cip(crisis.id, NUMBER, PREFET, authority=Authority.PREFET)
    assert number.voice_url == f"{BASE}/webhooks/twilio/cip/voice"
    assert number.voice_method == "POST"
    assert number.status_callback == f"{BASE}/webhooks/twilio/cip/status"
    assert any("renvoyé vers la file d'attente" in t for t in _texts(routed, crisis.id, NoteAdded))
    with routed.store.transaction() as tx:
        assert tx.cip_previous(crisis.id) is not None

    routed.orchestrator.close_cip(crisis.id, PREFET, authority=Authority.PREFET)
    assert (number.voice_url, number.voice_method) == (SWITCHBOARD, "GET")
    with routed.store.transaction() as tx:
        assert tx.cip_previous(crisis.id) is None
    assert any("configuration habituelle" in t for t in _texts(routed, crisis.id, NoteAdded))


def test_closing_the_event_with_the_cip_open_restores_the_number(routed: App, number, clock):
    crisis = activate(routed, clock.now()).crisis
    routed.orchestrator.activate_cip(crisis.id, NUMBER, PREFET, authority=Authority.PREFET)
    routed.orchestrator.close(crisis.id, PREFET, "fin")
    assert (number.voice_url, number.voice_method) == (SWITCHBOARD, "GET")


def test_a_twilio_refusal_is_journaled_and_the_order_stands(routed: App, number, fake, clock):
    """The order is the préfet's: a failed change of the number is a warning to act on by
    hand, never a refused order."""
    crisis = activate(routed, clock.now()).crisis
    fake.script("numbers.update", Fault(status=401, accept=False))
    routed.orchestrator.activate_cip(crisis.id, NUMBER, PREFET, authority=Authority.PREFET)
    warnings = _texts(routed, crisis.id, WarningRaised)
    assert any(w.startswith("Alerte : Numéro unique") for w in warnings), warnings
    assert NUMBER not in " ".join(warnings)
    with routed.store.transaction() as tx:
        assert tx.crisis(crisis.id).cip_number == NUMBER
    assert number.voice_url == SWITCHBOARD


def test_an_exercise_never_moves_the_real_numero_unique(routed: App, number, clock):
    """Even when a scenario names the prefecture's real number, the exercise's CIP order leaves
    it alone: exercises use their own number and simulated callers."""
    exercise = activate(routed, clock.now(), mode=Mode.EXERCICE, synergi_ref="EX-1").crisis
    routed.orchestrator.activate_cip(exercise.id, NUMBER, PREFET, authority=Authority.PREFET)
    assert (number.voice_url, number.voice_method) == (SWITCHBOARD, "GET")
    with routed.store.transaction() as tx:
        assert tx.cip_previous(exercise.id) is None

"""An exercise never reaches anybody outside its participants, whatever the configuration says:
real providers (a real SMTP relay, the website and its CAP feed) get the participants' framed
messages only; everybody else stays in the exercise simulator. A real event on the same
orchestrator is not framed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.base import ChannelName
from channels.cap import validate_cap
from channels.exercise import FRAME
from crisis.activation import ActivationError
from crisis.bootstrap import App, build
from crisis.model import ExerciseAllowList, Mode, SendMessage, StepStatus
from crisis.settings import ExerciseSettings, Settings
from playbooks.model import Engagement
from tests.integration.helpers import DIRCAB, activate, advance, journal
from tests.integration.test_email_smtp import (  # noqa: F401 (the certificate fixture)
    PASSWORD,
    USERNAME,
    Relay,
    certificate,
    smtp_server,
)

EXERCISE_SITE = "exercice.loire.example.fr"
PARTICIPANT = "presse-1"
ENV = {"CRISIS_SMTP_USERNAME": USERNAME, "CRISIS_SMTP_PASSWORD": PASSWORD}


@pytest.fixture
def relay(certificate) -> Iterator[Relay]:  # noqa: F811
    with smtp_server(Relay(), certificate) as running:
        yield running


@pytest.fixture
def real_app(settings: Settings, clock, tmp_path: Path, relay: Relay, certificate) -> Iterator[App]:  # noqa: F811
    """E-mail through the real relay, the website provider, and real sends for exercises."""
    site = tmp_path / "site"
    site.mkdir()
    channels = dict(settings.channels)
    for name, provider in ((ChannelName.EMAIL, "smtp"), (ChannelName.WEBSITE, "website")):
        channels[name] = channels[name].model_copy(update={"provider": provider})
    custom = settings.model_copy(
        update={
            "channels": channels,
            "exercise": ExerciseSettings(real_sends=True),
            "sections": {
                "smtp": {
                    "host": "127.0.0.1",
                    "port": relay.port,
                    "from_address": "pref-communication@example.fr",
                    "ca_file": str(certificate[0]),
                    "timeout_s": 5,
                },
                "website": {
                    "output_dir": str(site),
                    "public_url": "https://www.loire.gouv.fr/alerte",
                    "cap_sender": "pref-loire@interieur.gouv.fr",
                },
            },
        }
    )
    application = build(custom, clock=clock, env=ENV)
    yield application
    application.close()


def _mails(relay: Relay) -> list[EmailMessage]:
    return [message_from_bytes(raw, policy=policy.default) for raw in relay.received]  # type: ignore[misc]


def _text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).strip()


def _address(app: App, crisis_id: str, contact_id: str) -> str:
    with app.store.transaction() as tx:
        contact = next(c for c in tx.crisis(crisis_id).roster if c.id == contact_id)
    assert contact.email is not None
    return contact.email


async def _run(app: App, clock, crisis_id: str, minutes: int) -> None:
    """Advance, approving every draft like the cabinet would."""
    for _ in range(minutes):
        await advance(app, clock, 1)
        with app.store.transaction() as tx:
            held = [s for s in tx.steps(crisis_id) if s.status == StepStatus.APPROVAL]
        for step in held:
            app.orchestrator.approve(crisis_id, step.step_id, DIRCAB)


async def test_exercise_reaches_participants_only_and_frames_everything(
    real_app: App, relay: Relay, clock, tmp_path: Path
):
    exercise = activate(
        real_app,
        clock.now(),
        mode=Mode.EXERCICE,
        synergi_ref="EXERCICE-42-1",
        participants=ExerciseAllowList(
            contacts=(PARTICIPANT,), public={ChannelName.WEBSITE: (EXERCISE_SITE,)}
        ),
    ).crisis
    await _run(real_app, clock, exercise.id, 20)

    # the real relay got mail for the participant only, framed at both ends
    participant = _address(real_app, exercise.id, PARTICIPANT)
    mails = _mails(relay)
    assert mails, "le participant reçoit de vrais courriels"
    assert {m["To"].addresses[0].addr_spec for m in mails} == {participant}
    for mail in mails:
        assert str(mail["Subject"]).startswith(FRAME) and str(mail["Subject"]).endswith(FRAME)
        body = _text(mail)
        assert body.startswith(FRAME) and body.endswith(FRAME)

    # everybody else: the exercise's simulator, framed too, never the relay
    log = tmp_path / "data" / "simulated" / "exercice-email.jsonl"
    simulated = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    others = {r["contact_id"] for r in simulated}
    assert others and PARTICIPANT not in others
    assert all(r["body"].startswith(FRAME) and r["body"].endswith(FRAME) for r in simulated)

    # the website published the exercise's alert on the real site: CAP status Exercise
    alerts = sorted((tmp_path / "site" / "cap").glob("*.xml"))
    assert alerts
    for alert in alerts:
        assert b"<status>Exercise</status>" in alert.read_bytes()
        assert validate_cap(alert.read_bytes()) == []

    # a real event on the same orchestrator goes to everybody, unframed
    before = len(relay.received)
    real = activate(real_app, clock.now(), synergi_ref="SYN-42-REEL").crisis
    await _run(real_app, clock, real.id, 8)
    fresh = _mails(relay)[before:]
    assert len({m["To"].addresses[0].addr_spec for m in fresh}) > 1
    assert not any(FRAME in _text(m) for m in fresh)
    assert journal(real_app, real.id)


async def test_exercise_message_to_an_outsider_never_reaches_the_provider(
    real_app: App, relay: Relay, clock
):
    """Even a message written straight into the outbox for an address nobody declared (a bug,
    a tampered row) stays in the simulator: the real relay never sees it."""
    exercise = activate(
        real_app,
        clock.now(),
        mode=Mode.EXERCICE,
        synergi_ref="EXERCICE-42-2",
        participants=ExerciseAllowList(contacts=(PARTICIPANT,)),
    ).crisis
    intruder = SendMessage(
        idempotency_key=f"{exercise.id}:intrus:email",
        crisis_id=exercise.id,
        step_id="alerte_vivier_presse",
        engagement=Engagement.E48_2,
        channel=ChannelName.EMAIL,
        contact_id="intrus",
        address="directeur@grand-media.example.org",
        subject="Test",
        body="Ceci ne doit jamais partir.",
        exercise=True,
    )
    with real_app.store.transaction() as tx:
        tx.enqueue([intruder], clock.now())
    await real_app.dispatcher.drain()
    assert not any(b"grand-media" in raw for raw in relay.received)
    with real_app.store.transaction() as tx:
        row = tx.outbox_by_key(intruder.idempotency_key)
    assert row is not None and row.provider_id is not None
    assert row.provider_id.startswith("SIM-")  # accepted by the exercise simulator only


async def test_participants_must_exist_and_only_exercises_have_them(real_app: App, clock):
    """An unknown participant, or participants on a real event, are refused in French."""
    with pytest.raises(ActivationError, match="participants inconnus"):
        activate(
            real_app,
            clock.now(),
            mode=Mode.EXERCICE,
            participants=ExerciseAllowList(contacts=("personne-42",)),
        )
    with pytest.raises(ActivationError, match="qu'un exercice"):
        activate(real_app, clock.now(), participants=ExerciseAllowList(contacts=(PARTICIPANT,)))

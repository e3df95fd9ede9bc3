"""Builders shared by the unit-of-work tests: a crisis, its steps and outbox messages, without
the service (the contract test speaks to the units of work directly)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from channels.base import ChannelName
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Directory
from crisis.engine import initial_due
from crisis.model import Actor, Crisis, Interface, Mode, SendMessage, StepState
from playbooks.loader import Library, load_library
from playbooks.model import Engagement, EventKind
from playbooks.planner import plan
from tests.conftest import T0

PARIS = ZoneInfo("Europe/Paris")
AGENT = Actor(name="Agent d'astreinte", interface=Interface.CLI)
CODES = ("42218", "42187", "42147")  # Saint-Étienne, Roanne, Montbrison


@cache
def library() -> Library:
    """The shipped playbooks, loaded once."""
    return load_library()


@cache
def directory() -> Directory:
    """The demo directory of the Loire on the day of T0, as the demo source builds it."""
    noon = datetime.combine(T0.astimezone(PARIS).date(), time(12), tzinfo=PARIS)
    return demo_directory(load_communes(), now=noon, tz=PARIS)


def crisis(
    crisis_id: str = "20261123-0210-inondation",
    *,
    key: str = "cle-1",
    t0: datetime = T0,
    kind: EventKind = EventKind.INONDATION,
    mode: Mode = Mode.REEL,
    synergi_ref: str = "SYN-42-0001",
) -> Crisis:
    """A crisis as the service would insert it (its plan frozen at `t0`)."""
    names = {c.code_insee: c.nom for c in directory().communes if c.code_insee in CODES}
    return Crisis(
        id=crisis_id,
        kind=kind,
        mode=mode,
        t0=t0,
        synergi_ref=synergi_ref,
        communes=CODES,
        commune_names=names,
        recorded_by=AGENT,
        recorded_at=t0,
        idempotency_key=key,
        plan=plan(library().playbooks[kind], library().templates, t0, source="test"),
        roster=directory().contacts[:5],
    )


def steps(of: Crisis) -> list[StepState]:
    """The initial steps of a crisis's plan."""
    return [StepState(step_id=p.step.id, due_at=initial_due(p)) for p in of.plan.steps]


def message(
    key: str,
    crisis_id: str = "20261123-0210-inondation",
    *,
    channel: ChannelName = ChannelName.SMS,
    contact: str = "maire-42218",
    address: str = "+33639980001",
    commune: str | None = "42218",
    step: str = "alerte_maires",
    ask: bool = True,
    valid_for: timedelta | None = None,
) -> SendMessage:
    """One outbox message."""
    return SendMessage(
        idempotency_key=key,
        crisis_id=crisis_id,
        step_id=step,
        engagement=Engagement.E48_1,
        channel=channel,
        contact_id=contact,
        address=address,
        commune=commune,
        body="Inondation : confirmez la réception.",
        ask_acknowledgement=ask,
        valid_until=None if valid_for is None else T0 + valid_for,
    )

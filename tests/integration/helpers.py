"""Helpers for integration tests: activation requests and running a crisis on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Actor, Interface, JournalEntry
from crisis.service import Activation, ActivationRequest
from playbooks.model import EventKind

AGENT = Actor(name="Agent d'astreinte", interface=Interface.CLI)
DIRCAB = Actor(name="Directeur de cabinet", interface=Interface.CLI)
COMMUNES = ("42218", "42187", "42147")  # Saint-Étienne, Roanne, Montbrison


def activate(app: App, t0: datetime, **overrides: object) -> Activation:
    """Record a flood T0 for three communes."""
    fields: dict[str, object] = {
        "kind": EventKind.INONDATION,
        "t0": t0,
        "synergi_ref": "SYN-42-0001",
        "communes": COMMUNES,
        "recorded_by": AGENT,
    }
    fields.update(overrides)
    return app.orchestrator.activate(ActivationRequest(**fields))  # type: ignore[arg-type]


async def advance(app: App, clock: FakeClock, minutes: float, *, step: float = 1.0) -> None:
    """Move the fake clock minute by minute, ticking and dispatching like the service would."""
    crisis_ids = _open(app)
    elapsed = 0.0
    while elapsed < minutes:
        clock.advance(step * 60)
        elapsed += step
        for crisis_id in crisis_ids:
            app.orchestrator.tick(crisis_id)
        await app.dispatcher.drain()


def _open(app: App) -> list[str]:
    with app.store.transaction() as tx:
        return tx.crisis_ids(open_only=True)


def journal(app: App, crisis_id: str) -> list[JournalEntry]:
    """The main courante."""
    return app.orchestrator.journal(crisis_id)


def of_type(entries: list[JournalEntry], name: str) -> list[JournalEntry]:
    """Entries of one fact type."""
    return [e for e in entries if e.fact.type == name]


def minutes(n: float) -> timedelta:
    """A duration in minutes."""
    return timedelta(minutes=n)

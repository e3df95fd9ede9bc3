"""What every decision reads and writes: the engine's configuration, the crisis state, the
decision being built, and the refusals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from channels.base import ChannelName
from crisis import escalation, inputs
from crisis.model import SYSTEM, Actor, Crisis, Fact, Intent, StepState


@dataclass(frozen=True)
class EngineConfig:
    """What decisions need beyond the crisis: wording context and public accounts."""

    prefecture: str
    timezone: ZoneInfo
    public_addresses: Mapping[ChannelName, str]
    late_grace: timedelta = timedelta(minutes=1)
    t0_max_age: timedelta = timedelta(hours=24)  # an older T0 needs the préfet's confirmation


@dataclass(frozen=True)
class CrisisState:
    """Everything the engine knows of a crisis when a stimulus arrives."""

    crisis: Crisis
    steps: tuple[StepState, ...]
    acknowledged: Mapping[str, str | None]  # contact id -> commune
    checkpoints_done: frozenset[int] = frozenset()
    attempts: tuple[escalation.Attempt, ...] = ()  # calls of escalating steps (voice rows)
    chains_ended: frozenset[tuple[str, str]] = frozenset()  # (step id, group key) "non joint"


@dataclass
class Decision:
    """What to record and do after a stimulus."""

    facts: list[tuple[Fact, Actor]] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    steps: dict[str, StepState] = field(default_factory=dict)  # changed steps
    acks: list[tuple[str, str | None]] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)
    crisis_updates: dict[str, Any] = field(default_factory=dict)
    wakeups: list[datetime] = field(default_factory=list)
    refused: str | None = None  # journaled refusal: the service raises Refused after commit

    def fact(self, fact: Fact, actor: Actor = SYSTEM) -> None:
        """Record a fact."""
        self.facts.append((fact, actor))


class Refused(ValueError):
    """A stimulus the engine will not act on (French reason for the user)."""


class InvalidStimulus(Refused):
    """Refused for what was typed (too long, empty, a phone number in a note...): the API
    answers 422 rather than 409."""


def typed(check: Callable[[], str]) -> str:
    """The cleaned input, or the engine's refusal saying which field and why."""
    try:
        return check()
    except inputs.InvalidInput as exc:
        raise InvalidStimulus(str(exc)) from None


def public_numbers(crisis: Crisis) -> tuple[str, ...]:
    """The crisis's own public numbers (CIP numéro unique, CIAV): not personal data."""
    return tuple(n for n in (crisis.cip_number, crisis.ciav_number) if n)

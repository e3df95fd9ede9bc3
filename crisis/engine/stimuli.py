"""The stimuli the engine reacts to: time passing, and what people and providers report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels.base import ChannelName
from crisis.model import (
    Actor,
    Authority,
    CipCallEnded,
    DraftTexts,
    Fact,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
)


@dataclass(frozen=True)
class Tick:
    """Time passed: run what fell due."""


@dataclass(frozen=True)
class Acknowledge:
    """A contact confirmed reception."""

    contact_id: str
    actor: Actor
    channel: ChannelName | None = None
    outbox_key: str | None = None
    step_id: str | None = None
    eta_minutes: int | None = None


@dataclass(frozen=True)
class Approve:
    """Someone approves a step's message."""

    step_id: str
    actor: Actor


@dataclass(frozen=True)
class Draft:
    """A comms officer writes (or rewrites) a step's message before its approval."""

    step_id: str
    texts: DraftTexts
    actor: Actor


@dataclass(frozen=True)
class SetCiavNumber:
    """The cabinet records the CIAV number."""

    number: str
    actor: Actor


@dataclass(frozen=True)
class Note:
    """A free note in the main courante."""

    text: str
    actor: Actor


@dataclass(frozen=True)
class Close:
    """Close the crisis: queued sends stop."""

    actor: Actor
    reason: str = ""


@dataclass(frozen=True)
class ActivateCip:
    """The préfet ordered the CIP: T0 CIP, its numéro unique. `authority`: the account's."""

    number: str
    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class CloseCip:
    """The préfet ordered the CIP closed (the crisis may go on)."""

    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class RectifyT0:
    """The préfet (or directeur de cabinet) corrects a wrong T0. `authority`: the account's."""

    t0: datetime
    reason: str
    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class Record:
    """Facts the engine only checks and journals: an exercise inject, a media request and its
    follow-up, a CIP call, the REX lessons."""

    facts: tuple[Fact, ...]
    actor: Actor


# journaled without running the due steps
JournalOnly = Note | Record | Close | CloseCip
# applied to the state the due steps then run on
Change = Tick | Acknowledge | Approve | Draft | SetCiavNumber | ActivateCip | RectifyT0
Stimulus = Change | JournalOnly
AFTER_CLOSE = (LessonsRecorded, MediaRequestAnswered, MediaRequestAssigned, CipCallEnded)

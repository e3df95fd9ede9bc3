"""The timeline of a REX: one dot per fact worth showing, placed from T0, in lanes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from channels.base import ChannelName
from crisis.journal.view import JournalView, is_published
from crisis.model import (
    AcknowledgementReceived,
    ChainEnded,
    CipActivated,
    CipClosed,
    CodActivated,
    CrisisClosed,
    DeliveryAttempted,
    Fact,
    InjectPlayed,
    MediaRequestReceived,
    StepSkipped,
    StepTriggered,
    WarningRaised,
)
from playbooks.model import Engagement

__all__ = ["CategoryName", "TimelineEvent", "timeline_of"]


class CategoryName(StrEnum):
    """Lanes of the timeline (French, shown as is)."""

    T0 = "T0"
    STEP = "étape"
    PUBLICATION = "publication"
    ACK = "accusé"
    PRESS = "presse"
    CIP = "CIP"
    INJECT = "injection"
    ALERT = "alerte"


@dataclass(frozen=True)
class TimelineEvent:
    """One dot on the timeline."""

    seq: int
    at: datetime
    offset: timedelta  # from T0
    category: CategoryName
    label: str  # French


def timeline_of(j: JournalView) -> tuple[TimelineEvent, ...]:
    """The dots of the timeline, by time then journal order (the T0 dot at T0 itself)."""
    events: list[TimelineEvent] = []
    published: set[tuple[str, ChannelName]] = set()
    for entry in j.entries:
        fact = entry.fact
        if isinstance(fact, DeliveryAttempted):
            described = _publication(fact, published)
        else:
            described = _cell_event(fact) or _public_event(fact)
        if described is None:
            continue
        category, label = described
        at = j.t0 if isinstance(fact, CodActivated) else entry.at
        events.append(TimelineEvent(entry.seq, at, at - j.t0, category, label))
    return tuple(sorted(events, key=lambda e: (e.at, e.seq)))


def _publication(
    attempt: DeliveryAttempted, published: set[tuple[str, ChannelName]]
) -> tuple[CategoryName, str] | None:
    """The first publication of a step on a channel (later attempts are not shown)."""
    if not (is_published(attempt) and _is_publication(attempt)):
        return None
    if (attempt.step_id, attempt.channel) in published:
        return None
    published.add((attempt.step_id, attempt.channel))
    return CategoryName.PUBLICATION, _publication_label(attempt)


def _cell_event(fact: Fact) -> tuple[CategoryName, str] | None:
    """The crisis's own course: T0, steps, acknowledgements, alerts, closing."""
    match fact:
        case CodActivated():
            return CategoryName.T0, f"Activation du COD (SYNERGI {fact.synergi_ref})"
        case StepTriggered():
            return CategoryName.STEP, f"{fact.title} ({fact.engagement})"
        case StepSkipped():
            return (
                CategoryName.STEP,
                f"{fact.title} ({fact.engagement}) : sans objet, {fact.reason}",
            )
        case AcknowledgementReceived():
            who = f" ({fact.role.label})" if fact.role is not None else ""
            return CategoryName.ACK, f"{fact.contact_id}{who}"
        case WarningRaised():
            return CategoryName.ALERT, fact.message
        case ChainEnded():
            where = fact.label or fact.commune or fact.group
            return CategoryName.ALERT, f"{where} : non joint"
        case CrisisClosed():
            return CategoryName.STEP, "Clôture de l'événement"
        case _:
            return None


def _public_event(fact: Fact) -> tuple[CategoryName, str] | None:
    """What came from outside or went to the public: press, CIP, injects."""
    match fact:
        case MediaRequestReceived():
            return CategoryName.PRESS, f"{fact.request_id} — {fact.outlet} ({fact.kind})"
        case CipActivated():
            return CategoryName.CIP, f"T0 CIP : numéro unique {fact.number}"
        case CipClosed():
            return CategoryName.CIP, "Fermeture de la CIP"
        case InjectPlayed():
            rumour = " (rumeur)" if fact.rumour else ""
            return CategoryName.INJECT, f"{fact.inject_id}{rumour} : {fact.text}"
        case _:
            return None


def _is_publication(attempt: DeliveryAttempted) -> bool:
    """Public posts and the press release (not the calls and SMS to people)."""
    return attempt.channel.is_public or attempt.engagement == Engagement.E48_3


def _publication_label(attempt: DeliveryAttempted) -> str:
    what = "communiqué de presse" if attempt.engagement == Engagement.E48_3 else "publication"
    manual = ", à la main" if attempt.outcome == "manual" else ""
    return f"{what} : {attempt.channel.label} ({attempt.step_id}{manual})"

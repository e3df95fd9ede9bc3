"""What every engagement rule shares: the one-hour clock, the judged journal, the rule row type
and the wording of delays and counts (pure)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from pydantic import BaseModel

from contacts.model import Role
from crisis.journal.view import JournalView
from crisis.model import CodActivated, DeliveryAttempted, EngagementStatus, JournalEntry, Verdict
from playbooks.model import Engagement

__all__ = [
    "AT_RISK_AFTER",
    "DEADLINE",
    "SATISFIED",
    "Clock",
    "Frame",
    "Judge",
    "Rule",
    "Window",
    "combine",
    "combined",
    "count",
    "offset",
]

DEADLINE = timedelta(hours=1)
AT_RISK_AFTER = timedelta(minutes=30)
_S = EngagementStatus
SATISFIED = frozenset({_S.MET, _S.LATE})
_PRECEDENCE = (_S.MISSED, _S.AT_RISK, _S.PENDING, _S.LATE)
_F = TypeVar("_F", bound=BaseModel)

Clock = Literal["T0", "T0 CIP"]


@dataclass(frozen=True)
class Window:
    """One clock (T0 or T0 CIP): its deadline, and the status of what was done (or not) by then."""

    start: datetime
    now: datetime

    @property
    def deadline(self) -> datetime:
        """The end of the hour."""
        return self.start + DEADLINE

    def since(self, at: datetime) -> float:
        """Seconds from the clock's start to `at`."""
        return (at - self.start).total_seconds()

    def status(self, at: datetime | None) -> EngagementStatus:
        """Met or late once done at `at`; missed, at risk or pending while not done."""
        if at is not None:
            return _S.MET if at <= self.deadline else _S.LATE
        if self.now > self.deadline:
            return _S.MISSED
        if self.now >= self.start + AT_RISK_AFTER:
            return _S.AT_RISK
        return _S.PENDING

    def verdict(
        self,
        engagement: str,
        at: datetime | None,
        evidence: Iterable[int],
        detail: str,
        status: EngagementStatus | None = None,
    ) -> Verdict:
        """The verdict of `engagement`, done at `at` (or not), with the entries proving it."""
        return Verdict(
            engagement=engagement,
            status=self.status(at) if status is None else status,
            at=at,
            delay_seconds=None if at is None else self.since(at),
            evidence=tuple(sorted(set(evidence))),
            detail=detail,
        )


Judge = Callable[["Frame"], Verdict]


@dataclass(frozen=True)
class Frame:
    """The journal as judged: the one view of it (crisis.journal.view), the T0 clock, and the
    verdicts judged so far (a combined engagement reuses its parts')."""

    view: JournalView
    window: Window
    _judged: dict[Judge, Verdict] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def of(cls, view: JournalView) -> Frame:
        """The frame of a journal read as of its `now`, the hour counted from its T0."""
        return cls(view, Window(start=view.t0, now=view.now))

    @property
    def cod(self) -> CodActivated:
        """The COD activation: T0, communes, quorum, the steps as planned."""
        return self.view.cod

    @property
    def cod_seq(self) -> int:
        """The seq of the COD activation, cited by every verdict."""
        return self.view.cod_seq

    def facts(self, kind: type[_F]) -> list[tuple[JournalEntry, _F]]:
        """The entries of one kind of fact, with the fact."""
        return self.view.facts(kind)

    def first_ack(self, role: Role) -> JournalEntry | None:
        """The first acknowledgement by someone of `role`."""
        return self.view.first_ack(role)

    def published(
        self, engagement: Engagement | None = None
    ) -> list[tuple[JournalEntry, DeliveryAttempted]]:
        """The attempts that put a message out, for one engagement or all."""
        return self.view.published(engagement)

    def na(self, engagement: str, detail: str) -> Verdict:
        """`engagement` is without object here (not applicable)."""
        return self.window.verdict(engagement, None, [self.cod_seq], detail, _S.NOT_APPLICABLE)

    def judged(self, judge: Judge) -> Verdict:
        """`judge`'s verdict on this journal, computed once."""
        if judge not in self._judged:
            self._judged[judge] = judge(self)
        return self._judged[judge]


@dataclass(frozen=True)
class Rule:
    """One engagement of the one-hour check: its code, its French title, the clock its delay
    counts from, and the function that judges it."""

    code: str
    title: str
    clock: Clock
    judge: Judge


def combine(engagement: str, window: Window, parts: Sequence[Verdict]) -> Verdict:
    """An engagement made of parts: the worst applicable part's status, done when all are."""
    applicable = [p for p in parts if p.status != _S.NOT_APPLICABLE]
    evidence = [seq for p in parts for seq in p.evidence]
    detail = ", ".join(f"{p.engagement} {p.status.label}" for p in parts)
    if not applicable:
        return window.verdict(engagement, None, evidence, detail, _S.NOT_APPLICABLE)
    statuses = {p.status for p in applicable}
    status = next((s for s in _PRECEDENCE if s in statuses), _S.MET)
    times = [p.at for p in applicable if p.status in SATISFIED and p.at is not None]
    at = max(times) if len(times) == len(applicable) else None
    return window.verdict(engagement, at, evidence, detail, status)


def combined(engagement: str, *parts: Judge) -> Judge:
    """The judge of an engagement made of the engagements `parts` judge."""

    def judge(frame: Frame) -> Verdict:
        return combine(engagement, frame.window, [frame.judged(part) for part in parts])

    return judge


def offset(origin: str, seconds: float) -> str:
    """'T0+42 min', 'T0+60 min 01 s' (seconds rounded up: never hide a late second)."""
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(math.ceil(abs(seconds)), 60)
    return f"{origin}{sign}{minutes} min" + (f" {secs:02d} s" if secs else "")


def count(n: int, singular: str, plural: str) -> str:
    """'1 commune jointe', '3 communes jointes'."""
    return f"{n} {singular if n <= 1 else plural}"

"""What the orchestrator asks of the world once a decision is taken, and the exercise's reach.

`Effects` is given to the Orchestrator at construction: the outbox's dispatcher is nudged,
the alarm clock armed, the public alert withdrawn at closing, the numéro unique moved with
the CIP. `NoEffects` does nothing (commands that only record, unit tests). The running
implementation names concrete channels, so it lives in the composition root
(crisis/bootstrap/effects.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from crisis.model import CancelPending, Crisis, ExerciseAllowList, Mode

__all__ = ["Effects", "NoEffects", "exercise_reach"]


class Effects(Protocol):
    """The side effects of the orchestrator's decisions (none of them is a decision).

    Each one does nothing by default: a class that names `Effects` as its base keeps only
    those it changes (`NoEffects` changes none)."""

    def queued(self) -> None:
        """New rows wait in the outbox: look at it again."""
        return None

    def cancelled(self, crisis_id: str, cancel: CancelPending) -> None:
        """Rows were cancelled: those already claimed must not leave either."""
        return None

    def before_receipt(self) -> None:
        """A provider's receipt comes in: the attempts' own outcomes are journaled first."""
        return None

    def wake(self, crisis_id: str, times: Sequence[datetime]) -> None:
        """Tick the crisis again at these (clock) times."""
        return None

    def closed(self, crisis_id: str) -> None:
        """The crisis closed (committed): withdraw its public alert, give the number back."""
        return None

    def cip_changed(self, crisis_id: str) -> None:
        """The CIP was ordered or closed (committed): the numéro unique follows."""
        return None


class NoEffects(Effects):
    """Effects that do nothing: the orchestrator only records (nothing dispatches, no alarm
    clock, no public alert to withdraw, no number to move)."""


def exercise_reach(crisis: Crisis) -> ExerciseAllowList:
    """Who an exercise may really reach: its participants' numbers and addresses as frozen at
    T0 (never the config), the extra ones and the exercise's public accounts. A real event, or
    an exercise without participants, reaches nobody (an empty list)."""
    allowed = crisis.participants
    if crisis.mode != Mode.EXERCICE or allowed is None:
        return ExerciseAllowList()
    chosen = [c for c in crisis.roster if c.id in set(allowed.contacts)]
    phones = [n for c in chosen for n in (c.mobile, c.landline) if n]
    emails = [c.email for c in chosen if c.email]
    return ExerciseAllowList(
        phones=(*phones, *allowed.phones),
        emails=(*emails, *allowed.emails),
        public=allowed.public,
    )

"""Engagements judged from the journal: their status and the entries that prove it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from crisis.model.frozen import Frozen


class EngagementStatus(StrEnum):
    """State of an engagement, during the hour and at its end."""

    MET = "met"
    LATE = "late"
    MISSED = "missed"
    NOT_APPLICABLE = "not_applicable"
    PENDING = "pending"
    AT_RISK = "at_risk"

    @property
    def label(self) -> str:
        """French label."""
        return STATUS_LABELS[self]


STATUS_LABELS = {
    EngagementStatus.MET: "fait",
    EngagementStatus.LATE: "en retard",
    EngagementStatus.MISSED: "manqué",
    EngagementStatus.NOT_APPLICABLE: "sans objet",
    EngagementStatus.PENDING: "en cours",
    EngagementStatus.AT_RISK: "à risque",
}


class Verdict(Frozen):
    """One engagement judged from the journal, with the entries that prove it."""

    engagement: str
    status: EngagementStatus
    at: datetime | None = None  # when it was met (or the last proof's time)
    delay_seconds: float | None = None  # from T0 (or T0 CIP)
    evidence: tuple[int, ...] = ()  # journal sequence numbers
    detail: str = ""  # French

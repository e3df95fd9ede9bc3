"""Engagements judged from the journal: their status and the entries that prove it."""

from __future__ import annotations

from datetime import datetime

from contacts.labelled import LabelledEnum
from crisis.model.frozen import Frozen


class EngagementStatus(LabelledEnum):
    """State of an engagement, during the hour and at its end."""

    MET = "met", "fait"
    LATE = "late", "en retard"
    MISSED = "missed", "manqué"
    NOT_APPLICABLE = "not_applicable", "sans objet"
    PENDING = "pending", "en cours"
    AT_RISK = "at_risk", "à risque"


class Verdict(Frozen):
    """One engagement judged from the journal, with the entries that prove it."""

    engagement: str
    status: EngagementStatus
    at: datetime | None = None  # when it was met (or the last proof's time)
    delay_seconds: float | None = None  # from T0 (or T0 CIP)
    evidence: tuple[int, ...] = ()  # journal sequence numbers
    detail: str = ""  # French

"""The figures of a REX, a compliance report and an annual review, computed from journals alone.

Pure: no clock read, no I/O. `now` is passed in; only entries recorded at or before it count
(the CodActivated frames the crisis even when recorded later, as read by crisis.journal.view).

One module per report: `compliance` (the head of every report and the one-hour verdict),
`chronology` (the REX timeline), `media` (press pressure), `rex`, `annual`.
"""

from __future__ import annotations

from crisis.reports.figures.annual import (
    AnnualFigures,
    CrisisRow,
    EngagementTally,
    OpenAction,
    TrainingRow,
    annual_figures,
)
from crisis.reports.figures.chronology import CategoryName, TimelineEvent
from crisis.reports.figures.compliance import (
    ComplianceFigures,
    ComplianceRow,
    Evidence,
    ReachRow,
    Summary,
    compliance_figures,
)
from crisis.reports.figures.media import (
    MEDIA_KINDS,
    QUARTER,
    MediaFigures,
    MediaRequestRow,
    QuarterCount,
)
from crisis.reports.figures.rex import ChannelStats, CipFigures, Lessons, RexFigures, rex_figures

__all__ = [
    "MEDIA_KINDS",
    "QUARTER",
    "AnnualFigures",
    "CategoryName",
    "ChannelStats",
    "CipFigures",
    "ComplianceFigures",
    "ComplianceRow",
    "CrisisRow",
    "EngagementTally",
    "Evidence",
    "Lessons",
    "MediaFigures",
    "MediaRequestRow",
    "OpenAction",
    "QuarterCount",
    "ReachRow",
    "RexFigures",
    "Summary",
    "TimelineEvent",
    "TrainingRow",
    "annual_figures",
    "compliance_figures",
    "rex_figures",
]

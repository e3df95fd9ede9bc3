"""Figures turned into a French document (blocks of text and tables) that HTML, PDF and Markdown
all render the same way. Pure: times are shown in the prefecture's time zone, passed in.

`model` holds the document's shape, `wording` how times and delays read; one module per report
(`rex`, `compliance`, `annual`).
"""

from __future__ import annotations

from crisis.reports.document.annual import annual_document
from crisis.reports.document.compliance import ENGAGEMENT_TITLES, compliance_document
from crisis.reports.document.model import Block, Document, Table
from crisis.reports.document.rex import MEDIA_KIND_LABELS, rex_document
from crisis.reports.document.wording import clock, day, duration, offset

__all__ = [
    "ENGAGEMENT_TITLES",
    "MEDIA_KIND_LABELS",
    "Block",
    "Document",
    "Table",
    "annual_document",
    "clock",
    "compliance_document",
    "day",
    "duration",
    "offset",
    "rex_document",
]

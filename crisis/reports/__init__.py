"""Reports built from the main courante: REX, one-hour compliance report and annual review.

Each `write_*` writes the requested formats (html, pdf, md) into `out_dir` and returns the paths.
`progress(done, total, label)` is called before each file and once at the end (done == total).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Generic, Protocol, Required, TypedDict, TypeVar, Unpack
from zoneinfo import ZoneInfo

from crisis.journal import as_shown
from crisis.model import JournalEntry
from crisis.reports.document import (
    Document,
    annual_document,
    compliance_document,
    rex_document,
)
from crisis.reports.figures import (
    AnnualFigures,
    ComplianceFigures,
    RexFigures,
    Summary,
    TrainingRow,
    annual_figures,
    compliance_figures,
    rex_figures,
)
from crisis.reports.markdown import render_markdown
from crisis.reports.page import render_html
from crisis.reports.pdf import FontMissing, render_pdf
from crisis.reports.timeline import svg

__all__ = [
    "FORMATS",
    "AnnualFigures",
    "ComplianceFigures",
    "Composer",
    "CrisisFigures",
    "CrisisReport",
    "FontMissing",
    "Progress",
    "ReportError",
    "RexFigures",
    "TrainingRow",
    "WriteOptions",
    "annual_figures",
    "compliance_figures",
    "rex_figures",
    "write_annual",
    "write_compliance",
    "write_rex",
]

Progress = Callable[[int, int, str], None]
FORMATS = ("html", "pdf", "md")
_LABELS = {"html": "page HTML", "pdf": "document PDF", "md": "texte Markdown"}
_CHART_NOTE = "Le graphique de la chronologie figure dans les versions HTML et PDF du rapport."


class WriteOptions(TypedDict, total=False):
    """The keyword options of every `write_*`: the prefecture's name (required), its time zone
    (Europe/Paris unless given), the formats (all three unless given) and the progress
    callback."""

    prefecture: Required[str]
    timezone: str
    formats: Iterable[str]
    progress: Progress | None


def _zone(options: WriteOptions) -> ZoneInfo:
    return ZoneInfo(options.get("timezone", "Europe/Paris"))


class ReportError(ValueError):
    """A report that cannot be written (French message)."""


def _formats(formats: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(f.lower().lstrip(".") for f in formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ReportError(
            f"format de rapport inconnu : {', '.join(unknown) or 'aucun'} "
            f"(formats possibles : {', '.join(FORMATS)})"
        )
    return wanted


def _safe(name: str) -> str:
    """A file-name-safe version of a crisis id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "evenement"


def _write(
    doc: Document,
    stem: str,
    out_dir: Path,
    options: WriteOptions,
    *,
    figures: RexFigures | None = None,
) -> list[Path]:
    wanted = _formats(options.get("formats", FORMATS))
    progress = options.get("progress")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    chart = svg(figures) if figures is not None else ""
    for done, fmt in enumerate(wanted):
        path = out_dir / f"{stem}.{fmt}"
        if progress is not None:
            progress(done, len(wanted), f"{_LABELS[fmt]} {path.name}")
        if fmt == "html":
            path.write_text(render_html(doc, chart=chart), encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(render_pdf(doc, figures=figures))
        else:
            note = _CHART_NOTE if figures is not None else ""
            path.write_text(render_markdown(doc, chart_note=note), encoding="utf-8")
        written.append(path)
    if progress is not None:
        progress(len(wanted), len(wanted), "terminé")
    return written


class CrisisFigures(Protocol):
    """What every crisis report's figures start with: the summary that names the crisis."""

    @property
    def summary(self) -> Summary: ...


F = TypeVar("F", bound=CrisisFigures)
F_contra = TypeVar("F_contra", bound=CrisisFigures, contravariant=True)


class Composer(Protocol[F_contra]):
    """Lays a crisis report's figures out as a document (French text, times in `tz`)."""

    def __call__(self, figures: F_contra, *, prefecture: str, tz: tzinfo) -> Document: ...


@dataclass(frozen=True)
class CrisisReport(Generic[F]):
    """One kind of report on one crisis (REX, compliance): its figures, its document and the
    stem of its files; called like a function, it writes the requested formats."""

    prefix: str
    figures: Callable[[Sequence[JournalEntry], datetime], F]
    document: Composer[F]

    def __call__(
        self,
        entries: Sequence[JournalEntry],
        now: datetime,
        out_dir: Path,
        **options: Unpack[WriteOptions],
    ) -> list[Path]:
        """Write <prefix>-<id>.html|pdf|md (entries worded in the options' time zone)."""
        tz = _zone(options)
        figures = self.figures(as_shown(entries, tz), now)
        doc = self.document(figures, prefecture=options["prefecture"], tz=tz)
        stem = f"{self.prefix}-{_safe(figures.summary.crisis_id)}"
        # the REX alone carries the timeline chart
        charted = figures if isinstance(figures, RexFigures) else None
        return _write(doc, stem, out_dir, options, figures=charted)


# The REX of one crisis: REX-<id>.html|pdf|md, with the timeline chart.
write_rex = CrisisReport("REX", rex_figures, rex_document)
# The one-page compliance report of one crisis: conformite-<id>.html|pdf|md.
write_compliance = CrisisReport("conformite", compliance_figures, compliance_document)


def write_annual(
    year: int,
    journals: Iterable[Sequence[JournalEntry]],
    training: Iterable[TrainingRow],
    now: datetime,
    out_dir: Path,
    **options: Unpack[WriteOptions],
) -> list[Path]:
    """The annual review: bilan-annuel-<year>.html|pdf|md (T0 years counted in the options'
    time zone)."""
    tz = _zone(options)
    figures = annual_figures(year, journals, training, now, tz=tz)
    doc = annual_document(figures, prefecture=options["prefecture"], tz=tz)
    return _write(doc, f"bilan-annuel-{year}", out_dir, options)

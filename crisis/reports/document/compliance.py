"""The one-page compliance report, and the compliance table the REX shares with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Protocol

from crisis import compliance, timefmt
from crisis.model import EngagementStatus
from crisis.reports.document.model import Block, Document, Table
from crisis.reports.document.wording import audit, offset, status_class
from crisis.reports.figures import ComplianceFigures, ComplianceRow, Summary

__all__ = [
    "ENGAGEMENT_TITLES",
    "JournalFigures",
    "compliance_document",
    "compliance_table",
    "crisis_document",
    "generated",
]

ENGAGEMENT_TITLES = {rule.code: rule.title for rule in compliance.RULES}
_EVIDENCE_SHOWN = 8


def generated(s: Summary, tz: tzinfo, entries: int) -> str:
    """The « document établi le … » line of a report built from one journal."""
    return (
        f"Document établi le {timefmt.local(s.judged_at, tz)} à partir de la seule "
        f"main courante ({entries} entrées)."
    )


class JournalFigures(Protocol):
    """The figures of a report built from one crisis's journal (REX, compliance)."""

    @property
    def summary(self) -> Summary: ...
    @property
    def entries_count(self) -> int: ...
    @property
    def last_hash(self) -> str: ...


def crisis_document(
    figures: JournalFigures,
    *,
    slug: str,
    title: str,
    when: str,
    prefecture: str,
    tz: tzinfo,
    blocks: tuple[Block, ...],
    notes: tuple[str, ...] = (),
) -> Document:
    """A report on one crisis: the subtitle names its kind, event or exercise, its id and
    `when`; sealed with the journal's last hash."""
    s = figures.summary
    kind = "exercice" if s.exercise else "événement"
    return Document(
        slug=slug,
        title=title,
        subtitle=f"{s.kind_label.capitalize()} — {kind} {s.crisis_id}{when}",
        prefecture=prefecture,
        exercise=s.exercise,
        generated=generated(s, tz, figures.entries_count),
        blocks=blocks,
        seal=figures.last_hash,
        notes=notes,
    )


def compliance_table(
    rows: Sequence[ComplianceRow], tz: tzinfo, *, full_evidence: bool, t0: datetime | None = None
) -> Table:
    """The verdicts with their delays and proofs (at most eight entry numbers each unless
    `full_evidence`)."""
    cells = []
    for r in rows:
        seqs = [e.seq for e in r.evidence]
        shown = seqs if full_evidence else seqs[:_EVIDENCE_SHOWN]
        proof = ("n° " + ", ".join(str(n) for n in shown)) if shown else ""
        if len(shown) < len(seqs):
            proof += f" (+{len(seqs) - len(shown)} autres)"
        cells.append(
            (
                r.engagement,
                ENGAGEMENT_TITLES.get(r.engagement, ""),
                r.status_label,
                offset(r.delay, r.origin),
                r.detail,
                proof or "—",
            )
        )
    return Table(
        headers=("Engagement", "Objet", "État", "Délai", "Constat", "Preuves (main courante)"),
        rows=tuple(cells),
        widths=(12, 21, 9, 14, 29, 15),
        row_classes=tuple(status_class(r.status) for r in rows),
        caption=(
            f"Verdict de conformité, délais comptés depuis le temps 0 ({timefmt.audit(t0, tz)})."
            if t0 is not None
            else "Verdict de conformité, délais comptés depuis le temps 0."
        ),
        css="conformite",
    )


def compliance_document(figures: ComplianceFigures, *, prefecture: str, tz: tzinfo) -> Document:
    """The one-hour verdict alone, on one page."""
    s = figures.summary
    statuses = [r.status for r in figures.compliance if r.engagement in {"47", "48"}]
    overall = (
        "Engagements 47 et 48 tenus dans l'heure."
        if statuses and all(st == EngagementStatus.MET for st in statuses)
        else "Engagements 47 et 48 : voir les écarts ci-dessous."
    )
    missing = [r for r in figures.reach if r.status != "joint"]
    reach = f"Communes : {len(figures.reach) - len(missing)} jointe(s) sur {len(figures.reach)}"
    if missing:
        reach += " ; non jointes : " + ", ".join(
            f"{r.name} ({r.code_insee}, {r.attempts} tentative(s))"
            if r.name
            else f"{r.code_insee} ({r.attempts} tentative(s))"
            for r in missing
        )
    return crisis_document(
        figures,
        slug="conformite",
        title="Rapport de conformité — première heure",
        when=f", temps 0 le {audit(s.t0, tz)}",
        prefecture=prefecture,
        tz=tz,
        blocks=(
            Block(
                "Verdict à T0+60",
                "verdict",
                paragraphs=(overall, reach + "."),
                pairs=(
                    ("Référence SYNERGI", s.synergi_ref),
                    ("Playbook", f"« {s.playbook_title} » version {s.playbook_version}"),
                ),
                tables=(compliance_table(figures.compliance, tz, full_evidence=False, t0=s.t0),),
            ),
        ),
        notes=(
            "Les numéros renvoient aux entrées de la main courante ; le retour d'expérience en "
            f"reproduit le texte. Empreinte de la dernière entrée : {figures.last_hash}.",
        ),
    )

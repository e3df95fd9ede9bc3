"""The annual review as a document: the year in figures, its events and exercises, compliance
per engagement, training, open corrective actions."""

from __future__ import annotations

from datetime import tzinfo

from crisis.model import EngagementStatus
from crisis.reports.document.model import Block, Document, Table
from crisis.reports.document.wording import clock, day, duration, id_list
from crisis.reports.figures import AnnualFigures

__all__ = ["annual_document"]


def annual_document(figures: AnnualFigures, *, prefecture: str, tz: tzinfo) -> Document:
    """The bilan annuel."""
    return Document(
        slug="bilan",
        title=f"Bilan annuel {figures.year}",
        subtitle="Communication d'urgence en cas d'événement majeur (module 7)",
        prefecture=prefecture,
        exercise=False,
        generated=(
            f"Document établi le {clock(figures.judged_at, tz, seconds=False)} à partir des "
            f"mains courantes de {len(figures.crises)} événement(s) et exercice(s)."
        ),
        blocks=(
            Block("Synthèse de l'année", "synthese", pairs=_year_pairs(figures)),
            Block("Événements et exercices", "evenements", tables=(_crises_table(figures, tz),)),
            Block("Conformité par engagement", "conformite", tables=(_tally_table(figures),)),
            Block(
                "Formation de la cellule et des agents CIP",
                "formation",
                tables=(_training_table(figures),),
            ),
            Block("Actions correctives ouvertes", "actions", tables=(_actions_table(figures),)),
        ),
    )


def _year_pairs(figures: AnnualFigures) -> tuple[tuple[str, str], ...]:
    return (
        ("Événements réels", str(len(figures.events))),
        ("Exercices", str(len(figures.exercises))),
        (
            "Exercices avec pression médiatique (49.2)",
            f"{len(figures.with_media_pressure)}" + id_list(figures.with_media_pressure),
        ),
        (
            "Exercices avec activation de la CIP (49.3)",
            f"{len(figures.with_cip)}" + id_list(figures.with_cip),
        ),
        (
            "Événements réels avec activation de la CIP",
            f"{len(figures.events_with_cip)}" + id_list(figures.events_with_cip),
        ),
        ("Actions correctives ouvertes", str(len(figures.open_actions))),
    )


def _crises_table(figures: AnnualFigures, tz: tzinfo) -> Table:
    return Table(
        headers=("Identifiant", "Mode", "Type", "Temps 0", "SYNERGI", "47", "48", "Presse", "CIP"),
        rows=tuple(
            (
                c.crisis_id,
                "exercice" if c.exercise else "réel",
                c.kind.label,
                clock(c.t0, tz, seconds=False),
                c.synergi_ref,
                dict(c.statuses).get("47", EngagementStatus.NOT_APPLICABLE).label,
                dict(c.statuses).get("48", EngagementStatus.NOT_APPLICABLE).label,
                str(c.media_requests),
                "oui" if c.cip_activated else "non",
            )
            for c in figures.crises
        ),
        widths=(24, 9, 12, 15, 12, 8, 8, 6, 6),
        empty="Aucun événement ni exercice cette année.",
        small=True,
    )


def _tally_table(figures: AnnualFigures) -> Table:
    return Table(
        headers=(
            "Engagement",
            "Tenus",
            "En retard",
            "Manqués",
            "Sans objet",
            "En cours",
            "Délai médian",
            "Délai maximal",
        ),
        rows=tuple(
            (
                t.engagement,
                str(t.met),
                str(t.late),
                str(t.missed),
                str(t.not_applicable),
                str(t.other),
                duration(t.median_delay),
                duration(t.max_delay),
            )
            for t in figures.engagements
        ),
        widths=(14, 9, 11, 11, 11, 10, 17, 17),
        row_classes=tuple(
            "statut-missed" if t.missed else ("statut-late" if t.late else "")
            for t in figures.engagements
        ),
    )


def _training_table(figures: AnnualFigures) -> Table:
    return Table(
        headers=("Agent", "Fonction", "Formation", "Prochaine échéance"),
        rows=tuple(
            (t.contact_id, t.role_label, t.status, day(t.next_due)) for t in figures.training
        ),
        widths=(22, 30, 30, 18),
        empty="Aucune donnée de formation fournie.",
    )


def _actions_table(figures: AnnualFigures) -> Table:
    return Table(
        headers=("Événement", "Action corrective", "Responsable", "Échéance"),
        rows=tuple(
            (
                a.crisis_id,
                a.title,
                a.owner or "—",
                day(a.due) + (" (dépassée)" if a.overdue else ""),
            )
            for a in figures.open_actions
        ),
        widths=(18, 50, 16, 16),
        row_classes=tuple("statut-missed" if a.overdue else "" for a in figures.open_actions),
        empty="Aucune action corrective ouverte.",
    )

"""Figures turned into a French document (blocks of text and tables) that HTML, PDF and Markdown
all render the same way. Pure: times are shown in the prefecture's time zone, passed in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from crisis import compliance, timefmt
from crisis.model import EngagementStatus
from crisis.reports.figures import (
    MEDIA_KINDS,
    AnnualFigures,
    CategoryName,
    ComplianceFigures,
    ComplianceRow,
    ReachRow,
    RexFigures,
    Summary,
)

__all__ = [
    "Block",
    "Document",
    "Table",
    "annual_document",
    "compliance_document",
    "rex_document",
]

ENGAGEMENT_TITLES = {rule.code: rule.title for rule in compliance.RULES}
MEDIA_KIND_LABELS = {
    "appel": "appels",
    "courriel": "courriels",
    "mention": "mentions",
    "question": "questions (réseaux sociaux)",
    "interview": "demandes d'interview",
}
_EVIDENCE_SHOWN = 8


@dataclass(frozen=True)
class Table:
    """A table: headers, rows of text cells (may hold line breaks), relative column widths."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]
    row_classes: tuple[str, ...] = ()  # one CSS class per row (verdict colours), or empty
    caption: str = ""
    empty: str = "Aucun élément."
    css: str = ""  # extra class on the table element
    small: bool = False  # long texts: smaller print

    def row_class(self, index: int) -> str:
        """The CSS class of a row ("" if none)."""
        return self.row_classes[index] if index < len(self.row_classes) else ""


@dataclass(frozen=True)
class Block:
    """A numbered section of the document."""

    title: str
    anchor: str
    paragraphs: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()  # term, value
    tables: tuple[Table, ...] = ()
    chart: bool = False  # the timeline chart goes here


@dataclass(frozen=True)
class Document:
    """A report ready to be rendered in any format."""

    slug: str  # rex, conformite, bilan
    title: str
    subtitle: str
    prefecture: str
    exercise: bool
    generated: str  # "document établi le … à partir de la main courante"
    blocks: tuple[Block, ...]
    seal: str = ""  # the last entry's hash, when built from one journal
    notes: tuple[str, ...] = field(default=())


# --- wording ---------------------------------------------------------------------------------


def offset(value: timedelta | None, origin: str = "T0") -> str:
    """'T0+12 min 05 s', 'T0+2 h 05 min' (seconds rounded up: never hide a late second)."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else "+"
    total = math.ceil(abs(seconds))
    minutes, secs = divmod(total, 60)
    if minutes >= 120:
        hours, minutes = divmod(minutes, 60)
        return f"{origin}{sign}{hours} h {minutes:02d} min"
    return f"{origin}{sign}{minutes} min" + (f" {secs:02d} s" if secs else "")


def duration(value: timedelta | None) -> str:
    """'4 min 12 s', '1 h 02 min', '3 j 04 h'."""
    if value is None:
        return "—"
    total = math.ceil(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} j {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min" + (f" {secs:02d} s" if secs else "")
    return f"{secs} s"


def clock(at: datetime | None, tz: tzinfo, *, seconds: bool = True) -> str:
    """'23/11/2026 02:10:00' in the prefecture's time zone, for a cell under a heading naming
    the zone; the hour repeated when clocks go back carries its offset."""
    if at is None:
        return "—"
    text = at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{text} ({timefmt.offset(at, tz)})" if timefmt.repeated(at, tz) else text


def _audit(at: datetime | None, tz: tzinfo) -> str:
    """Local time with its zone, then UTC (crisis.timefmt.audit)."""
    return "—" if at is None else timefmt.audit(at, tz)


def _hour(tz: tzinfo) -> str:
    """A column heading of local times: « Heure (heure de Paris) »."""
    return f"Heure ({timefmt.zone_label(tz)})"


def day(value: date | None) -> str:
    """'31/03/2027'."""
    return value.strftime("%d/%m/%Y") if value is not None else "—"


def _status_class(status: EngagementStatus) -> str:
    return f"statut-{status.value.replace('_', '-')}"


def _summary_pairs(s: Summary, tz: tzinfo) -> tuple[tuple[str, str], ...]:
    return (
        ("Événement", f"{s.kind_label} ({s.crisis_id})"),
        ("Mode", s.mode_label),
        ("Temps 0 (activation du COD)", _audit(s.t0, tz)),
        *(
            (("Temps 0 déclaré d'abord (rectifié depuis)", _audit(s.t0_declared, tz)),)
            if s.t0_declared is not None
            else ()
        ),
        ("Enregistré le", _audit(s.recorded_at, tz)),
        ("Référence SYNERGI", s.synergi_ref),
        ("Communes concernées", str(s.communes_count)),
        ("Playbook", f"« {s.playbook_title} » version {s.playbook_version}"),
        ("Clôture", _audit(s.closed_at, tz) if s.closed_at else "événement en cours"),
        ("Durée", duration(s.duration)),
    )


def _generated(s: Summary, tz: tzinfo, entries: int) -> str:
    return (
        f"Document établi le {timefmt.local(s.judged_at, tz)} à partir de la seule "
        f"main courante ({entries} entrées)."
    )


def _compliance_table(
    rows: Sequence[ComplianceRow], tz: tzinfo, *, full_evidence: bool, t0: datetime | None = None
) -> Table:
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
        row_classes=tuple(_status_class(r.status) for r in rows),
        caption=(
            f"Verdict de conformité, délais comptés depuis le temps 0 ({timefmt.audit(t0, tz)})."
            if t0 is not None
            else "Verdict de conformité, délais comptés depuis le temps 0."
        ),
        css="conformite",
    )


def _reach_table(rows: Sequence[ReachRow], tz: tzinfo) -> Table:
    return Table(
        headers=(
            "Commune (INSEE)",
            "État",
            "Joint par",
            "Confirmation ou dernier essai",
            "Tentatives",
        ),
        rows=tuple(
            (
                f"{r.name} ({r.code_insee})" if r.name else r.code_insee,
                r.status_label + ("" if r.complete or r.status == "joint" else " — incomplet"),
                f"{r.contact_id} ({r.role_label})" if r.contact_id else "—",
                f"{offset(r.offset)}\n{clock(r.at, tz)}" if r.at else "—",
                str(r.attempts),
            )
            for r in rows
        ),
        widths=(24, 16, 26, 22, 12),
        row_classes=tuple("statut-met" if r.status == "joint" else "statut-missed" for r in rows),
        css="communes",
        empty="Aucune commune concernée.",
    )


# --- REX -----------------------------------------------------------------------------------------


def rex_document(figures: RexFigures, *, prefecture: str, tz: tzinfo) -> Document:
    """The retour d'expérience."""
    s = figures.summary
    blocks = (
        Block("Synthèse", "synthese", pairs=_summary_pairs(s, tz)),
        _timeline_block(figures, tz),
        Block(
            "Conformité aux engagements (module 7)",
            "conformite",
            paragraphs=(
                "Chaque verdict cite les entrées de la main courante qui le prouvent ; "
                "leur texte figure en annexe.",
            ),
            tables=(_compliance_table(figures.compliance, tz, full_evidence=False, t0=s.t0),),
        ),
        _reach_block(figures.reach, tz),
        _channels_block(figures),
        _media_block(figures),
        _cip_block(figures),
        _lessons_block(figures),
        _evidence_block(figures, tz),
    )
    kind = "exercice" if s.exercise else "événement"
    return Document(
        slug="rex",
        title="Retour d'expérience",
        subtitle=(
            f"{s.kind_label.capitalize()} — {kind} {s.crisis_id} "
            f"du {clock(s.t0, tz, seconds=False)}"
        ),
        prefecture=prefecture,
        exercise=s.exercise,
        generated=_generated(s, tz, figures.entries_count),
        blocks=blocks,
        seal=figures.last_hash,
    )


def _timeline_block(figures: RexFigures, tz: tzinfo) -> Block:
    shown = [e for e in figures.timeline if e.category != CategoryName.PRESS]
    table = Table(
        headers=("Délai", _hour(tz), "Catégorie", "Événement"),
        rows=tuple((offset(e.offset), clock(e.at, tz), e.category.value, e.label) for e in shown),
        widths=(16, 20, 13, 51),
        css="chronologie",
        small=True,
    )
    press = figures.media.total
    note = (
        f" Les {press} sollicitations de la presse sont comptées par quart d'heure sur la ligne "
        "« presse »."
        if press
        else ""
    )
    return Block(
        "Chronologie",
        "chronologie",
        paragraphs=(
            "Temps 0 à gauche, minutes depuis le temps 0 en abscisse ; la ligne pointillée rouge "
            f"marque l'échéance T0+60.{note}",
        ),
        tables=(table,),
        chart=True,
    )


def _reach_block(reach: Sequence[ReachRow], tz: tzinfo) -> Block:
    missing = [r for r in reach if r.status != "joint"]
    joined = len(reach) - len(missing)
    text = f"{joined} commune(s) sur {len(reach)} ont un élu qui a confirmé la réception."
    if missing:
        text += " Non jointes : " + ", ".join(
            f"{r.name} ({r.code_insee})" if r.name else r.code_insee for r in missing
        )
        text += "."
    return Block(
        "Élus joints par commune (48.1)",
        "communes",
        paragraphs=(text,),
        tables=(_reach_table(reach, tz),),
    )


def _channels_block(figures: RexFigures) -> Block:
    rows = tuple(
        (
            c.label,
            str(c.sent),
            str(c.delivered),
            str(c.failed),
            str(c.acknowledged),
            offset(c.first_delivery),
            offset(c.last_delivery),
        )
        for c in figures.channels
    )
    return Block(
        "Statistiques par canal",
        "canaux",
        paragraphs=(
            "Messages distincts pris en charge par le fournisseur (ou publiés à la main), "
            "remis selon l'accusé du fournisseur, en échec définitif, et confirmations de "
            "réception ; délais de remise depuis le temps 0.",
        ),
        tables=(
            Table(
                headers=(
                    "Canal",
                    "Envoyés",
                    "Remis",
                    "Échecs",
                    "Accusés",
                    "Première remise",
                    "Dernière remise",
                ),
                rows=rows,
                widths=(26, 10, 10, 10, 10, 17, 17),
                css="canaux",
                empty="Aucun message envoyé.",
            ),
        ),
    )


def _media_block(figures: RexFigures) -> Block:
    m = figures.media
    if not m.total:
        return Block(
            "Pression médiatique (49.2)",
            "presse",
            paragraphs=("Aucune sollicitation de la presse enregistrée.",),
        )
    pairs = (
        ("Sollicitations reçues", str(m.total)),
        *(
            (MEDIA_KIND_LABELS.get(kind, kind).capitalize(), str(n))
            for kind, n in m.per_kind
            if kind in MEDIA_KINDS
        ),
        ("Délai médian de première réponse", duration(m.median_answer)),
        ("Délai maximal de première réponse", duration(m.max_answer)),
        ("Sans réponse", f"{len(m.unanswered)}" + _ids(m.unanswered)),
    )
    quarters = Table(
        headers=("Quart d'heure", "Sollicitations"),
        rows=tuple(
            (f"{offset(q.start)} à {offset(q.start + timedelta(minutes=15))}", str(q.count))
            for q in m.per_quarter
        ),
        widths=(60, 40),
        caption="Sollicitations par quart d'heure depuis le temps 0.",
    )
    requests = Table(
        headers=("Demande", "Type", "Média", "Sujet", "Reçue", "Confiée à", "Réponse", "Délai"),
        rows=tuple(
            (
                r.request_id + (" (simulée)" if r.simulated else ""),
                r.kind,
                r.outlet,
                r.topic,
                offset(r.received),
                r.assignee or "—",
                f"{offset(r.answered)}\npar {r.answered_by}"
                if r.answered is not None
                else "sans réponse",
                duration(r.time_to_answer),
            )
            for r in m.requests
        ),
        widths=(14, 10, 16, 14, 12, 12, 12, 10),
        row_classes=tuple("" if r.answered is not None else "statut-missed" for r in m.requests),
        small=True,
    )
    return Block("Pression médiatique (49.2)", "presse", pairs=pairs, tables=(quarters, requests))


def _ids(ids: Sequence[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:20])
    return f" ({shown}{' …' if len(ids) > 20 else ''})"


def _cip_block(figures: RexFigures) -> Block:
    c = figures.cip
    if not c.activated and not c.calls:
        return Block(
            "Cellule d'information du public (CIP)", "cip", paragraphs=("CIP non activée.",)
        )
    pairs = (
        ("Numéro unique", c.number or "—"),
        ("T0 CIP (activation)", offset(c.t0_cip)),
        ("Fermeture", offset(c.closed) if c.closed is not None else "CIP ouverte"),
        ("Appels reçus", str(c.calls)),
        ("Répondus", str(c.answered)),
        ("Abandonnés par l'appelant", str(c.abandoned)),
        ("Messages laissés", str(c.messages)),
        ("Débordements", str(c.overflow)),
        ("Hors horaires", str(c.out_of_hours)),
        ("Attente moyenne", duration(c.mean_wait)),
        ("Attente maximale", duration(c.max_wait)),
    )
    agents = Table(
        headers=("Agent CIP", "Appels répondus"),
        rows=tuple((agent, str(n)) for agent, n in c.per_agent),
        widths=(60, 40),
        empty="Aucun appel répondu.",
    )
    return Block("Cellule d'information du public (CIP)", "cip", pairs=pairs, tables=(agents,))


def _lessons_block(figures: RexFigures) -> Block:
    lessons = figures.lessons
    title = "Enseignements et actions correctives"
    if lessons is None:
        return Block(
            title,
            "enseignements",
            paragraphs=("Aucun enseignement enregistré pour le moment (section à compléter).",),
        )
    actions = Table(
        headers=("Action corrective", "Responsable", "Échéance", "État"),
        rows=tuple(
            (a.title, a.owner or "—", day(a.due), "réalisée" if a.done else "à faire")
            for a in lessons.actions
        ),
        widths=(52, 20, 14, 14),
        row_classes=tuple("statut-met" if a.done else "" for a in lessons.actions),
        empty="Aucune action corrective.",
    )
    paragraphs = tuple(p for p in lessons.text.split("\n\n") if p.strip())
    note = f"Dernière mise à jour par {lessons.by} (main courante n° {lessons.seq})."
    return Block(title, "enseignements", paragraphs=(*paragraphs, note), tables=(actions,))


def _evidence_block(figures: RexFigures, tz: tzinfo) -> Block:
    cited = {e.seq: e for r in figures.compliance for e in r.evidence}
    return Block(
        "Annexe : entrées de la main courante citées",
        "preuves",
        paragraphs=(
            f"Main courante scellée : {figures.entries_count} entrées, empreinte de la dernière "
            f"entrée {figures.last_hash}.",
            "Chaque entrée est rédigée ici depuis le fait enregistré (heures locales et UTC) ; "
            "le texte scellé, que vérifie « crisis journal verify », se lit avec "
            "« crisis journal ID --texte-scelle ».",
        ),
        tables=(
            Table(
                headers=("N°", _hour(tz), "Entrée"),
                rows=tuple(
                    (str(e.seq), clock(e.at, tz), e.text)
                    for e in sorted(cited.values(), key=lambda e: e.seq)
                ),
                widths=(8, 20, 72),
                small=True,
                css="preuves",
            ),
        ),
    )


# --- compliance report ------------------------------------------------------------------------


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
    kind = "exercice" if s.exercise else "événement"
    return Document(
        slug="conformite",
        title="Rapport de conformité — première heure",
        subtitle=(
            f"{s.kind_label.capitalize()} — {kind} {s.crisis_id}, temps 0 le {_audit(s.t0, tz)}"
        ),
        prefecture=prefecture,
        exercise=s.exercise,
        generated=_generated(s, tz, figures.entries_count),
        blocks=(
            Block(
                "Verdict à T0+60",
                "verdict",
                paragraphs=(overall, reach + "."),
                pairs=(
                    ("Référence SYNERGI", s.synergi_ref),
                    ("Playbook", f"« {s.playbook_title} » version {s.playbook_version}"),
                ),
                tables=(_compliance_table(figures.compliance, tz, full_evidence=False, t0=s.t0),),
            ),
        ),
        seal=figures.last_hash,
        notes=(
            "Les numéros renvoient aux entrées de la main courante ; le retour d'expérience en "
            f"reproduit le texte. Empreinte de la dernière entrée : {figures.last_hash}.",
        ),
    )


# --- annual review ----------------------------------------------------------------------------


def annual_document(figures: AnnualFigures, *, prefecture: str, tz: tzinfo) -> Document:
    """The bilan annuel."""
    events, exercises = figures.events, figures.exercises
    crises = Table(
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
    tally = Table(
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
    training = Table(
        headers=("Agent", "Fonction", "Formation", "Prochaine échéance"),
        rows=tuple(
            (t.contact_id, t.role_label, t.status, day(t.next_due)) for t in figures.training
        ),
        widths=(22, 30, 30, 18),
        empty="Aucune donnée de formation fournie.",
    )
    actions = Table(
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
            Block(
                "Synthèse de l'année",
                "synthese",
                pairs=(
                    ("Événements réels", str(len(events))),
                    ("Exercices", str(len(exercises))),
                    (
                        "Exercices avec pression médiatique (49.2)",
                        f"{len(figures.with_media_pressure)}" + _ids(figures.with_media_pressure),
                    ),
                    (
                        "Exercices avec activation de la CIP (49.3)",
                        f"{len(figures.with_cip)}" + _ids(figures.with_cip),
                    ),
                    (
                        "Événements réels avec activation de la CIP",
                        f"{len(figures.events_with_cip)}" + _ids(figures.events_with_cip),
                    ),
                    ("Actions correctives ouvertes", str(len(figures.open_actions))),
                ),
            ),
            Block("Événements et exercices", "evenements", tables=(crises,)),
            Block("Conformité par engagement", "conformite", tables=(tally,)),
            Block(
                "Formation de la cellule et des agents CIP",
                "formation",
                tables=(training,),
            ),
            Block("Actions correctives ouvertes", "actions", tables=(actions,)),
        ),
    )

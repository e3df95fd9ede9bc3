"""The retour d'expérience as a document: summary, timeline, compliance, communes, channels,
media pressure, CIP, lessons and the cited entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, tzinfo

from crisis.reports.document.compliance import compliance_table, crisis_document
from crisis.reports.document.model import Block, Document, Table
from crisis.reports.document.wording import audit, clock, day, duration, hour, id_list, offset
from crisis.reports.figures import MEDIA_KINDS, CategoryName, ReachRow, RexFigures, Summary

__all__ = ["MEDIA_KIND_LABELS", "rex_document"]

MEDIA_KIND_LABELS = {
    "appel": "appels",
    "courriel": "courriels",
    "mention": "mentions",
    "question": "questions (réseaux sociaux)",
    "interview": "demandes d'interview",
}


def _summary_pairs(s: Summary, tz: tzinfo) -> tuple[tuple[str, str], ...]:
    return (
        ("Événement", f"{s.kind_label} ({s.crisis_id})"),
        ("Mode", s.mode_label),
        ("Temps 0 (activation du COD)", audit(s.t0, tz)),
        *(
            (("Temps 0 déclaré d'abord (rectifié depuis)", audit(s.t0_declared, tz)),)
            if s.t0_declared is not None
            else ()
        ),
        ("Enregistré le", audit(s.recorded_at, tz)),
        ("Référence SYNERGI", s.synergi_ref),
        ("Communes concernées", str(s.communes_count)),
        ("Playbook", f"« {s.playbook_title} » version {s.playbook_version}"),
        ("Clôture", audit(s.closed_at, tz) if s.closed_at else "événement en cours"),
        ("Durée", duration(s.duration)),
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
            tables=(compliance_table(figures.compliance, tz, full_evidence=False, t0=s.t0),),
        ),
        _reach_block(figures.reach, tz),
        _channels_block(figures),
        _media_block(figures),
        _cip_block(figures),
        _lessons_block(figures),
        _evidence_block(figures, tz),
    )
    return crisis_document(
        figures,
        slug="rex",
        title="Retour d'expérience",
        when=f" du {clock(s.t0, tz, seconds=False)}",
        prefecture=prefecture,
        tz=tz,
        blocks=blocks,
    )


def _timeline_block(figures: RexFigures, tz: tzinfo) -> Block:
    shown = [e for e in figures.timeline if e.category != CategoryName.PRESS]
    table = Table(
        headers=("Délai", hour(tz), "Catégorie", "Événement"),
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
        ("Sans réponse", f"{len(m.unanswered)}" + id_list(m.unanswered)),
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
                headers=("N°", hour(tz), "Entrée"),
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

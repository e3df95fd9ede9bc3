"""The main courante: hash-chained entries, their French wording, and the chain check (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import TypeAdapter

from channels.base import ChannelName
from contacts.model import Role
from crisis import timefmt
from crisis.model import (
    AcknowledgementReceived,
    ActivationConfirmed,
    Actor,
    ApprovalRefused,
    ApprovalRequested,
    ChainEnded,
    CiavNumberSet,
    CipActivated,
    CipCallEnded,
    CipClosed,
    CodActivated,
    ComplianceCheckpoint,
    CrisisClosed,
    DeliveryAttempted,
    DeliveryReported,
    Fact,
    InjectPlayed,
    JournalEntry,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    MessageApproved,
    MessageDrafted,
    MessagesQueued,
    NoteAdded,
    StepHeld,
    StepSkipped,
    StepTriggered,
    T0Rectified,
    WarningRaised,
)

GENESIS = "0" * 64
FACT_ADAPTER: TypeAdapter[Fact] = TypeAdapter(Fact)
OUTCOME_LABELS = {
    "sent": "envoyé",
    "retry": "échec temporaire, nouvel essai prévu",
    "failed": "échec définitif",
    "unknown": "issue incertaine, vérification auprès du fournisseur",
    "reconciled": "confirmé par le fournisseur après vérification",
    "expired": "abandonné : message périmé",
    "cancelled": "annulé",
    "manual": "publié à la main (canal en panne)",
}


def canonical(crisis_id: str, seq: int, at: datetime, actor: Actor, data: Any, text: str) -> bytes:
    """The bytes an entry's hash covers."""
    doc = {
        "crisis_id": crisis_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor.name,
        "interface": actor.interface.value,
        "fact": data,
        "text": text,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, payload: bytes) -> str:
    """sha256 over the previous hash and this entry's canonical bytes."""
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


def chain(
    crisis_id: str,
    head_seq: int,
    head_hash: str,
    items: Iterable[tuple[Fact, Actor]],
    at: datetime,
    *,
    tz: tzinfo,
) -> list[JournalEntry]:
    """New entries following the head of a crisis's chain; times worded in `tz`."""
    entries: list[JournalEntry] = []
    seq, prev = head_seq, head_hash
    for fact, actor in items:
        seq += 1
        text = describe(fact, tz)
        data = fact.model_dump(mode="json")
        digest = entry_hash(prev, canonical(crisis_id, seq, at, actor, data, text))
        entries.append(
            JournalEntry(
                crisis_id=crisis_id,
                seq=seq,
                at=at,
                actor=actor,
                fact=fact,
                text=text,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return entries


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from storage, before any trust is put in it."""

    seq: int
    at: datetime
    actor: Actor
    data: dict[str, Any]
    text: str
    prev_hash: str
    hash: str


def verify(
    crisis_id: str, stored: Sequence[StoredEntry], head_seq: int, head_hash: str
) -> list[str]:
    """Problems in a crisis's chain (French), empty when intact: edits, removals, reordering."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, entry in enumerate(stored, start=1):
        if entry.seq != expected_seq:
            problems.append(f"entrée n° {expected_seq} manquante (trouvé n° {entry.seq})")
            break
        if entry.prev_hash != prev:
            problems.append(f"entrée n° {entry.seq} : chaînage rompu avec l'entrée précédente")
        recomputed = entry_hash(
            entry.prev_hash,
            canonical(crisis_id, entry.seq, entry.at, entry.actor, entry.data, entry.text),
        )
        if recomputed != entry.hash:
            problems.append(f"entrée n° {entry.seq} : contenu modifié après enregistrement")
        prev = entry.hash
    if not problems:
        last_seq = stored[-1].seq if stored else 0
        if last_seq != head_seq or prev != (head_hash or GENESIS):
            problems.append(
                f"fin de la main courante altérée : {head_seq} entrées attendues, "
                f"{last_seq} trouvées"
            )
    return problems


def parse_fact(data: dict[str, Any]) -> Fact:
    """A fact from its stored JSON."""
    return FACT_ADAPTER.validate_python(data)


def shown(entry: JournalEntry, tz: tzinfo) -> str:
    """The entry's sentence as people read it: worded again from its stored fact, times in the
    prefecture's zone `tz` and in UTC. The sealed `entry.text` stays what `verify` checks; an
    entry sealed by an older version (e.g. « temps 0 = ... UTC » stating local time) reads
    correctly because its fact holds the instant with its offset."""
    return describe(entry.fact, tz)


def as_shown(entries: Iterable[JournalEntry], tz: tzinfo) -> list[JournalEntry]:
    """Entries whose `text` is `shown(entry, tz)`: what pages, the CLI and reports display.
    Never stored nor hashed: the sealed text is only in the database."""
    return [e.model_copy(update={"text": shown(e, tz)}) for e in entries]


# --- French wording --------------------------------------------------------------------------


def _hm(at: datetime, tz: tzinfo) -> str:
    return timefmt.audit(at, tz)


def _who(contact_id: str, role: Role | None, commune: str | None) -> str:
    parts = [contact_id]
    if role is not None:
        parts.append(role.label)
    if commune:
        parts.append(f"commune {commune}")
    return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _channel(channel: ChannelName | None) -> str:
    return channel.label if channel is not None else "canal inconnu"


_CIP_OUTCOMES = {
    "repondu": "répondu",
    "abandonne": "abandonné par l'appelant",
    "message": "message laissé",
    "debordement": "débordement, message de dissuasion",
    "hors_horaires": "hors horaires",
}
_MEDIA_KINDS = {
    "appel": "appel",
    "courriel": "courriel",
    "mention": "mention sur les réseaux sociaux",
    "question": "question sur les réseaux sociaux",
    "interview": "demande d'interview",
}


def _skipped(fact: StepSkipped, tz: tzinfo) -> str:
    since = f" (depuis le {_hm(fact.since, tz)})" if fact.since is not None else ""
    return (
        f"Étape « {fact.title} » ({fact.engagement}) sans objet : {fact.reason}{since} ; "
        "elle n'est pas déclenchée."
    )


def describe(fact: Fact, tz: tzinfo) -> str:  # noqa: PLR0915 - one case per kind of fact
    """One French sentence for the main courante; contacts by id, never by number or address;
    times in the prefecture's zone `tz` and in UTC (crisis.timefmt.audit)."""
    match fact:
        case CodActivated():
            mode = "EXERCICE — " if fact.mode.value == "exercice" else ""
            return (
                f"{mode}Activation du COD ({fact.kind.label}) enregistrée : "
                f"temps 0 = {_hm(fact.t0, tz)}, référence SYNERGI {fact.synergi_ref}, "
                f"{len(fact.communes)} commune(s) concernée(s), "
                f"playbook « {fact.playbook_title} » v{fact.playbook_version} figé "
                f"({len(fact.steps)} étapes)."
            )
        case StepTriggered():
            late = (
                f" EN RETARD de {fact.late_seconds / 60:.1f} min (échéance {_hm(fact.due_at, tz)})."
                if fact.late_seconds > 0
                else ""
            )
            held = (
                f" Attente préalable : {fact.held_seconds / 60:.1f} min."
                if fact.held_seconds
                else ""
            )
            return f"Étape « {fact.title} » ({fact.engagement}) déclenchée.{late}{held}"
        case MessagesQueued():
            if fact.escalation:
                who = ", ".join(
                    f"{r.contact_id} (appel n° {r.attempt})" for r in fact.recipients[:10]
                )
                more = " …" if len(fact.recipients) > 10 else ""
                return (
                    f"Étape {fact.step_id} : personne jointe pas encore, appel suivant par "
                    f"{_channel(fact.channel)} : {who}{more}."
                )
            return (
                f"Étape {fact.step_id} : {len(fact.recipients)} message(s) par "
                f"{_channel(fact.channel)} mis en file d'envoi (version {fact.message_version})."
            )
        case ChainEnded():
            where = fact.label or (f"commune {fact.commune}" if fact.commune else fact.group)
            return (
                f"Étape {fact.step_id} : {where} — NON JOINT après {len(fact.attempts)} appel(s) "
                f"({', '.join(f'{r.contact_id} n° {r.attempt}' for r in fact.attempts[:12])}"
                f"{' …' if len(fact.attempts) > 12 else ''}) : {fact.reason}."
            )
        case StepHeld():
            return f"Étape {fact.step_id} en attente : {fact.reason}."
        case StepSkipped():
            return _skipped(fact, tz)
        case ApprovalRequested():
            return f"Message de l'étape {fact.step_id} à valider (rédigé par {fact.drafted_by})."
        case MessageDrafted():
            return (
                f"Message de l'étape {fact.step_id} rédigé par {fact.drafted_by} ; "
                "validation attendue d'une autre personne."
            )
        case MessageApproved():
            return f"Message de l'étape {fact.step_id} validé par {fact.approved_by}."
        case ApprovalRefused():
            return f"Validation refusée pour l'étape {fact.step_id} ({fact.by}) : {fact.reason}."
        case DeliveryAttempted():
            provider = f", réf. fournisseur {fact.provider_id}" if fact.provider_id else ""
            reason = f" — {fact.reason}" if fact.reason else ""
            return (
                f"{_upper_first(_channel(fact.channel))} vers "
                f"{_who(fact.contact_id, fact.role, fact.commune)}, essai {fact.attempt} : "
                f"{OUTCOME_LABELS[fact.outcome]}{provider}{reason}."
            )
        case DeliveryReported():
            state = "remis" if fact.delivered else f"non remis ({fact.reason or 'sans motif'})"
            channel = _channel(fact.channel)
            return f"Accusé du fournisseur ({channel}) pour {fact.contact_id} : {state}."
        case AcknowledgementReceived():
            eta = f", arrivée prévue dans {fact.eta_minutes} min" if fact.eta_minutes else ""
            untrained = (
                fact.role in {Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL} and not fact.trained
            )
            trained = " — agent non formé : non compté dans le quorum" if untrained else ""
            return (
                f"Réception confirmée par {_who(fact.contact_id, fact.role, fact.commune)} "
                f"({_channel(fact.channel)}){eta}{trained}."
            )
        case CiavNumberSet():
            return f"Numéro de la CIAV enregistré : {fact.number}."
        case CipActivated():
            return f"Activation de la CIP ordonnée (T0 CIP), numéro unique {fact.number}."
        case CipClosed():
            return "Fermeture de la CIP ordonnée : le numéro unique reprend sa configuration."
        case CipCallEnded():
            return f"Appel au numéro unique ({fact.call_id}) : {_CIP_OUTCOMES[fact.outcome]}" + (
                f", attente {fact.waited_seconds:.0f} s"
                + (f", pris par {fact.agent_id}" if fact.agent_id else "")
                + "."
            )
        case InjectPlayed():
            rumour = " (rumeur)" if fact.rumour else ""
            return f"EXERCICE — injection {fact.inject_id}{rumour} : {fact.text}"
        case MediaRequestReceived():
            simulated = "simulée " if fact.simulated else ""
            return (
                f"Sollicitation presse {simulated}{fact.request_id} ({_MEDIA_KINDS[fact.kind]}, "
                f"{fact.outlet}) : {fact.question}"
            )
        case MediaRequestAssigned():
            return f"Sollicitation presse {fact.request_id} confiée à {fact.assignee}."
        case MediaRequestAnswered():
            return f"Sollicitation presse {fact.request_id} : première réponse donnée."
        case LessonsRecorded():
            return (
                "Enseignements et actions correctives du retour d'expérience mis à jour "
                f"({len(fact.actions)} action(s))."
            )
        case WarningRaised():
            return f"Alerte : {fact.message}"
        case ComplianceCheckpoint():
            label = "Bilan de conformité à T0+60" if fact.final else f"Point à T0+{fact.minutes}"
            risky = [v.engagement for v in fact.verdicts if v.status.value in {"at_risk", "missed"}]
            tail = f" ; à risque ou manqués : {', '.join(risky)}" if risky else " ; rien à signaler"
            return (
                f"{label} : "
                + ", ".join(f"{v.engagement} {v.status.label}" for v in fact.verdicts)
                + tail
                + "."
            )
        case NoteAdded():
            return fact.text
        case ActivationConfirmed():
            what = (
                f"autre événement que {fact.related_crisis}, sous la même référence SYNERGI"
                if fact.rule == "autre_evenement"
                else "temps 0 plus ancien que la limite fixée"
            )
            return f"Activation confirmée par le {fact.authority.label} ({what}) : {fact.reason}"
        case T0Rectified():
            return (
                f"Temps 0 rectifié par le {fact.authority.label} : {_hm(fact.previous, tz)} → "
                f"{_hm(fact.t0, tz)} ; motif : {fact.reason}. La conformité et les rapports "
                "comptent désormais depuis le temps 0 rectifié."
            )
        case CrisisClosed():
            return "Clôture de l'événement." + (f" {fact.reason}" if fact.reason else "")
    raise TypeError(f"unknown fact {type(fact).__name__}")  # pragma: no cover

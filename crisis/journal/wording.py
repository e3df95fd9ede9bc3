"""The French wording of the main courante: one sentence per fact, one small function per kind.

Contacts by id, never by number or address; times in the prefecture's zone and in UTC
(crisis.timefmt.audit). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any

from channels.base import ChannelName
from contacts.model import Role
from crisis import timefmt
from crisis.model import (
    AcknowledgementReceived,
    ActivationConfirmed,
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

__all__ = ["OUTCOME_LABELS", "as_shown", "describe", "shown"]

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


def describe(fact: Fact, tz: tzinfo) -> str:
    """One French sentence for the main courante; contacts by id, never by number or address;
    times in the prefecture's zone `tz` and in UTC (crisis.timefmt.audit)."""
    wording = _WORDINGS.get(type(fact))
    if wording is None:  # pragma: no cover - every kind of fact has its row below
        raise TypeError(f"unknown fact {type(fact).__name__}")
    return wording(fact, tz)


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


# --- helpers -----------------------------------------------------------------------------------


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


# --- activation, steps and messages -------------------------------------------------------------


def _cod_activated(fact: CodActivated, tz: tzinfo) -> str:
    mode = "EXERCICE — " if fact.mode.value == "exercice" else ""
    return (
        f"{mode}Activation du COD ({fact.kind.label}) enregistrée : "
        f"temps 0 = {_hm(fact.t0, tz)}, référence SYNERGI {fact.synergi_ref}, "
        f"{len(fact.communes)} commune(s) concernée(s), "
        f"playbook « {fact.playbook_title} » v{fact.playbook_version} figé "
        f"({len(fact.steps)} étapes)."
    )


def _step_triggered(fact: StepTriggered, tz: tzinfo) -> str:
    late = (
        f" EN RETARD de {fact.late_seconds / 60:.1f} min (échéance {_hm(fact.due_at, tz)})."
        if fact.late_seconds > 0
        else ""
    )
    held = f" Attente préalable : {fact.held_seconds / 60:.1f} min." if fact.held_seconds else ""
    return f"Étape « {fact.title} » ({fact.engagement}) déclenchée.{late}{held}"


def _messages_queued(fact: MessagesQueued, tz: tzinfo) -> str:
    if fact.escalation:
        who = ", ".join(f"{r.contact_id} (appel n° {r.attempt})" for r in fact.recipients[:10])
        more = " …" if len(fact.recipients) > 10 else ""
        return (
            f"Étape {fact.step_id} : personne jointe pas encore, appel suivant par "
            f"{_channel(fact.channel)} : {who}{more}."
        )
    return (
        f"Étape {fact.step_id} : {len(fact.recipients)} message(s) par "
        f"{_channel(fact.channel)} mis en file d'envoi (version {fact.message_version})."
    )


def _chain_ended(fact: ChainEnded, tz: tzinfo) -> str:
    where = fact.label or (f"commune {fact.commune}" if fact.commune else fact.group)
    return (
        f"Étape {fact.step_id} : {where} — NON JOINT après {len(fact.attempts)} appel(s) "
        f"({', '.join(f'{r.contact_id} n° {r.attempt}' for r in fact.attempts[:12])}"
        f"{' …' if len(fact.attempts) > 12 else ''}) : {fact.reason}."
    )


def _step_held(fact: StepHeld, tz: tzinfo) -> str:
    return f"Étape {fact.step_id} en attente : {fact.reason}."


def _step_skipped(fact: StepSkipped, tz: tzinfo) -> str:
    since = f" (depuis le {_hm(fact.since, tz)})" if fact.since is not None else ""
    return (
        f"Étape « {fact.title} » ({fact.engagement}) sans objet : {fact.reason}{since} ; "
        "elle n'est pas déclenchée."
    )


def _approval_requested(fact: ApprovalRequested, tz: tzinfo) -> str:
    return f"Message de l'étape {fact.step_id} à valider (rédigé par {fact.drafted_by})."


def _message_drafted(fact: MessageDrafted, tz: tzinfo) -> str:
    return (
        f"Message de l'étape {fact.step_id} rédigé par {fact.drafted_by} ; "
        "validation attendue d'une autre personne."
    )


def _message_approved(fact: MessageApproved, tz: tzinfo) -> str:
    return f"Message de l'étape {fact.step_id} validé par {fact.approved_by}."


def _approval_refused(fact: ApprovalRefused, tz: tzinfo) -> str:
    return f"Validation refusée pour l'étape {fact.step_id} ({fact.by}) : {fact.reason}."


# --- deliveries and acknowledgements ------------------------------------------------------------


def _delivery_attempted(fact: DeliveryAttempted, tz: tzinfo) -> str:
    provider = f", réf. fournisseur {fact.provider_id}" if fact.provider_id else ""
    reason = f" — {fact.reason}" if fact.reason else ""
    return (
        f"{_upper_first(_channel(fact.channel))} vers "
        f"{_who(fact.contact_id, fact.role, fact.commune)}, essai {fact.attempt} : "
        f"{OUTCOME_LABELS[fact.outcome]}{provider}{reason}."
    )


def _delivery_reported(fact: DeliveryReported, tz: tzinfo) -> str:
    state = "remis" if fact.delivered else f"non remis ({fact.reason or 'sans motif'})"
    channel = _channel(fact.channel)
    return f"Accusé du fournisseur ({channel}) pour {fact.contact_id} : {state}."


def _acknowledgement_received(fact: AcknowledgementReceived, tz: tzinfo) -> str:
    eta = f", arrivée prévue dans {fact.eta_minutes} min" if fact.eta_minutes else ""
    untrained = fact.role in {Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL} and not fact.trained
    trained = " — agent non formé : non compté dans le quorum" if untrained else ""
    return (
        f"Réception confirmée par {_who(fact.contact_id, fact.role, fact.commune)} "
        f"({_channel(fact.channel)}){eta}{trained}."
    )


# --- CIP, CIAV, exercise and press ----------------------------------------------------------------


def _ciav_number_set(fact: CiavNumberSet, tz: tzinfo) -> str:
    return f"Numéro de la CIAV enregistré : {fact.number}."


def _cip_activated(fact: CipActivated, tz: tzinfo) -> str:
    return f"Activation de la CIP ordonnée (T0 CIP), numéro unique {fact.number}."


def _cip_closed(fact: CipClosed, tz: tzinfo) -> str:
    return "Fermeture de la CIP ordonnée : le numéro unique reprend sa configuration."


def _cip_call_ended(fact: CipCallEnded, tz: tzinfo) -> str:
    return f"Appel au numéro unique ({fact.call_id}) : {_CIP_OUTCOMES[fact.outcome]}" + (
        f", attente {fact.waited_seconds:.0f} s"
        + (f", pris par {fact.agent_id}" if fact.agent_id else "")
        + "."
    )


def _inject_played(fact: InjectPlayed, tz: tzinfo) -> str:
    rumour = " (rumeur)" if fact.rumour else ""
    return f"EXERCICE — injection {fact.inject_id}{rumour} : {fact.text}"


def _media_request_received(fact: MediaRequestReceived, tz: tzinfo) -> str:
    simulated = "simulée " if fact.simulated else ""
    return (
        f"Sollicitation presse {simulated}{fact.request_id} ({_MEDIA_KINDS[fact.kind]}, "
        f"{fact.outlet}) : {fact.question}"
    )


def _media_request_assigned(fact: MediaRequestAssigned, tz: tzinfo) -> str:
    return f"Sollicitation presse {fact.request_id} confiée à {fact.assignee}."


def _media_request_answered(fact: MediaRequestAnswered, tz: tzinfo) -> str:
    return f"Sollicitation presse {fact.request_id} : première réponse donnée."


# --- records, checkpoints, authority and closing ------------------------------------------------


def _lessons_recorded(fact: LessonsRecorded, tz: tzinfo) -> str:
    return (
        "Enseignements et actions correctives du retour d'expérience mis à jour "
        f"({len(fact.actions)} action(s))."
    )


def _warning_raised(fact: WarningRaised, tz: tzinfo) -> str:
    return f"Alerte : {fact.message}"


def _compliance_checkpoint(fact: ComplianceCheckpoint, tz: tzinfo) -> str:
    label = "Bilan de conformité à T0+60" if fact.final else f"Point à T0+{fact.minutes}"
    risky = [v.engagement for v in fact.verdicts if v.status.value in {"at_risk", "missed"}]
    tail = f" ; à risque ou manqués : {', '.join(risky)}" if risky else " ; rien à signaler"
    return (
        f"{label} : "
        + ", ".join(f"{v.engagement} {v.status.label}" for v in fact.verdicts)
        + tail
        + "."
    )


def _note_added(fact: NoteAdded, tz: tzinfo) -> str:
    return fact.text


def _activation_confirmed(fact: ActivationConfirmed, tz: tzinfo) -> str:
    what = (
        f"autre événement que {fact.related_crisis}, sous la même référence SYNERGI"
        if fact.rule == "autre_evenement"
        else "temps 0 plus ancien que la limite fixée"
    )
    return f"Activation confirmée par le {fact.authority.label} ({what}) : {fact.reason}"


def _t0_rectified(fact: T0Rectified, tz: tzinfo) -> str:
    return (
        f"Temps 0 rectifié par le {fact.authority.label} : {_hm(fact.previous, tz)} → "
        f"{_hm(fact.t0, tz)} ; motif : {fact.reason}. La conformité et les rapports "
        "comptent désormais depuis le temps 0 rectifié."
    )


def _crisis_closed(fact: CrisisClosed, tz: tzinfo) -> str:
    return "Clôture de l'événement." + (f" {fact.reason}" if fact.reason else "")


# One row per kind of fact: a new fact is one function above and one row here.
_WORDINGS: dict[type[Any], Callable[[Any, tzinfo], str]] = {
    CodActivated: _cod_activated,
    StepTriggered: _step_triggered,
    MessagesQueued: _messages_queued,
    ChainEnded: _chain_ended,
    StepHeld: _step_held,
    StepSkipped: _step_skipped,
    ApprovalRequested: _approval_requested,
    MessageDrafted: _message_drafted,
    MessageApproved: _message_approved,
    ApprovalRefused: _approval_refused,
    DeliveryAttempted: _delivery_attempted,
    DeliveryReported: _delivery_reported,
    AcknowledgementReceived: _acknowledgement_received,
    CiavNumberSet: _ciav_number_set,
    CipActivated: _cip_activated,
    CipClosed: _cip_closed,
    CipCallEnded: _cip_call_ended,
    InjectPlayed: _inject_played,
    MediaRequestReceived: _media_request_received,
    MediaRequestAssigned: _media_request_assigned,
    MediaRequestAnswered: _media_request_answered,
    LessonsRecorded: _lessons_recorded,
    WarningRaised: _warning_raised,
    ComplianceCheckpoint: _compliance_checkpoint,
    NoteAdded: _note_added,
    ActivationConfirmed: _activation_confirmed,
    T0Rectified: _t0_rectified,
    CrisisClosed: _crisis_closed,
}

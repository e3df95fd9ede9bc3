"""Stimuli the engine only checks and journals: notes, records, the CIAV number, the closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crisis import inputs
from crisis.engine.state import CrisisState, Decision, Refused, public_numbers, typed
from crisis.engine.stimuli import Close, Note, Record, SetCiavNumber
from crisis.model import (
    CancelPending,
    CiavNumberSet,
    CipCallEnded,
    Crisis,
    CrisisClosed,
    Fact,
    InjectPlayed,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    Mode,
    NoteAdded,
)
from playbooks.kinds import kind_row


def _check_recordable(crisis: Crisis, fact: Fact) -> None:
    """Facts only an exercise may have, and facts that are not plain records."""
    exercise = crisis.mode == Mode.EXERCICE
    if isinstance(fact, InjectPlayed) and not exercise:
        raise Refused("une injection de scénario ne concerne qu'un exercice")
    if isinstance(fact, MediaRequestReceived) and fact.simulated and not exercise:
        raise Refused("une sollicitation presse simulée ne concerne qu'un exercice")
    if not isinstance(
        fact,
        InjectPlayed
        | MediaRequestReceived
        | MediaRequestAssigned
        | MediaRequestAnswered
        | CipCallEnded
        | LessonsRecorded,
    ):
        raise Refused(f"fait « {fact.type} » : il ne s'enregistre pas directement")
    public = public_numbers(crisis)
    if isinstance(fact, MediaRequestAssigned):
        typed(lambda: inputs.actor_name(fact.assignee, field="attribution"))
    elif isinstance(fact, MediaRequestAnswered):
        _check_optional_text(
            fact.answer, "réponse à la sollicitation", inputs.MEDIA_ANSWER_MAX, public
        )
    elif isinstance(fact, LessonsRecorded):
        _check_optional_text(fact.text, "enseignements", inputs.LESSONS_MAX, public)


def _check_optional_text(text: str, field: str, max_len: int, public: tuple[str, ...]) -> None:
    """A recorded fact's text (may be empty), checked as any text of the main courante."""
    typed(lambda: inputs.journal_text(text, field, max_len, required=False, allowed_numbers=public))


def note(crisis: Crisis, order: Note, decision: Decision) -> None:
    """A free note, checked as any text of the main courante (no personal number)."""
    text = typed(
        lambda: inputs.journal_text(
            order.text, "note", inputs.NOTE_MAX, allowed_numbers=public_numbers(crisis)
        )
    )
    decision.fact(NoteAdded(text=text), order.actor)


def record(crisis: Crisis, order: Record, decision: Decision) -> None:
    """Facts recorded as they are, once checked."""
    for fact in order.facts:
        _check_recordable(crisis, fact)
        decision.fact(fact, order.actor)


def close(crisis: Crisis, order: Close, now: datetime, decision: Decision) -> None:
    """The crisis closed: queued sends stop."""
    reason = typed(
        lambda: inputs.journal_text(
            order.reason,
            "motif de clôture",
            inputs.CLOSE_REASON_MAX,
            required=False,
            allowed_numbers=public_numbers(crisis),
        )
    )
    decision.fact(CrisisClosed(reason=reason), order.actor)
    decision.intents.append(CancelPending(reason="événement clos"))
    decision.crisis_updates["closed_at"] = now


def set_ciav_number(state: CrisisState, order: SetCiavNumber, decision: Decision) -> CrisisState:
    """The CIAV number, which an attentat's steps relay once the ministry gives it."""
    crisis = state.crisis
    if not kind_row(crisis.kind).ciav:
        raise Refused("le numéro de la CIAV ne concerne qu'un attentat")
    decision.fact(CiavNumberSet(number=order.number), order.actor)
    decision.crisis_updates["ciav_number"] = order.number
    return replace(state, crisis=crisis.model_copy(update={"ciav_number": order.number}))

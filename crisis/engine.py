"""Pure decisions: (crisis state, stimulus, now) -> (facts, intents, step changes, wake-ups).

The engine never sends, stores or reads the clock: the service applies its decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from channels.base import ChannelName
from channels.publication import weighted_length
from contacts.audience import resolve_audience
from contacts.model import OFFICIAL_ROLES, Contact, Directory, Role
from crisis import escalation, inputs
from crisis.activation import (
    ActivationError,
    Confirmation,
    check_confirmation,
    check_t0,
)
from crisis.model import (
    CIP_AUTHORITY,
    NOT_YET,
    SYSTEM,
    AcknowledgementReceived,
    Actor,
    ApprovalRefused,
    ApprovalRequested,
    Authority,
    CancelPending,
    ChainEnded,
    CiavNumberSet,
    CipActivated,
    CipCallEnded,
    CipClosed,
    Crisis,
    CrisisClosed,
    DraftTexts,
    Fact,
    InjectPlayed,
    Intent,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    MessageApproved,
    MessageDrafted,
    MessagesQueued,
    Mode,
    NoteAdded,
    RecipientRef,
    SendMessage,
    StepHeld,
    StepSkipped,
    StepState,
    StepStatus,
    StepTriggered,
    T0Rectified,
    WarningRaised,
)
from crisis.rendering import RenderedMessage, RenderError, render_message, render_text
from playbooks.model import (
    Action,
    Approval,
    Engagement,
    EventKind,
    MessageTemplate,
    PlannedStep,
    Playbook,
    Step,
)

CHECKPOINTS = (30, 45, 60)
X_LIMIT = 280  # characters of a post on X: the short text of a step published on X
DRAFT_MAX_CHARS = inputs.DRAFT_TEXT_MAX  # per text of a draft: far above any real message
DRAFT_LABELS = {  # French names of a draft's parts, in refusals and on the form
    "subject": "objet",
    "short": "texte court",
    "voice": "message vocal",
    "intro": "introduction",
    "closing": "conclusion",
}


@dataclass(frozen=True)
class EngineConfig:
    """What decisions need beyond the crisis: wording context and public accounts."""

    prefecture: str
    timezone: ZoneInfo
    public_addresses: Mapping[ChannelName, str]
    late_grace: timedelta = timedelta(minutes=1)
    t0_max_age: timedelta = timedelta(hours=24)  # an older T0 needs the préfet's confirmation


@dataclass(frozen=True)
class CrisisState:
    """Everything the engine knows of a crisis when a stimulus arrives."""

    crisis: Crisis
    steps: tuple[StepState, ...]
    acknowledged: Mapping[str, str | None]  # contact id -> commune
    checkpoints_done: frozenset[int] = frozenset()
    attempts: tuple[escalation.Attempt, ...] = ()  # calls of escalating steps (voice rows)
    chains_ended: frozenset[tuple[str, str]] = frozenset()  # (step id, group key) "non joint"


# --- stimuli ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """Time passed: run what fell due."""


@dataclass(frozen=True)
class Acknowledge:
    """A contact confirmed reception."""

    contact_id: str
    actor: Actor
    channel: ChannelName | None = None
    outbox_key: str | None = None
    step_id: str | None = None
    eta_minutes: int | None = None


@dataclass(frozen=True)
class Approve:
    """Someone approves a step's message."""

    step_id: str
    actor: Actor


@dataclass(frozen=True)
class Draft:
    """A comms officer writes (or rewrites) a step's message before its approval."""

    step_id: str
    texts: DraftTexts
    actor: Actor


@dataclass(frozen=True)
class SetCiavNumber:
    """The cabinet records the CIAV number."""

    number: str
    actor: Actor


@dataclass(frozen=True)
class Note:
    """A free note in the main courante."""

    text: str
    actor: Actor


@dataclass(frozen=True)
class Close:
    """Close the crisis: queued sends stop."""

    actor: Actor
    reason: str = ""


@dataclass(frozen=True)
class ActivateCip:
    """The préfet ordered the CIP: T0 CIP, its numéro unique. `authority`: the account's."""

    number: str
    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class CloseCip:
    """The préfet ordered the CIP closed (the crisis may go on)."""

    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class RectifyT0:
    """The préfet (or directeur de cabinet) corrects a wrong T0. `authority`: the account's."""

    t0: datetime
    reason: str
    actor: Actor
    authority: Authority


@dataclass(frozen=True)
class Record:
    """Facts the engine only checks and journals: an exercise inject, a media request and its
    follow-up, a CIP call, the REX lessons."""

    facts: tuple[Fact, ...]
    actor: Actor


Stimulus = (
    Tick
    | Acknowledge
    | Approve
    | Draft
    | SetCiavNumber
    | Note
    | Close
    | ActivateCip
    | CloseCip
    | RectifyT0
    | Record
)
_AFTER_CLOSE = (LessonsRecorded, MediaRequestAnswered, MediaRequestAssigned, CipCallEnded)


@dataclass
class Decision:
    """What to record and do after a stimulus."""

    facts: list[tuple[Fact, Actor]] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    steps: dict[str, StepState] = field(default_factory=dict)  # changed steps
    acks: list[tuple[str, str | None]] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)
    crisis_updates: dict[str, Any] = field(default_factory=dict)
    wakeups: list[datetime] = field(default_factory=list)
    refused: str | None = None  # journaled refusal: the service raises Refused after commit

    def fact(self, fact: Fact, actor: Actor = SYSTEM) -> None:
        """Record a fact."""
        self.facts.append((fact, actor))


class Refused(ValueError):
    """A stimulus the engine will not act on (French reason for the user)."""


class InvalidStimulus(Refused):
    """Refused for what was typed (too long, empty, a phone number in a note...): the API
    answers 422 rather than 409."""


def _typed(check: Callable[[], str]) -> str:
    """The cleaned input, or the engine's refusal saying which field and why."""
    try:
        return check()
    except inputs.InvalidInput as exc:
        raise InvalidStimulus(str(exc)) from None


def _public_numbers(crisis: Crisis) -> tuple[str, ...]:
    """The crisis's own public numbers (CIP numéro unique, CIAV): not personal data."""
    return tuple(n for n in (crisis.cip_number, crisis.ciav_number) if n)


def decide(state: CrisisState, stimulus: Stimulus, now: datetime, config: EngineConfig) -> Decision:
    """The single entry point: react to one stimulus."""
    decision = Decision()
    crisis = state.crisis
    if crisis.closed_at is not None and isinstance(stimulus, RectifyT0):
        _rectify_t0(state, stimulus, now, config, decision)  # the REX counts from the right T0
        return decision
    if crisis.closed_at is not None and not isinstance(stimulus, Note):
        if isinstance(stimulus, Tick | Acknowledge):
            return decision
        # the REX is written after the event; late answers and calls are still counted
        if not (
            isinstance(stimulus, Record)
            and all(isinstance(f, _AFTER_CLOSE) for f in stimulus.facts)
        ):
            raise Refused("l'événement est clos")
    match stimulus:
        case Tick():
            pass
        case Acknowledge():
            _acknowledge(state, stimulus, decision)
        case Approve():
            state = _approve(state, stimulus, decision)
        case Draft():
            state = _draft(state, stimulus, now, config, decision)
        case SetCiavNumber():
            if crisis.kind != EventKind.ATTENTAT:
                raise Refused("le numéro de la CIAV ne concerne qu'un attentat")
            decision.fact(CiavNumberSet(number=stimulus.number), stimulus.actor)
            decision.crisis_updates["ciav_number"] = stimulus.number
            state = replace(
                state, crisis=crisis.model_copy(update={"ciav_number": stimulus.number})
            )
        case Note():
            text = _typed(
                lambda: inputs.journal_text(
                    stimulus.text, "note", inputs.NOTE_MAX, allowed_numbers=_public_numbers(crisis)
                )
            )
            decision.fact(NoteAdded(text=text), stimulus.actor)
            return decision
        case ActivateCip():
            state = _activate_cip(state, stimulus, now, decision)
        case CloseCip():
            _delegated(stimulus.authority, "la fermeture")
            if crisis.cip_number is None:
                raise Refused("la CIP n'est pas activée")
            decision.fact(CipClosed(authority=stimulus.authority), stimulus.actor)
            decision.crisis_updates["cip_number"] = None
            return decision
        case RectifyT0():
            state = _rectify_t0(state, stimulus, now, config, decision)
        case Record():
            for fact in stimulus.facts:
                _check_recordable(crisis, fact)
                decision.fact(fact, stimulus.actor)
            return decision
        case Close():
            reason = _typed(
                lambda: inputs.journal_text(
                    stimulus.reason,
                    "motif de clôture",
                    inputs.CLOSE_REASON_MAX,
                    required=False,
                    allowed_numbers=_public_numbers(crisis),
                )
            )
            decision.fact(CrisisClosed(reason=reason), stimulus.actor)
            decision.intents.append(CancelPending(reason="événement clos"))
            decision.crisis_updates["closed_at"] = now
            return decision
    _run_due_steps(state, now, config, decision)
    _escalate(state, now, config, decision)
    _checkpoints(state, now, decision)
    return decision


def _public_address(crisis: Crisis, channel: ChannelName, config: EngineConfig) -> str:
    """The account or site a public message goes to: an exercise's own when it declares one."""
    exercise = crisis.participants.public.get(channel, ()) if crisis.participants else ()
    return exercise[0] if exercise else config.public_addresses.get(channel, channel.value)


def _activate_cip(
    state: CrisisState, order: ActivateCip, now: datetime, decision: Decision
) -> CrisisState:
    """T0 CIP: the order journaled, the number kept, the announcements' clock started."""
    crisis = state.crisis
    _delegated(order.authority, "l'activation")
    if crisis.cip_number is not None:
        raise Refused(f"la CIP est déjà activée (numéro unique {crisis.cip_number})")
    decision.fact(CipActivated(number=order.number, authority=order.authority), order.actor)
    updates: dict[str, Any] = {"cip_number": order.number}
    if crisis.t0_cip is None:  # T0 CIP is the first order; a re-opening keeps it
        updates["t0_cip"] = now
    decision.crisis_updates.update(updates)
    for current in state.steps:  # the announcements' clock starts now (T0 CIP)
        planned = crisis.plan.step(current.step_id).step
        if planned.action == Action.ANNOUNCE_CIP and current.status != StepStatus.DONE:
            decision.steps[current.step_id] = current.model_copy(
                update={"due_at": now + planned.offset}
            )
    return replace(state, crisis=crisis.model_copy(update=updates))


def _rectify_t0(
    state: CrisisState, order: RectifyT0, now: datetime, config: EngineConfig, decision: Decision
) -> CrisisState:
    """A wrong T0 corrected: the steps not yet due move with it, and the checkpoints are judged
    again from the rectified T0 (the earlier ones stay in the journal)."""
    crisis = state.crisis
    reason = order.reason.strip()
    go = Confirmation(authority=order.authority, reason=reason, old_t0=True)
    try:
        check_confirmation(go, "rectifier le temps 0")
        check_t0(order.t0, now, config.t0_max_age, config.timezone, go)
    except ActivationError as exc:
        raise Refused(str(exc)) from None
    if order.t0 == crisis.t0:
        raise Refused("ce temps 0 est déjà celui de l'événement : rien à rectifier")
    decision.fact(
        T0Rectified(previous=crisis.t0, t0=order.t0, reason=reason, authority=order.authority),
        order.actor,
    )
    decision.crisis_updates.update({"t0": order.t0, "checkpoints_done": []})
    if crisis.closed_at is not None:
        return state
    shift = order.t0 - crisis.t0
    for current in state.steps:
        if current.status == StepStatus.PLANNED and current.due_at != NOT_YET:
            decision.steps[current.step_id] = current.model_copy(
                update={"due_at": current.due_at + shift}
            )
    return replace(
        state,
        crisis=crisis.model_copy(update={"t0": order.t0}),
        steps=tuple(decision.steps.get(s.step_id, s) for s in state.steps),
        checkpoints_done=frozenset(),
    )


def initial_due(planned: PlannedStep) -> datetime:
    """A step's due time when the crisis is recorded: the planned one, except for the CIP's
    announcements, which fall due only once the préfet orders the CIP (from T0 CIP)."""
    return NOT_YET if planned.step.action == Action.ANNOUNCE_CIP else planned.due_at


def _delegated(authority: Authority, what: str) -> None:
    if authority.rank < CIP_AUTHORITY.rank:
        raise Refused(
            f"{what} de la CIP est un ordre du préfet : seul le directeur de cabinet ou le "
            f"préfet peut l'enregistrer (autorité de votre compte : {authority.label})"
        )


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
    public = _public_numbers(crisis)
    if isinstance(fact, MediaRequestAssigned):
        _typed(lambda: inputs.actor_name(fact.assignee, field="attribution"))
    elif isinstance(fact, MediaRequestAnswered):
        _typed(
            lambda: inputs.journal_text(
                fact.answer,
                "réponse à la sollicitation",
                inputs.MEDIA_ANSWER_MAX,
                required=False,
                allowed_numbers=public,
            )
        )
    elif isinstance(fact, LessonsRecorded):
        _typed(
            lambda: inputs.journal_text(
                fact.text,
                "enseignements",
                inputs.LESSONS_MAX,
                required=False,
                allowed_numbers=public,
            )
        )


# --- acknowledgements and approvals ------------------------------------------------------------


def _acknowledge(state: CrisisState, ack: Acknowledge, decision: Decision) -> None:
    if ack.contact_id in state.acknowledged:
        return  # one acknowledgement per contact is the fact; repeats change nothing
    contact = next((c for c in state.crisis.roster if c.id == ack.contact_id), None)
    if contact is None:
        raise Refused(f"le contact {ack.contact_id} n'est pas destinataire de cet événement")
    decision.fact(
        AcknowledgementReceived(
            contact_id=contact.id,
            role=contact.role,
            commune=contact.commune,
            trained=contact.trained,
            channel=ack.channel,
            outbox_key=ack.outbox_key,
            step_id=ack.step_id,
            eta_minutes=ack.eta_minutes,
        ),
        ack.actor,
    )
    commune = contact.commune if contact.role in OFFICIAL_ROLES else None
    decision.acks.append((contact.id, commune))
    if commune is not None:
        decision.intents.append(
            CancelPending(
                reason="commune jointe : un élu a confirmé la réception",
                commune=commune,
                engagement=Engagement.E48_1,
            )
        )
    else:
        decision.intents.append(
            CancelPending(reason="réception déjà confirmée", contact_id=contact.id)
        )


def _approve(state: CrisisState, approve: Approve, decision: Decision) -> CrisisState:
    try:
        planned = state.crisis.plan.step(approve.step_id)
    except KeyError:
        raise Refused(f"étape inconnue : {approve.step_id}") from None
    current = next(s for s in state.steps if s.step_id == approve.step_id)
    if planned.step.approval != Approval.REQUIRED:
        raise Refused(f"l'étape {approve.step_id} ne demande pas de validation")
    if current.approved_by:
        return state  # already approved: approving twice is one approval
    drafter = current.drafted_by or _drafter(planned.step)
    if approve.actor.name.strip().casefold() == drafter.strip().casefold():
        reason = "la validation doit venir d'une autre personne que le rédacteur (double regard)"
        decision.fact(
            ApprovalRefused(step_id=approve.step_id, by=approve.actor.name, reason=reason),
            approve.actor,
        )
        decision.refused = reason
        return state
    decision.fact(
        MessageApproved(step_id=approve.step_id, approved_by=approve.actor.name), approve.actor
    )
    updated = current.model_copy(update={"approved_by": approve.actor.name, "drafted_by": drafter})
    decision.steps[updated.step_id] = updated
    steps = tuple(updated if s.step_id == updated.step_id else s for s in state.steps)
    return replace(state, steps=steps)


def _drafter(step: Step) -> str:
    return f"modèle « {step.template} »"


def template_for(crisis: Crisis, step: Step) -> MessageTemplate:
    """The message a step sends: its draft when someone wrote one, else the playbook's template
    (KeyError when the step names no template, or one the plan lacks)."""
    if step.id in crisis.drafts:
        return crisis.drafts[step.id]
    if step.template is None:
        raise KeyError(step.id)
    return crisis.plan.templates[step.template]


def draft_refusal(crisis: Crisis, step: Step, current: StepState) -> str:
    """Why this step's message cannot be written now (French), or "" when it can: only a
    message awaiting an approval still to come (any time before it leaves)."""
    if crisis.closed_at is not None:
        return "l'événement est clos"
    if step.approval == Approval.PRE_APPROVED:
        return (
            f"l'étape {step.id} envoie un modèle pré-approuvé par le playbook : il ne se modifie "
            "pas depuis le tableau de bord"
        )
    if step.approval != Approval.REQUIRED or step.template is None:
        return f"l'étape {step.id} n'envoie pas de message soumis à validation"
    if current.status == StepStatus.DONE:
        return f"le message de l'étape {step.id} est déjà parti"
    if current.approved_by:
        return (
            f"le message de l'étape {step.id} est déjà approuvé ({current.approved_by}) : il part"
        )
    return ""


def _draft(
    state: CrisisState, draft: Draft, now: datetime, config: EngineConfig, decision: Decision
) -> CrisisState:
    """Check a draft (the step awaits an approval still to come; every text composes with the
    crisis's context, within the channels' limits), then make it the step's message."""
    crisis = state.crisis
    try:
        step = crisis.plan.step(draft.step_id).step
    except KeyError:
        raise Refused(f"étape inconnue : {draft.step_id}") from None
    current = next(s for s in state.steps if s.step_id == draft.step_id)
    refusal = draft_refusal(crisis, step, current)
    if refusal:
        raise Refused(refusal)
    texts = _clean(draft.texts)
    name = f"{step.template} (rédaction)"
    rendered = _composed(texts, name, message_context(crisis, None, now, config))
    for field_name in ("subject", "short", "voice"):
        if not getattr(rendered, field_name):
            raise Refused(f"{DRAFT_LABELS[field_name]} : le texte est vide")
    if _discloses_contacts(crisis, rendered):
        raise Refused(
            "le texte contient les coordonnées d'une personne de l'annuaire (numéro ou adresse "
            "électronique) : elles ne se publient pas"
        )
    length = weighted_length(rendered.short)  # as X counts (emoji 2, links 23)
    if ChannelName.X in step.channels and length > X_LIMIT:
        raise Refused(
            f"texte court : {length} caractères, {X_LIMIT} au plus pour X : raccourcissez-le "
            "(il part aussi par SMS et sur l'application)"
        )
    decision.fact(
        MessageDrafted(step_id=step.id, drafted_by=draft.actor.name, texts=texts), draft.actor
    )
    drafts = {**crisis.drafts, step.id: texts.template(name)}
    decision.crisis_updates["drafts"] = drafts
    updated = current.model_copy(update={"drafted_by": draft.actor.name, "approved_by": ""})
    decision.steps[step.id] = updated
    steps = tuple(updated if s.step_id == step.id else s for s in state.steps)
    return replace(state, crisis=crisis.model_copy(update={"drafts": drafts}), steps=steps)


def _clean(texts: DraftTexts) -> DraftTexts:
    """The texts trimmed, empty sections dropped, none too long."""
    sections = {s: t.strip() for s, t in texts.sections.items() if t.strip()}
    cleaned = DraftTexts(
        subject=texts.subject.strip(),
        short=texts.short.strip(),
        voice=texts.voice.strip(),
        intro=texts.intro.strip(),
        sections=sections,
        closing=texts.closing.strip(),
    )
    parts = [(DRAFT_LABELS[f], getattr(cleaned, f)) for f in DRAFT_LABELS]
    parts += [(f"rubrique « {s.heading} »", t) for s, t in sections.items()]
    for label, text in parts:
        if len(text) > DRAFT_MAX_CHARS:
            raise Refused(f"{label} : {len(text)} caractères, {DRAFT_MAX_CHARS} au plus")
    return cleaned


def _discloses_contacts(crisis: Crisis, rendered: RenderedMessage) -> bool:
    """Whether a phone number or address of the directory would be published (typed, or read
    through a placeholder such as the crisis's roster)."""
    text = "\n".join((rendered.subject, rendered.short, rendered.voice, rendered.long))
    phones = {v for c in crisis.roster for v in (c.mobile, c.landline) if v}
    if phones & inputs.phone_numbers(text):  # any written form: 06 39 98 00 01, +33 6...
        return True
    emails = {c.email.casefold() for c in crisis.roster if c.email}
    folded = text.casefold()
    return any(e in folded for e in emails) or any(p in text for p in phones)


def _composed(texts: DraftTexts, name: str, context: Mapping[str, Any]) -> RenderedMessage:
    """The draft rendered as the channels would carry it; a text that does not compose is
    refused, naming its part and the placeholders available."""
    parts: list[tuple[str, str]] = [(DRAFT_LABELS[f], getattr(texts, f)) for f in DRAFT_LABELS]
    parts += [(f"rubrique « {s.heading} »", t) for s, t in texts.sections.items()]
    for label, source in parts:
        try:
            render_text(source, context, where=label)
        except RenderError as exc:
            detail = exc.__cause__ or exc  # the template engine's own words
            raise Refused(
                f"{label} : texte impossible à composer ({detail}) ; champs disponibles : "
                + ", ".join(sorted(context))
            ) from None
    return render_message(texts.template(name), context)


# --- steps -------------------------------------------------------------------------------------


def _run_due_steps(
    state: CrisisState, now: datetime, config: EngineConfig, decision: Decision
) -> None:
    crisis = state.crisis
    done = {s.step_id for s in state.steps if s.status == StepStatus.DONE}
    for current in (decision.steps.get(s.step_id, s) for s in state.steps):
        if current.status == StepStatus.DONE:
            continue
        planned = crisis.plan.step(current.step_id)
        if current.due_at > now:
            if current.due_at != NOT_YET:
                decision.wakeups.append(current.due_at)
            continue
        step = planned.step
        achieved = purpose_achieved(crisis, step)
        if achieved is not None:  # e.g. the reminder to propose the CIP once it is ordered
            _skip(current, step, achieved, decision)
            done.add(step.id)
            continue
        waiting = [d for d in step.depends_on if d not in done]
        if waiting:
            _hold(current, f"attend l'étape {', '.join(waiting)}", now, decision)
            continue
        if step.action == Action.RELAY_CIAV and not crisis.ciav_number:
            _hold(
                current, "numéro de la CIAV non encore communiqué par le ministère", now, decision
            )
            continue
        if step.approval == Approval.REQUIRED and not current.approved_by:
            if current.status != StepStatus.APPROVAL:
                # a message drafted before the step fell due keeps its human drafter
                drafter = current.drafted_by or _drafter(step)
                decision.fact(ApprovalRequested(step_id=step.id, drafted_by=drafter))
                decision.steps[step.id] = current.model_copy(
                    update={
                        "status": StepStatus.APPROVAL,
                        "hold_reason": "validation attendue",
                        "held_since": current.held_since or now,
                        "drafted_by": drafter,
                    }
                )
            continue
        try:
            _trigger(state, planned, current, now, config, decision)
        except RenderError as exc:
            _hold(
                current,
                f"message impossible à composer ({exc}) : corriger le modèle",
                now,
                decision,
            )
            continue
        done.add(step.id)


def purpose_achieved(crisis: Crisis, step: Step) -> tuple[str, datetime | None] | None:
    """Why a due step has nothing left to do (French) and since when, or None when it has.

    The one rule for stale steps: a step whose purpose is already achieved is not played.
    Today that is the reminder to propose the CIP to the préfet (`activate_cip`) once the
    préfet ordered it; a step that sends messages always has something to do.
    """
    if step.action == Action.ACTIVATE_CIP and crisis.t0_cip is not None:
        return "la CIP est déjà activée sur ordre du préfet", crisis.t0_cip
    return None


def _skip(
    current: StepState,
    step: Step,
    achieved: tuple[str, datetime | None],
    decision: Decision,
) -> None:
    """The step done without acting, and journaled « sans objet » (never counted as missed)."""
    reason, since = achieved
    decision.fact(
        StepSkipped(
            step_id=step.id,
            title=step.title,
            engagement=step.engagement,
            action=step.action,
            due_at=current.due_at,
            reason=reason,
            since=since,
        )
    )
    decision.steps[step.id] = current.model_copy(
        update={"status": StepStatus.DONE, "hold_reason": f"sans objet : {reason}"}
    )


def _hold(current: StepState, reason: str, now: datetime, decision: Decision) -> None:
    if current.status == StepStatus.HELD and current.hold_reason == reason:
        return
    decision.fact(StepHeld(step_id=current.step_id, reason=reason))
    decision.steps[current.step_id] = current.model_copy(
        update={
            "status": StepStatus.HELD,
            "hold_reason": reason,
            "held_since": current.held_since or now,
        }
    )


def _trigger(
    state: CrisisState,
    planned: PlannedStep,
    current: StepState,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
) -> None:
    step = planned.step
    # rendered first: a broken template holds the step before anything is recorded
    general = (
        render_message(
            template_for(state.crisis, step), message_context(state.crisis, None, now, config)
        )
        if step.template is not None
        else None
    )
    overdue = (now - current.due_at).total_seconds()
    held = (now - current.held_since).total_seconds() if current.held_since else 0.0
    late = (
        overdue
        if current.held_since is None and overdue > config.late_grace.total_seconds()
        else 0.0
    )
    decision.fact(
        StepTriggered(
            step_id=step.id,
            title=step.title,
            engagement=step.engagement,
            action=step.action,
            due_at=current.due_at,
            late_seconds=late,
            held_seconds=held,
        )
    )
    decision.steps[step.id] = current.model_copy(
        update={"status": StepStatus.DONE, "triggered_at": now, "hold_reason": ""}
    )
    if step.action == Action.ACTIVATE_CIP:
        decision.fact(
            WarningRaised(
                code="cip",
                message="proposer au préfet l'activation de la CIP et de son numéro unique "
                "(décision préfectorale, T0 CIP).",
            )
        )
        return
    assert general is not None  # message actions always name a template (Step validator)
    _queue_messages(state, step, general, now, config, decision)


def _queue_messages(
    state: CrisisState,
    step: Step,
    general: RenderedMessage,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
) -> None:
    crisis = state.crisis
    contacts = resolve_audience(step.audience, Directory(contacts=crisis.roster), crisis.communes)
    if step.only_unreached:
        reached = {c for c in state.acknowledged.values() if c}
        contacts = tuple(c for c in contacts if c.commune not in reached)
    calls: list[tuple[Contact, int]] | None = None
    if step.escalation is not None:  # voice and SMS follow the chains: first calls only
        callable_ = [c for c in contacts if _address(c, ChannelName.VOICE) is not None]
        calls = [
            call
            for group in escalation.groups(step.action, callable_)
            for call in escalation.first_calls(group)
        ]
    _send(state, step, contacts, calls, general, now, config, decision)


def _send(
    state: CrisisState,
    step: Step,
    contacts: Sequence[Contact],
    calls: Sequence[tuple[Contact, int]] | None,
    general: RenderedMessage | None,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
    *,
    escalating: bool = False,
) -> None:
    """Queue a step's messages. `calls`: the chain's (person, attempt) for voice and SMS (an SMS
    goes with a person's first call only); None: everybody on every channel."""
    crisis = state.crisis
    assert step.template is not None  # guaranteed by the Step validator for message actions
    template = template_for(crisis, step)
    cache: dict[str | None, RenderedMessage] = {} if general is None else {None: general}

    def rendered(commune: str | None) -> RenderedMessage:
        if commune not in cache:
            cache[commune] = render_message(template, message_context(crisis, commune, now, config))
        return cache[commune]

    no_address: list[str] = []
    for channel in step.channels:
        messages: list[tuple[SendMessage, int]] = []
        if channel.is_public:
            public = _public_address(crisis, channel, config)
            messages.append((_message(crisis, step, channel, None, public, rendered(None), now), 1))
        else:
            chained = calls is not None and channel in {ChannelName.VOICE, ChannelName.SMS}
            targets: Sequence[tuple[Contact, int]] = (
                [(c, n) for c, n in (calls or ()) if channel == ChannelName.VOICE or n == 1]
                if chained
                else [(c, 1) for c in contacts]
            )
            for contact, attempt in targets:
                address = _address(contact, channel)
                if address is None:
                    if not chained or channel == ChannelName.VOICE:
                        no_address.append(f"{contact.id} ({channel.label})")
                    continue
                message = _message(
                    crisis, step, channel, contact, address, rendered(contact.commune), now
                )
                if attempt > 1:
                    key = f"{message.idempotency_key}:r{attempt}"
                    message = message.model_copy(update={"idempotency_key": key})
                messages.append((message, attempt))
        if not messages:
            continue
        decision.intents.extend(m for m, _ in messages)
        decision.fact(
            MessagesQueued(
                step_id=step.id,
                engagement=step.engagement,
                channel=channel,
                message_version=1,
                sections=rendered(None).sections,
                recipients=tuple(
                    RecipientRef(
                        outbox_key=m.idempotency_key,
                        contact_id=m.contact_id,
                        role=m.role,
                        commune=m.commune,
                        attempt=attempt,
                    )
                    for m, attempt in messages
                ),
                escalation=escalating,
            )
        )
    if no_address:
        decision.fact(
            WarningRaised(
                code="sans_adresse",
                message=f"étape {step.id} : {len(no_address)} destinataire(s) sans coordonnée "
                f"pour le canal : {', '.join(no_address[:20])}"
                + (" …" if len(no_address) > 20 else ""),
            )
        )


# --- escalation: call again until reached --------------------------------------------------------


def _escalate(state: CrisisState, now: datetime, config: EngineConfig, decision: Decision) -> None:
    crisis = state.crisis
    acknowledged = {**state.acknowledged, **dict(decision.acks)}
    by_step: dict[str, list[escalation.Attempt]] = {}
    for attempt in state.attempts:
        by_step.setdefault(attempt.step_id, []).append(attempt)
    for current in state.steps:
        planned = crisis.plan.step(current.step_id)
        step, policy = planned.step, planned.step.escalation
        if policy is None or current.status != StepStatus.DONE:
            continue  # steps triggered by this very decision have made their first calls
        contacts = resolve_audience(
            step.audience, Directory(contacts=crisis.roster), crisis.communes
        )
        callable_ = [c for c in contacts if _address(c, ChannelName.VOICE) is not None]
        ids_of = {c.id for c in callable_}
        step_attempts = by_step.get(step.id, [])
        window_end = crisis.t0 + policy.until
        plan = escalation.Next()
        for group in escalation.groups(step.action, callable_):
            if (step.id, group.key) in state.chains_ended:
                continue
            if escalation.reached(group, acknowledged, crisis.plan.quorum, {}):
                continue
            members = {c.id for c in group.chain}
            attempts = [a for a in step_attempts if a.contact_id in members & ids_of]
            escalation.next_calls(group, attempts, acknowledged, policy, window_end, now, plan)
        for group, reason, made in plan.ended:
            decision.fact(
                ChainEnded(
                    step_id=step.id,
                    engagement=step.engagement,
                    group=group.key,
                    commune=group.commune,
                    label=_group_label(crisis, group),
                    reason=reason,
                    attempts=tuple(
                        RecipientRef(
                            outbox_key="",
                            contact_id=a.contact_id,
                            role=_role_of(group, a.contact_id),
                            commune=group.commune,
                            attempt=a.attempt,
                        )
                        for a in made
                    ),
                )
            )
        if plan.calls:
            _send(state, step, (), plan.calls, None, now, config, decision, escalating=True)
        if plan.wake_at is not None:
            decision.wakeups.append(plan.wake_at)


def _group_label(crisis: Crisis, group: escalation.Group) -> str:
    if group.commune is not None:
        return f"commune de {crisis.commune_names.get(group.commune, group.commune)}"
    if group.parallel:
        return "cellule de communication d'urgence (quorum)"
    return group.chain[0].role.label if group.chain else group.key


def _role_of(group: escalation.Group, contact_id: str) -> Role | None:
    return next((c.role for c in group.chain if c.id == contact_id), None)


def _address(contact: Contact, channel: ChannelName) -> str | None:
    if channel == ChannelName.VOICE:
        return contact.mobile or contact.landline
    if channel == ChannelName.SMS:
        return contact.mobile
    if channel == ChannelName.EMAIL:
        return contact.email
    return None


def _message(
    crisis: Crisis,
    step: Step,
    channel: ChannelName,
    contact: Contact | None,
    address: str,
    text: RenderedMessage,
    now: datetime,
) -> SendMessage:
    contact_id = contact.id if contact else f"public-{channel.value}"
    body = {
        ChannelName.VOICE: text.voice,
        ChannelName.SMS: text.short,
        ChannelName.X: text.short,
        ChannelName.APP: text.short,
        ChannelName.STANDARD: text.voice,
    }.get(channel, text.long)
    rich = channel in {ChannelName.EMAIL, ChannelName.WEBSITE}
    return SendMessage(
        idempotency_key=f"{crisis.id}:{step.id}:{contact_id}:{channel.value}:v1",
        crisis_id=crisis.id,
        step_id=step.id,
        engagement=step.engagement,
        channel=channel,
        contact_id=contact_id,
        address=address,
        display_name=contact.name if contact else "",
        role=contact.role if contact else None,
        commune=contact.commune if contact else None,
        subject=text.subject,
        body=body,
        html=text.html if rich else None,
        valid_until=now + step.valid_for,
        ask_acknowledgement=step.ask_acknowledgement and contact is not None,
        exercise=crisis.mode == Mode.EXERCICE,
    )


def message_context(
    crisis: Crisis, commune: str | None, now: datetime, config: EngineConfig
) -> dict[str, Any]:
    """What message templates may read (also the dashboard's previews before approval)."""

    def local(at: datetime) -> str:
        return at.astimezone(config.timezone).strftime("%Hh%M")

    return {
        "crisis": crisis,
        "prefecture": config.prefecture,
        "t0_local": local(crisis.t0),
        "now_local": local(now),
        "communes": [crisis.commune_names.get(c, c) for c in crisis.communes],
        "commune": crisis.commune_names.get(commune, commune) if commune else None,
        "ciav_number": crisis.ciav_number,
        "cip_number": crisis.cip_number,
        "t0_cip_local": local(crisis.t0_cip) if crisis.t0_cip else None,
    }


_SAMPLE_NAMES = {"42218": "Saint-Étienne", "42187": "Roanne", "42147": "Montbrison"}


def _sample(kind: EventKind, codes: tuple[str, ...], ciav: str | None, at: datetime) -> Crisis:
    """A sample crisis for trying templates: only what messages may read (no plan, no roster)."""
    fields: dict[str, Any] = {
        "id": "EXEMPLE",
        "kind": kind,
        "mode": Mode.REEL,
        "t0": at,
        "synergi_ref": "SYNERGI-EXEMPLE",
        "communes": codes,
        "commune_names": _SAMPLE_NAMES,
        "ciav_number": ciav,
    }
    return Crisis.model_construct(**fields)


def template_problems(
    playbooks: Iterable[Playbook],
    templates: Mapping[str, MessageTemplate],
    config: EngineConfig,
    at: datetime,
) -> list[str]:
    """Render every template a playbook uses with sample crises: what would hold a step (French)."""
    problems: list[str] = []
    for playbook in playbooks:
        for step in playbook.steps:
            if step.template is None or step.template not in templates:
                continue
            for codes, ciav in ((("42218",), None), (tuple(_SAMPLE_NAMES), "01 99 00 00 01")):
                sample = _sample(playbook.kind, codes, ciav, at)
                if step.action == Action.ANNOUNCE_CIP:  # runs once the CIP has its number
                    sample = sample.model_copy(
                        update={"cip_number": "+33 4 65 71 42 42", "t0_cip": at}
                    )
                try:
                    render_message(
                        templates[step.template], message_context(sample, codes[0], at, config)
                    )
                except RenderError as exc:
                    problems.append(f"playbook {playbook.kind.value}, étape {step.id} : {exc}")
                    break
    return list(dict.fromkeys(problems))


def sms_texts(
    playbooks: Iterable[Playbook],
    templates: Mapping[str, MessageTemplate],
    config: EngineConfig,
    at: datetime,
) -> dict[str, str]:
    """The SMS text of each template a playbook sends by SMS, rendered for a sample crisis."""
    texts: dict[str, str] = {}
    for playbook in playbooks:
        sample = _sample(playbook.kind, ("42218",), "01 99 00 00 01", at)
        for step in playbook.steps:
            name = step.template
            if name is None or name not in templates or ChannelName.SMS not in step.channels:
                continue
            try:
                texts[name] = render_message(
                    templates[name], message_context(sample, "42218", at, config)
                ).short
            except RenderError:
                continue  # template_problems names it
    return texts


# --- compliance checkpoints --------------------------------------------------------------------


def _checkpoints(state: CrisisState, now: datetime, decision: Decision) -> None:
    for minutes in CHECKPOINTS:
        if minutes in state.checkpoints_done:
            continue
        at = state.crisis.t0 + timedelta(minutes=minutes)
        if now >= at:
            decision.checkpoints.append(minutes)
        else:
            decision.wakeups.append(at)

"""Drafting and approving a step's message: the four-eyes rule and the checks of a draft."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from channels.base import ChannelName
from channels.publication import weighted_length
from crisis import inputs
from crisis.engine.context import message_context
from crisis.engine.state import CrisisState, Decision, EngineConfig, Refused
from crisis.engine.stimuli import Approve, Draft
from crisis.model import (
    ApprovalRefused,
    Crisis,
    DraftTexts,
    MessageApproved,
    MessageDrafted,
    StepState,
    StepStatus,
)
from crisis.rendering import RenderedMessage, RenderError, render_message, render_text
from playbooks.model import Approval, Step

X_LIMIT = 280  # characters of a post on X: the short text of a step published on X
DRAFT_MAX_CHARS = inputs.DRAFT_TEXT_MAX  # per text of a draft: far above any real message
DRAFT_LABELS = {  # French names of a draft's parts, in refusals and on the form
    "subject": "objet",
    "short": "texte court",
    "voice": "message vocal",
    "intro": "introduction",
    "closing": "conclusion",
}


def approve_step(state: CrisisState, approve: Approve, decision: Decision) -> CrisisState:
    """A step's message approved, by someone other than its drafter (four-eyes)."""
    try:
        planned = state.crisis.plan.step(approve.step_id)
    except KeyError:
        raise Refused(f"étape inconnue : {approve.step_id}") from None
    current = next(s for s in state.steps if s.step_id == approve.step_id)
    if planned.step.approval != Approval.REQUIRED:
        raise Refused(f"l'étape {approve.step_id} ne demande pas de validation")
    if current.approved_by:
        return state  # already approved: approving twice is one approval
    drafter = current.drafted_by or template_drafter(planned.step)
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


def template_drafter(step: Step) -> str:
    """Who drafted a message nobody rewrote: the playbook's template."""
    return f"modèle « {step.template} »"


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


def draft_step(
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

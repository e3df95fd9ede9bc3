"""Due steps: held, skipped, waiting for approval, or triggered."""

from __future__ import annotations

from datetime import datetime

from crisis.engine.context import message_context, template_for
from crisis.engine.drafting import template_drafter
from crisis.engine.fanout import queue_messages
from crisis.engine.state import CrisisState, Decision, EngineConfig
from crisis.model import (
    NOT_YET,
    ApprovalRequested,
    Crisis,
    StepHeld,
    StepSkipped,
    StepState,
    StepStatus,
    StepTriggered,
    WarningRaised,
)
from crisis.rendering import RenderError, render_message
from playbooks.model import Action, Approval, PlannedStep, Step


def initial_due(planned: PlannedStep) -> datetime:
    """A step's due time when the crisis is recorded: the planned one, except for the CIP's
    announcements, which fall due only once the préfet orders the CIP (from T0 CIP)."""
    return NOT_YET if planned.step.action == Action.ANNOUNCE_CIP else planned.due_at


def run_due_steps(
    state: CrisisState, now: datetime, config: EngineConfig, decision: Decision
) -> None:
    """Every step that fell due: skipped, held, sent for approval or triggered; wake-ups for
    the later ones."""
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
                drafter = current.drafted_by or template_drafter(step)
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
    queue_messages(state, step, general, now, config, decision)

"""A wrong T0 corrected: the steps not yet due and the checkpoints move with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crisis.activation import ActivationError, Confirmation, check_confirmation, check_t0
from crisis.engine.state import CrisisState, Decision, EngineConfig, Refused
from crisis.engine.stimuli import RectifyT0
from crisis.model import NOT_YET, StepStatus, T0Rectified


def rectify_t0(
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

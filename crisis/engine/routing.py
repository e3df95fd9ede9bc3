"""decide(): the one entry point; routes a stimulus to its handler, then runs what fell due."""

from __future__ import annotations

from datetime import datetime

import crisis.engine.stimuli as kinds
from crisis.engine.acknowledgement import acknowledge
from crisis.engine.checkpoints import schedule_checkpoints
from crisis.engine.cip import activate_cip, close_cip
from crisis.engine.drafting import approve_step, draft_step
from crisis.engine.escalation import escalate
from crisis.engine.records import close, note, record, set_ciav_number
from crisis.engine.rectification import rectify_t0
from crisis.engine.state import CrisisState, Decision, EngineConfig, Refused
from crisis.engine.steps import run_due_steps


def decide(
    state: CrisisState, stimulus: kinds.Stimulus, now: datetime, config: EngineConfig
) -> Decision:
    """The single entry point: react to one stimulus."""
    decision = Decision()
    if state.crisis.closed_at is not None:
        _after_close(state, stimulus, now, config, decision)
        return decision
    if isinstance(stimulus, kinds.JournalOnly):
        _journal_only(state, stimulus, now, decision)
        return decision
    state = _change(state, stimulus, now, config, decision)
    run_due_steps(state, now, config, decision)
    escalate(state, now, config, decision)
    schedule_checkpoints(state, now, decision)
    return decision


def _after_close(
    state: CrisisState,
    stimulus: kinds.Stimulus,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
) -> None:
    """A closed crisis takes notes, the REX's late records and a rectified T0 (the REX counts
    from the right one); time and acknowledgements change nothing; the rest is refused."""
    match stimulus:
        case kinds.RectifyT0():
            rectify_t0(state, stimulus, now, config, decision)
        case kinds.Tick() | kinds.Acknowledge():
            pass
        case kinds.Note():
            note(state.crisis, stimulus, decision)
        # the REX is written after the event; late answers and calls are still counted
        case kinds.Record() if all(isinstance(f, kinds.AFTER_CLOSE) for f in stimulus.facts):
            record(state.crisis, stimulus, decision)
        case _:
            raise Refused("l'événement est clos")


def _journal_only(
    state: CrisisState,
    stimulus: kinds.JournalOnly,
    now: datetime,
    decision: Decision,
) -> None:
    """Stimuli that are journaled without running the due steps."""
    match stimulus:
        case kinds.Note():
            note(state.crisis, stimulus, decision)
        case kinds.Record():
            record(state.crisis, stimulus, decision)
        case kinds.Close():
            close(state.crisis, stimulus, now, decision)
        case kinds.CloseCip():
            close_cip(state.crisis, stimulus, decision)


def _change(
    state: CrisisState,
    stimulus: kinds.Change,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
) -> CrisisState:
    """The state the due steps run on, once the stimulus is applied."""
    match stimulus:
        case kinds.Tick():
            return state
        case kinds.Acknowledge():
            acknowledge(state, stimulus, decision)
            return state
        case kinds.Approve():
            return approve_step(state, stimulus, decision)
        case kinds.Draft():
            return draft_step(state, stimulus, now, config, decision)
        case kinds.SetCiavNumber():
            return set_ciav_number(state, stimulus, decision)
        case kinds.ActivateCip():
            return activate_cip(state, stimulus, now, decision)
        case kinds.RectifyT0():
            return rectify_t0(state, stimulus, now, config, decision)

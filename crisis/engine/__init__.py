"""Pure decisions: (crisis state, stimulus, now) -> (facts, intents, step changes, wake-ups).

The engine never sends, stores or reads the clock: the service applies its decisions.
`decide()` (routing) is the one entry point; each module holds one kind of decision.
"""

from crisis.engine.checkpoints import CHECKPOINTS
from crisis.engine.context import message_context, template_for
from crisis.engine.drafting import DRAFT_LABELS, DRAFT_MAX_CHARS, X_LIMIT, draft_refusal
from crisis.engine.routing import decide
from crisis.engine.samples import sms_texts, template_problems
from crisis.engine.state import CrisisState, Decision, EngineConfig, InvalidStimulus, Refused
from crisis.engine.steps import initial_due, purpose_achieved
from crisis.engine.stimuli import (
    Acknowledge,
    ActivateCip,
    Approve,
    Close,
    CloseCip,
    Draft,
    Note,
    Record,
    RectifyT0,
    SetCiavNumber,
    Stimulus,
    Tick,
)

__all__ = [
    "CHECKPOINTS",
    "DRAFT_LABELS",
    "DRAFT_MAX_CHARS",
    "X_LIMIT",
    "Acknowledge",
    "ActivateCip",
    "Approve",
    "Close",
    "CloseCip",
    "CrisisState",
    "Decision",
    "Draft",
    "EngineConfig",
    "InvalidStimulus",
    "Note",
    "Record",
    "RectifyT0",
    "Refused",
    "SetCiavNumber",
    "Stimulus",
    "Tick",
    "decide",
    "draft_refusal",
    "initial_due",
    "message_context",
    "purpose_achieved",
    "sms_texts",
    "template_for",
    "template_problems",
]

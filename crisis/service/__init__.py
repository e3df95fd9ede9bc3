"""Service layer: loads state, asks the engine, stores facts and intents in one transaction.

- `crisis.service.core`: the dependencies and the load -> decide -> apply path (`Core`);
- `crisis.service.activation`: T0 (`ActivationRequest`, `Activation`);
- `crisis.service.stimuli`: approvals, drafts, notes, the CIP, closing;
- `crisis.service.provider`: provider callbacks, replies, acknowledgement links;
- `crisis.service.reading`: the main courante and the CIP's reading sheet;
- `crisis.service.orchestrator`: `Orchestrator`, all of them together.
"""

from __future__ import annotations

from crisis.service.activation import Activation, ActivationRequest
from crisis.service.core import final_verdicts
from crisis.service.orchestrator import Orchestrator
from crisis.service.provider import LinkStatus

__all__ = ["Activation", "ActivationRequest", "LinkStatus", "Orchestrator", "final_verdicts"]

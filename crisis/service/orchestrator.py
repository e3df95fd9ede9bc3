"""The Orchestrator: every state change of a crisis, one unit of work each."""

from __future__ import annotations

from crisis.service.activation import Activating
from crisis.service.provider import ProviderCallbacks
from crisis.service.reading import Reading
from crisis.service.stimuli import Stimuli

__all__ = ["Orchestrator"]


class Orchestrator(Activating, Stimuli, ProviderCallbacks, Reading):
    """Every state change of a crisis goes through here, one transaction each.

    Its parts share `Core` (crisis/service/core.py): the dependencies given at construction
    and the one load -> decide -> apply path; each part is one family of stimuli.
    """

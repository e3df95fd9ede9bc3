"""The CIP's numéro unique and the switchboard's line, under their former import path: the
routes live in crisis/web/providers/cip_line.py, the calls in progress in cip_calls.py."""

from __future__ import annotations

from crisis.web.providers.cip_calls import CallTrack, CipLineState, queue_name
from crisis.web.providers.cip_line import CIP_PATH, STANDARD_PATH, CipWebhooks, cip_router

__all__ = [
    "CIP_PATH",
    "STANDARD_PATH",
    "CallTrack",
    "CipLineState",
    "CipWebhooks",
    "cip_router",
    "queue_name",
]

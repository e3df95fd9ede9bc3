"""The compliance checkpoints (T0+30, T0+45, T0+60): due ones judged, later ones armed."""

from __future__ import annotations

from datetime import datetime, timedelta

from crisis.engine.state import CrisisState, Decision

CHECKPOINTS = (30, 45, 60)


def schedule_checkpoints(state: CrisisState, now: datetime, decision: Decision) -> None:
    """Due checkpoints to judge now; a wake-up at each later one."""
    for minutes in CHECKPOINTS:
        if minutes in state.checkpoints_done:
            continue
        at = state.crisis.t0 + timedelta(minutes=minutes)
        if now >= at:
            decision.checkpoints.append(minutes)
        else:
            decision.wakeups.append(at)

"""When will each fan-out end, given the channels' rates? Warn when it passes T0+45 (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from contacts.audience import resolve_audience
from contacts.model import Directory
from crisis.model import Crisis

WARN_AFTER = timedelta(minutes=45)


def fanout_ends(crisis: Crisis, rates: Mapping[str, float]) -> list[tuple[str, str, int, datetime]]:
    """(step, channel, messages, projected end) for each non-public fan-out of the plan."""
    directory = Directory(contacts=crisis.roster)
    free_at: dict[str, datetime] = {}
    ends: list[tuple[str, str, int, datetime]] = []
    for planned in sorted(crisis.plan.steps, key=lambda p: p.due_at):
        step = planned.step
        count = len(resolve_audience(step.audience, directory, crisis.communes))
        for channel in step.channels:
            if channel.is_public or count == 0:
                continue
            rate = rates.get(channel.value, 1.0)
            start = max(planned.due_at, free_at.get(channel.value, planned.due_at))
            end = start + timedelta(seconds=count / rate)
            free_at[channel.value] = end
            ends.append((step.id, channel.value, count, end))
    return ends


def project_fanout(crisis: Crisis, rates: Mapping[str, float]) -> list[str]:
    """French warnings for fan-outs that would end after T0+45 at the configured rates."""
    limit = crisis.t0 + WARN_AFTER
    warnings = []
    for step_id, channel, count, end in fanout_ends(crisis, rates):
        if end > limit:
            minutes = (end - crisis.t0).total_seconds() / 60
            warnings.append(
                f"étape {step_id} : {count} envoi(s) par {channel} au débit configuré "
                f"({rates.get(channel, 1.0):g}/s) finiraient vers T0+{minutes:.0f} min, "
                "au-delà de T0+45 : augmenter le débit du compte ou répartir les envois"
            )
    return warnings

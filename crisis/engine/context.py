"""What a step's message is made of: its template, the placeholders it reads, its public account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.base import ChannelName
from crisis.engine.state import EngineConfig
from crisis.model import Crisis
from playbooks.model import MessageTemplate, Step


def public_address(crisis: Crisis, channel: ChannelName, config: EngineConfig) -> str:
    """The account or site a public message goes to: an exercise's own when it declares one."""
    exercise = crisis.participants.public.get(channel, ()) if crisis.participants else ()
    return exercise[0] if exercise else config.public_addresses.get(channel, channel.value)


def template_for(crisis: Crisis, step: Step) -> MessageTemplate:
    """The message a step sends: its draft when someone wrote one, else the playbook's template
    (KeyError when the step names no template, or one the plan lacks)."""
    if step.id in crisis.drafts:
        return crisis.drafts[step.id]
    if step.template is None:
        raise KeyError(step.id)
    return crisis.plan.templates[step.template]


def message_context(
    crisis: Crisis, commune: str | None, now: datetime, config: EngineConfig
) -> dict[str, Any]:
    """What message templates may read (also the dashboard's previews before approval)."""

    def local(at: datetime) -> str:
        return at.astimezone(config.timezone).strftime("%Hh%M")

    return {
        "crisis": crisis,
        "prefecture": config.prefecture,
        "t0_local": local(crisis.t0),
        "now_local": local(now),
        "communes": [crisis.commune_names.get(c, c) for c in crisis.communes],
        "commune": crisis.commune_names.get(commune, commune) if commune else None,
        "ciav_number": crisis.ciav_number,
        "cip_number": crisis.cip_number,
        "t0_cip_local": local(crisis.t0_cip) if crisis.t0_cip else None,
    }

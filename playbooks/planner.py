"""Plan a playbook at T0: absolute due times, frozen with the templates the steps use."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from playbooks.model import MessageTemplate, Plan, PlannedStep, Playbook

__all__ = ["plan"]


def plan(
    playbook: Playbook,
    templates: Mapping[str, MessageTemplate],
    t0: datetime,
    *,
    source: str,
) -> Plan:
    """Freeze the playbook at T0: what a running crisis follows, whatever later edits say.

    `source` is the playbook's raw TOML: its sha256 identifies the version planned. Pure: reads
    no clock, so the same inputs always give the same plan.
    """
    if t0.tzinfo is None or t0.utcoffset() is None:
        raise ValueError("le temps 0 doit indiquer son fuseau horaire (datetime « aware »)")
    used: dict[str, MessageTemplate] = {}
    for step in playbook.steps:
        if step.template is None or step.template in used:
            continue
        if step.template not in templates:
            raise ValueError(
                f"étape « {step.id} » : modèle de message introuvable « {step.template} »"
            )
        used[step.template] = templates[step.template]
    return Plan(
        kind=playbook.kind,
        playbook_title=playbook.title,
        playbook_version=playbook.version,
        playbook_digest=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        t0=t0,
        steps=tuple(PlannedStep(step=step, due_at=t0 + step.offset) for step in playbook.steps),
        templates=used,
        applicable_sections=playbook.applicable_sections,
        quorum=dict(playbook.quorum),
    )

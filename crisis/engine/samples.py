"""Templates tried on sample crises: what would hold a step, and the SMS texts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from channels.base import ChannelName
from crisis.engine.context import message_context
from crisis.engine.state import EngineConfig
from crisis.model import Crisis, Mode
from crisis.rendering import RenderError, render_message
from playbooks.model import Action, EventKind, MessageTemplate, Playbook

_SAMPLE_NAMES = {"42218": "Saint-Étienne", "42187": "Roanne", "42147": "Montbrison"}


def _sample(kind: EventKind, codes: tuple[str, ...], ciav: str | None, at: datetime) -> Crisis:
    """A sample crisis for trying templates: only what messages may read (no plan, no roster)."""
    fields: dict[str, Any] = {
        "id": "EXEMPLE",
        "kind": kind,
        "mode": Mode.REEL,
        "t0": at,
        "synergi_ref": "SYNERGI-EXEMPLE",
        "communes": codes,
        "commune_names": _SAMPLE_NAMES,
        "ciav_number": ciav,
    }
    return Crisis.model_construct(**fields)


def template_problems(
    playbooks: Iterable[Playbook],
    templates: Mapping[str, MessageTemplate],
    config: EngineConfig,
    at: datetime,
) -> list[str]:
    """Render every template a playbook uses with sample crises: what would hold a step (French)."""
    problems: list[str] = []
    for playbook in playbooks:
        for step in playbook.steps:
            if step.template is None or step.template not in templates:
                continue
            for codes, ciav in ((("42218",), None), (tuple(_SAMPLE_NAMES), "01 99 00 00 01")):
                sample = _sample(playbook.kind, codes, ciav, at)
                if step.action == Action.ANNOUNCE_CIP:  # runs once the CIP has its number
                    sample = sample.model_copy(
                        update={"cip_number": "+33 4 65 71 42 42", "t0_cip": at}
                    )
                try:
                    render_message(
                        templates[step.template], message_context(sample, codes[0], at, config)
                    )
                except RenderError as exc:
                    problems.append(f"playbook {playbook.kind.value}, étape {step.id} : {exc}")
                    break
    return list(dict.fromkeys(problems))


def sms_texts(
    playbooks: Iterable[Playbook],
    templates: Mapping[str, MessageTemplate],
    config: EngineConfig,
    at: datetime,
) -> dict[str, str]:
    """The SMS text of each template a playbook sends by SMS, rendered for a sample crisis."""
    texts: dict[str, str] = {}
    for playbook in playbooks:
        sample = _sample(playbook.kind, ("42218",), "01 99 00 00 01", at)
        for step in playbook.steps:
            name = step.template
            if name is None or name not in templates or ChannelName.SMS not in step.channels:
                continue
            try:
                texts[name] = render_message(
                    templates[name], message_context(sample, "42218", at, config)
                ).short
            except RenderError:
                continue  # template_problems names it
    return texts

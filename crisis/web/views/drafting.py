"""What the drafting page and the approval panel show: a step's texts, the placeholders a text
may read, and each channel's preview of the message as it would leave."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from channels.base import ChannelName
from channels.catalog import spec
from channels.preview import measure
from crisis.engine import X_LIMIT, EngineConfig, draft_refusal, message_context, template_for
from crisis.model import Crisis, DraftTexts, Mode, StepState
from crisis.rendering import RenderedMessage, RenderError, render_message
from playbooks.model import PlannedStep, Section, Step

__all__ = ["PLACEHOLDERS", "approval_item", "draft_texts", "drafting_view"]

PLACEHOLDERS = {  # what a drafted text may read (crisis.engine.message_context), in French
    "prefecture": ("{{ prefecture }}", "nom de la préfecture"),
    "t0_local": ("{{ t0_local }}", "heure du temps 0 (02h10)"),
    "now_local": ("{{ now_local }}", "heure de l'envoi"),
    "communes": ("{{ communes|join(', ') }}", "communes concernées, séparées par des virgules"),
    "commune": ("{{ commune }}", "commune du destinataire (messages aux élus ; vide au public)"),
    "ciav_number": ("{{ ciav_number }}", "numéro de la CIAV (attentat), une fois communiqué"),
    "cip_number": ("{{ cip_number }}", "numéro unique de la CIP, une fois activée"),
    "t0_cip_local": ("{{ t0_cip_local }}", "heure d'activation de la CIP"),
    "crisis": ("{{ crisis.synergi_ref }}", "référence SYNERGI de l'événement"),
}


def draft_texts(form: Mapping[str, str]) -> DraftTexts:
    """The drafting form's texts, as typed (browsers send CRLF line ends)."""

    def field(name: str) -> str:
        return form.get(name, "").replace("\r\n", "\n")

    return DraftTexts(
        subject=field("subject"),
        short=field("short"),
        voice=field("voice"),
        intro=field("intro"),
        sections={s: field(f"rubrique_{s.value}") for s in Section if field(f"rubrique_{s.value}")},
        closing=field("closing"),
    )


def _current_texts(crisis: Crisis, step: Step) -> DraftTexts:
    """The step's texts as they stand (its draft, else its template; empty without either)."""
    try:
        return DraftTexts.of(template_for(crisis, step))
    except KeyError:
        return DraftTexts(subject="", short="", voice="")


def _step_header(crisis: Crisis, step: Step, current: StepState) -> dict[str, Any]:
    return {
        "id": step.id,
        "title": step.title,
        "engagement": step.engagement.value,
        "channels": ", ".join(c.label for c in step.channels),
        "x": ChannelName.X in step.channels,
        "drafted_by": current.drafted_by,
        "drafted": step.id in crisis.drafts,
    }


def drafting_view(
    crisis: Crisis,
    steps: Sequence[StepState],
    step_id: str,
    texts: DraftTexts | None,
    now: datetime,
    config: EngineConfig,
) -> dict[str, Any] | None:
    """The drafting page of a step (None when the crisis has no such step)."""
    planned = next((p for p in crisis.plan.steps if p.step.id == step_id), None)
    current = next((s for s in steps if s.step_id == step_id), None)
    if planned is None or current is None:
        return None
    step = planned.step
    if texts is None:
        texts = _current_texts(crisis, step)
    context = message_context(crisis, None, now, config)
    return {
        "title": f"Rédiger le message — {step.title}",
        "exercise": crisis.mode == Mode.EXERCICE,
        "crisis": {"id": crisis.id, "kind": crisis.kind.label},
        "step": _step_header(crisis, step, current),
        "texts": texts,
        "sections": [
            {
                "name": f"rubrique_{s.value}",
                "id": f"rubrique-{s.value}",
                "heading": s.heading,
                "text": texts.sections.get(s, ""),
                "expected": s in crisis.plan.applicable_sections,
            }
            for s in Section
        ],
        "placeholders": [
            {"code": code, "help": help_}
            for code, help_ in (PLACEHOLDERS.get(k, (f"{{{{ {k} }}}}", "")) for k in context)
        ],
        "refusal": draft_refusal(crisis, step, current),
        "current": approval_item(crisis, current, planned, now, config),
        "x_limit": X_LIMIT,
        "error": "",
    }


def preview(channel: ChannelName, text: RenderedMessage) -> dict[str, str]:
    """The text a channel would carry (its catalog body), and its measure (channels.preview)."""
    body: str = getattr(text, spec(channel).body)
    return {"text": body, "measure": measure(channel, body, text.subject)}


def approval_item(
    crisis: Crisis, state: StepState, planned: PlannedStep, now: datetime, config: EngineConfig
) -> dict[str, Any]:
    """A message awaiting approval, previewed as each of its channels would carry it."""
    step = planned.step
    item: dict[str, Any] = {
        "step_id": step.id,
        "title": step.title,
        "engagement": step.engagement.value,
        "drafted_by": state.drafted_by,
        "previews": [],
        "error": "",
    }
    try:
        template = template_for(crisis, step)  # the draft written on the dashboard, if any
    except KeyError:
        item["error"] = "modèle de message introuvable"
        return item
    try:
        text = render_message(template, message_context(crisis, None, now, config))
    except RenderError as exc:
        item["error"] = str(exc)
        return item
    item["previews"] = [{"channel": c.label, **preview(c, text)} for c in step.channels]
    return item

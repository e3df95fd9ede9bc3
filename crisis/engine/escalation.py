"""Calling again until reached: the next calls of each chain, and the chains that end."""

from __future__ import annotations

from datetime import datetime

from channels.base import ChannelName
from contacts.audience import resolve_audience
from contacts.model import Directory, Role
from crisis import escalation
from crisis.engine.fanout import address_of, send
from crisis.engine.state import CrisisState, Decision, EngineConfig
from crisis.model import ChainEnded, Crisis, RecipientRef, StepStatus
from playbooks.model import Step


def escalate(state: CrisisState, now: datetime, config: EngineConfig, decision: Decision) -> None:
    """The next calls of every escalating step's chains not yet reached, and the chains that
    end "non joint"; the next wake-up when calls are still to come."""
    crisis = state.crisis
    acknowledged = {**state.acknowledged, **dict(decision.acks)}
    by_step: dict[str, list[escalation.Attempt]] = {}
    for attempt in state.attempts:
        by_step.setdefault(attempt.step_id, []).append(attempt)
    for current in state.steps:
        planned = crisis.plan.step(current.step_id)
        step, policy = planned.step, planned.step.escalation
        if policy is None or current.status != StepStatus.DONE:
            continue  # steps triggered by this very decision have made their first calls
        contacts = resolve_audience(
            step.audience, Directory(contacts=crisis.roster), crisis.communes
        )
        callable_ = [c for c in contacts if address_of(c, ChannelName.VOICE) is not None]
        ids_of = {c.id for c in callable_}
        step_attempts = by_step.get(step.id, [])
        window_end = crisis.t0 + policy.until
        plan = escalation.Next()
        for group in escalation.groups(step.action, callable_):
            if (step.id, group.key) in state.chains_ended:
                continue
            if escalation.reached(group, acknowledged, crisis.plan.quorum, {}):
                continue
            members = {c.id for c in group.chain}
            attempts = [a for a in step_attempts if a.contact_id in members & ids_of]
            escalation.next_calls(group, attempts, acknowledged, policy, window_end, now, plan)
        for group, reason, made in plan.ended:
            decision.fact(_chain_ended(crisis, step, group, reason, made))
        if plan.calls:
            send(state, step, (), plan.calls, None, now, config, decision, escalating=True)
        if plan.wake_at is not None:
            decision.wakeups.append(plan.wake_at)


def _chain_ended(
    crisis: Crisis,
    step: Step,
    group: escalation.Group,
    reason: str,
    made: tuple[escalation.Attempt, ...],
) -> ChainEnded:
    """A chain's "non joint", with every call it made, recipients named by id."""
    return ChainEnded(
        step_id=step.id,
        engagement=step.engagement,
        group=group.key,
        commune=group.commune,
        label=_group_label(crisis, group),
        reason=reason,
        attempts=tuple(
            RecipientRef(
                outbox_key="",
                contact_id=a.contact_id,
                role=_role_of(group, a.contact_id),
                commune=group.commune,
                attempt=a.attempt,
            )
            for a in made
        ),
    )


def _group_label(crisis: Crisis, group: escalation.Group) -> str:
    if group.commune is not None:
        return f"commune de {crisis.commune_names.get(group.commune, group.commune)}"
    if group.parallel:
        return "cellule de communication d'urgence (quorum)"
    return group.chain[0].role.label if group.chain else group.key


def _role_of(group: escalation.Group, contact_id: str) -> Role | None:
    return next((c.role for c in group.chain if c.id == contact_id), None)

"""The CIP: the préfet's orders to open it (T0 CIP, numéro unique) and to close it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from crisis.engine.state import CrisisState, Decision, Refused
from crisis.engine.stimuli import ActivateCip, CloseCip
from crisis.model import CIP_AUTHORITY, Authority, CipActivated, CipClosed, Crisis, StepStatus
from playbooks.model import Action


def activate_cip(
    state: CrisisState, order: ActivateCip, now: datetime, decision: Decision
) -> CrisisState:
    """T0 CIP: the order journaled, the number kept, the announcements' clock started."""
    crisis = state.crisis
    _delegated(order.authority, "l'activation")
    if crisis.cip_number is not None:
        raise Refused(f"la CIP est déjà activée (numéro unique {crisis.cip_number})")
    decision.fact(CipActivated(number=order.number, authority=order.authority), order.actor)
    updates: dict[str, Any] = {"cip_number": order.number}
    if crisis.t0_cip is None:  # T0 CIP is the first order; a re-opening keeps it
        updates["t0_cip"] = now
    decision.crisis_updates.update(updates)
    for current in state.steps:  # the announcements' clock starts now (T0 CIP)
        planned = crisis.plan.step(current.step_id).step
        if planned.action == Action.ANNOUNCE_CIP and current.status != StepStatus.DONE:
            decision.steps[current.step_id] = current.model_copy(
                update={"due_at": now + planned.offset}
            )
    return replace(state, crisis=crisis.model_copy(update=updates))


def close_cip(crisis: Crisis, order: CloseCip, decision: Decision) -> None:
    """The CIP closed on the préfet's order: its number goes back to its usual configuration."""
    _delegated(order.authority, "la fermeture")
    if crisis.cip_number is None:
        raise Refused("la CIP n'est pas activée")
    decision.fact(CipClosed(authority=order.authority), order.actor)
    decision.crisis_updates["cip_number"] = None


def _delegated(authority: Authority, what: str) -> None:
    if authority.rank < CIP_AUTHORITY.rank:
        raise Refused(
            f"{what} de la CIP est un ordre du préfet : seul le directeur de cabinet ou le "
            f"préfet peut l'enregistrer (autorité de votre compte : {authority.label})"
        )

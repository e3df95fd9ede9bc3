"""A contact's acknowledgement: journaled once, and the sends it makes pointless cancelled."""

from __future__ import annotations

from contacts.model import OFFICIAL_ROLES
from crisis.engine.state import CrisisState, Decision, Refused
from crisis.engine.stimuli import Acknowledge
from crisis.model import AcknowledgementReceived, CancelPending
from playbooks.model import Engagement


def acknowledge(state: CrisisState, ack: Acknowledge, decision: Decision) -> None:
    """An acknowledgement journaled once; the sends it makes pointless are cancelled."""
    if ack.contact_id in state.acknowledged:
        return  # one acknowledgement per contact is the fact; repeats change nothing
    contact = next((c for c in state.crisis.roster if c.id == ack.contact_id), None)
    if contact is None:
        raise Refused(f"le contact {ack.contact_id} n'est pas destinataire de cet événement")
    decision.fact(
        AcknowledgementReceived(
            contact_id=contact.id,
            role=contact.role,
            commune=contact.commune,
            trained=contact.trained,
            channel=ack.channel,
            outbox_key=ack.outbox_key,
            step_id=ack.step_id,
            eta_minutes=ack.eta_minutes,
        ),
        ack.actor,
    )
    commune = contact.commune if contact.role in OFFICIAL_ROLES else None
    decision.acks.append((contact.id, commune))
    if commune is not None:
        decision.intents.append(
            CancelPending(
                reason="commune jointe : un élu a confirmé la réception",
                commune=commune,
                engagement=Engagement.E48_1,
            )
        )
    else:
        decision.intents.append(
            CancelPending(reason="réception déjà confirmée", contact_id=contact.id)
        )

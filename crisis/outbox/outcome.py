"""The result of one send attempt, and what it becomes in the outbox and the main courante."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from crisis.model import AttemptOutcome, DeliveryAttempted, OutboxItem, OutboxState, WarningRaised
from crisis.store.unit import OutboxLookup

# Outcomes written while the provider may hold the message: its status callback can arrive
# before them (during the request that timed out, or during the look-up).
_PROVIDER_MAY_HOLD = frozenset({"unknown", "reconciled"})
_REPORTED = {OutboxState.DELIVERED, OutboxState.FAILED}
REPORTED_REASON = "le fournisseur a déjà rendu compte de ce message : pas de nouvel envoi"


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt, waiting to be written."""

    item: OutboxItem
    outcome: AttemptOutcome  # DeliveryAttempted.outcome
    state: OutboxState
    provider_id: str | None = None
    reason: str = ""
    retry_at: datetime | None = None


def unless_reported(tx: OutboxLookup, result: Outcome) -> Outcome:
    """An ambiguous attempt or a look-up whose row a provider report (delivered, failed) settled
    meanwhile: the report stands, and the attempt is journaled as reconciled by it.

    Only these outcomes are re-read (one query each, rare): a plain "sent" is written blindly.
    """
    if result.outcome not in _PROVIDER_MAY_HOLD:
        return result
    message = result.item.message
    row = tx.outbox_by_key(message.idempotency_key)
    if row is None or row.state not in _REPORTED:
        return result
    return replace(
        result,
        outcome="reconciled",
        state=row.state,
        provider_id=row.provider_id or result.provider_id,
        reason=REPORTED_REASON,
        retry_at=None,
    )


def manual_publication(result: Outcome) -> WarningRaised:
    """A public channel failed for good: the on-call agent publishes by hand, text at hand."""
    message = result.item.message
    return WarningRaised(
        code="publication_manuelle",
        message=f"{message.channel.label} en échec ({result.reason}) : publier à la main le "
        f"message de l'étape {message.step_id}, puis l'enregistrer comme preuve avec "
        f"« crisis publie {message.crisis_id} {message.idempotency_key} --par NOM ». "
        f"Texte à publier : « {message.body} »",
    )


def attempt_fact(result: Outcome) -> DeliveryAttempted:
    """The journal's fact for one attempt, numbered from 1."""
    return DeliveryAttempted.of(
        result.item.message,
        attempt=max(1, result.item.attempts),
        outcome=result.outcome,
        provider_id=result.provider_id,
        reason=result.reason,
    )

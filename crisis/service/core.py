"""Load, decide, apply: the part of the service every stimulus goes through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from contacts.model import Directory
from crisis import compliance
from crisis.clock import Clock
from crisis.effects import Effects, NoEffects
from crisis.engine import (
    CrisisState,
    Decision,
    EngineConfig,
    Refused,
    Stimulus,
    decide,
)
from crisis.model import (
    SYSTEM,
    CancelPending,
    ComplianceCheckpoint,
    DeliveryAttempted,
    EngagementStatus,
    SendMessage,
    Verdict,
)
from crisis.store.unit import UnitOfWork, UnitOfWorkFactory
from playbooks.loader import Library


class Core:
    """The orchestrator's dependencies and its one way of changing a crisis: load its state,
    ask the engine, apply the decision (facts, steps, outbox, effects) in the unit of work."""

    def __init__(
        self,
        store: UnitOfWorkFactory[UnitOfWork],
        clock: Clock,
        library: Library,
        directory: Callable[[], Directory],
        config: EngineConfig,
        *,
        channel_rates: dict[str, float] | None = None,
        effects: Effects | None = None,
    ) -> None:
        self.store: UnitOfWorkFactory[UnitOfWork] = store  # the database, or MemoryStore in tests
        self.clock = clock
        self.library = library
        self.directory = directory
        self.config = config
        self.channel_rates = channel_rates or {}
        # the side effects of decisions (dispatch, alarms, withdrawals, the numéro unique)
        self.effects: Effects = effects if effects is not None else NoEffects()

    def handle(self, crisis_id: str, stimulus: Stimulus) -> None:
        """Apply one stimulus in one transaction."""
        with self.store.transaction() as tx:
            decision = self._react(tx, crisis_id, stimulus, self.clock.now())
        if decision.refused:
            raise Refused(decision.refused)

    def _react(self, tx: UnitOfWork, crisis_id: str, stimulus: Stimulus, now: datetime) -> Decision:
        crisis = tx.crisis(crisis_id, lock=True)
        chained = [p.step.id for p in crisis.plan.steps if p.step.escalation is not None]
        state = CrisisState(
            crisis=crisis,
            steps=tuple(tx.steps(crisis_id)),
            acknowledged=tx.acknowledged(crisis_id),
            checkpoints_done=tx.checkpoints_done(crisis_id),
            attempts=tuple(tx.call_attempts(crisis_id, chained)) if chained else (),
            chains_ended=tx.chains_ended(crisis_id) if chained else frozenset(),
        )
        decision = decide(state, stimulus, now, self.config)
        tx.append(crisis_id, decision.facts, now)
        tx.save_steps(crisis_id, decision.steps.values())
        for contact_id, commune in decision.acks:
            tx.record_ack(crisis_id, contact_id, commune, now)
        sends = [i for i in decision.intents if isinstance(i, SendMessage)]
        tx.enqueue(sends, now)
        for cancel in (i for i in decision.intents if isinstance(i, CancelPending)):
            cancelled = tx.cancel_pending(crisis_id, cancel, now)
            tx.append(
                crisis_id,
                [(_cancelled(item.message, item.attempts, cancel), SYSTEM) for item in cancelled],
                now,
            )
            self.effects.cancelled(crisis_id, cancel)
        if decision.crisis_updates:
            tx.update_crisis(crisis_id, **decision.crisis_updates)
        if decision.checkpoints:
            self._checkpoints(tx, crisis_id, decision.checkpoints, state.checkpoints_done, now)
        if sends:
            self.effects.queued()
        self.effects.wake(crisis_id, decision.wakeups)
        return decision

    def _checkpoints(
        self,
        tx: UnitOfWork,
        crisis_id: str,
        minutes: list[int],
        done: frozenset[int],
        now: datetime,
    ) -> None:
        entries = tx.journal(crisis_id)
        t0 = tx.crisis(crisis_id).t0
        # each checkpoint judges the journal as it stood at T0+m, even when it runs late
        facts = [
            (
                ComplianceCheckpoint(
                    minutes=m,
                    final=m == 60,
                    verdicts=final_verdicts(
                        compliance.judge(entries, min(now, t0 + timedelta(minutes=m)))
                    )
                    if m == 60
                    else compliance.judge(entries, min(now, t0 + timedelta(minutes=m))),
                ),
                SYSTEM,
            )
            for m in minutes
        ]
        tx.append(crisis_id, facts, now)
        tx.update_crisis(crisis_id, checkpoints_done=sorted(done | set(minutes)))


def final_verdicts(verdicts: Sequence[Verdict]) -> tuple[Verdict, ...]:
    """The T0+60 verdict: the hour is over, so what is still pending or at risk is missed
    (the REX, judged later, says "en retard" if it was done after)."""
    open_ = {EngagementStatus.PENDING, EngagementStatus.AT_RISK}
    return tuple(
        v.model_copy(update={"status": EngagementStatus.MISSED}) if v.status in open_ else v
        for v in verdicts
    )


def _cancelled(message: SendMessage, attempts: int, cancel: CancelPending) -> DeliveryAttempted:
    return DeliveryAttempted.of(
        message, attempt=attempts + 1, outcome="cancelled", reason=cancel.reason
    )

"""T0: the COD activation recorded once per event, its plan and roster frozen."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from contacts.roster import frozen_roster
from crisis import inputs
from crisis.activation import (
    ActivationError,
    Confirmation,
    MalformedActivation,
    Match,
    check_confirmation,
    check_t0,
    match,
)
from crisis.engine import (
    Tick,
    initial_due,
)
from crisis.model import (
    SYSTEM,
    ActivationConfirmed,
    Actor,
    CodActivated,
    Crisis,
    ExerciseAllowList,
    Fact,
    Mode,
    PlannedStepRef,
    StepState,
    WarningRaised,
)
from crisis.projection import project_fanout
from crisis.service.core import Core
from crisis.store.errors import DuplicateKey
from crisis.store.unit import UnitOfWork
from playbooks.model import EventKind
from playbooks.planner import plan as make_plan


@dataclass(frozen=True)
class ActivationRequest:
    """The COD activation as the on-call agent gives it."""

    kind: EventKind
    t0: datetime
    synergi_ref: str
    communes: Sequence[str]
    recorded_by: Actor
    mode: Mode = Mode.REEL
    idempotency_key: str | None = None
    area: str = ""  # how the area was given, kept in the journal next to the resolved communes
    participants: ExerciseAllowList | None = None  # exercise: who real sends may reach
    confirmation: Confirmation | None = None  # the préfet's go for what the rules refuse

    def key(self) -> str:
        """The given key, or one derived from what identifies the activation."""
        if self.idempotency_key:
            return self.idempotency_key
        t0 = self.t0.astimezone(UTC).isoformat()  # the same instant typed in any zone
        communes = ",".join(sorted(_codes(self)))
        raw = f"{self.kind}|{t0}|{self.synergi_ref.strip()}|{self.mode}|{communes}"
        return "auto-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Activation:
    """The crisis, and whether this call created it (False: an earlier identical activation)."""

    crisis: Crisis
    created: bool


class Activating(Core):
    """Recording T0: the COD activation, once per event."""

    def activate(self, request: ActivationRequest) -> Activation:
        """Record the COD activation (T0), freeze the plan, run what is already due.

        The same activation again (same key, or same SYNERGI reference, kind, T0 and area)
        returns the event already recorded; a conflicting one is refused (ActivationConflict)
        unless the préfet or directeur de cabinet confirms another event.
        """
        key = request.key()
        check_confirmation(request.confirmation)
        with self.store.transaction() as tx:
            found = self._recorded(tx, request, key)
        if found.duplicate is not None:
            return Activation(found.duplicate, created=False)
        now = self.clock.now()
        crisis, old_t0 = self._new_crisis(request, key, now)
        try:
            with self.store.transaction() as tx:
                tx.lock_activations()  # the check below and the insert are one step
                found = self._recorded(tx, request, key)
                if found.duplicate is not None:
                    return Activation(found.duplicate, created=False)
                local = crisis.t0.astimezone(self.config.timezone)
                crisis = crisis.model_copy(update={"id": _free_id(tx, request, local)})
                steps = [
                    StepState(step_id=p.step.id, due_at=initial_due(p)) for p in crisis.plan.steps
                ]
                tx.insert_crisis(crisis, steps)
                tx.append(
                    crisis.id,
                    [
                        (self._activated_fact(crisis, request.area), crisis.recorded_by),
                        *_confirmations(request, found, old_t0),
                    ],
                    now,
                )
                warnings = project_fanout(crisis, self.channel_rates)
                tx.append(
                    crisis.id,
                    [(WarningRaised(code="debit", message=w), SYSTEM) for w in warnings],
                    now,
                )
                self._react(tx, crisis.id, Tick(), now)
        except DuplicateKey:  # the same activation recorded concurrently: one crisis
            with self.store.transaction() as tx:
                again = tx.crisis_by_key(key)
            if again is None:
                raise
            _same_activation(again, request)
            return Activation(again, created=False)
        return Activation(crisis, created=True)

    def _recorded(self, tx: UnitOfWork, request: ActivationRequest, key: str) -> Match:
        """What the crises already recorded make of this activation (see crisis.activation)."""
        existing = tx.crisis_by_key(key)
        if existing is not None:
            _same_activation(existing, request)
            return Match(duplicate=existing)
        return match(
            tx.crises_like(request.mode, request.synergi_ref, request.kind),
            kind=request.kind,
            t0=request.t0,
            synergi_ref=request.synergi_ref,
            communes=_codes(request),
            mode=request.mode,
            tz=self.config.timezone,
            confirmation=request.confirmation,
        )

    def _new_crisis(
        self, request: ActivationRequest, key: str, now: datetime
    ) -> tuple[Crisis, bool]:
        """The crisis to insert (its id is chosen at insert time), and whether its T0 needed
        the old-T0 confirmation."""
        t0 = request.t0
        old_t0 = check_t0(
            t0, now, self.config.t0_max_age, self.config.timezone, request.confirmation
        )
        try:
            synergi = inputs.synergi_ref(request.synergi_ref)
        except inputs.InvalidInput as exc:
            raise MalformedActivation(str(exc)) from None
        if request.participants is not None and request.mode != Mode.EXERCICE:
            raise ActivationError("une liste de participants ne concerne qu'un exercice")
        playbook = self.library.playbooks.get(request.kind)
        if playbook is None:
            raise ActivationError(f"aucun playbook pour l'événement « {request.kind.label} »")
        directory = self.directory()
        known = {c.code_insee: c for c in directory.communes}
        codes = _codes(request)
        if not codes:
            raise ActivationError("indiquez au moins une commune concernée (code INSEE)")
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ActivationError(f"codes INSEE inconnus de l'annuaire : {', '.join(unknown)}")
        if request.participants is not None:
            strangers = [c for c in request.participants.contacts if directory.contact(c) is None]
            if strangers:
                raise ActivationError(
                    f"participants inconnus de l'annuaire : {', '.join(strangers)}"
                )
        roster = frozen_roster(directory, codes, t0, t0.astimezone(self.config.timezone).date())
        plan = make_plan(
            playbook, self.library.templates, t0, source=self.library.sources[request.kind]
        )
        return Crisis(
            id="",
            kind=request.kind,
            mode=request.mode,
            t0=t0,
            synergi_ref=synergi,
            communes=tuple(codes),
            commune_names={c: known[c].nom for c in codes},
            recorded_by=request.recorded_by,
            recorded_at=now,
            idempotency_key=key,
            plan=plan,
            roster=roster,
            participants=request.participants,
        ), old_t0

    @staticmethod
    def _activated_fact(crisis: Crisis, area: str = "") -> CodActivated:
        plan = crisis.plan
        return CodActivated(
            crisis_id=crisis.id,
            kind=crisis.kind,
            mode=crisis.mode,
            t0=crisis.t0,
            synergi_ref=crisis.synergi_ref,
            communes=crisis.communes,
            commune_names=dict(crisis.commune_names),
            area=area,
            playbook_title=plan.playbook_title,
            playbook_version=plan.playbook_version,
            playbook_digest=plan.playbook_digest,
            applicable_sections=plan.applicable_sections,
            quorum=plan.quorum,
            steps=tuple(
                PlannedStepRef(
                    step_id=p.step.id,
                    title=p.step.title,
                    engagement=p.step.engagement,
                    action=p.step.action,
                    due_at=p.due_at,
                    channels=p.step.channels,
                    escalates=p.step.escalation is not None,
                )
                for p in plan.steps
            ),
        )


def _same_activation(existing: Crisis, request: ActivationRequest) -> None:
    """A repeated key must carry the same activation: anything else is refused, never merged."""
    asked = _codes(request)
    differences = []
    if existing.kind != request.kind:
        differences.append("type d'événement")
    if existing.t0 != request.t0:
        differences.append("temps 0")
    if set(existing.communes) != set(asked):
        differences.append("communes concernées")
    if differences:
        raise ActivationError(
            f"l'événement {existing.id} a déjà été enregistré avec cette clé, mais avec "
            f"d'autres valeurs ({', '.join(differences)}) : la zone et le T0 sont figés ; "
            "pour un autre événement, utilisez une autre clé"
        )


def _codes(request: ActivationRequest) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in request.communes if c.strip()))


def _confirmations(
    request: ActivationRequest, found: Match, old_t0: bool
) -> list[tuple[Fact, Actor]]:
    """The préfet's confirmations an activation used, journaled right after its T0."""
    confirmation = request.confirmation
    if confirmation is None:
        return []
    facts: list[tuple[Fact, Actor]] = []
    reason = confirmation.reason.strip()
    if found.overridden is not None:
        facts.append(
            (
                ActivationConfirmed(
                    rule="autre_evenement",
                    reason=reason,
                    authority=confirmation.authority,
                    related_crisis=found.overridden.id,
                ),
                request.recorded_by,
            )
        )
    if old_t0:
        facts.append(
            (
                ActivationConfirmed(
                    rule="t0_ancien", reason=reason, authority=confirmation.authority
                ),
                request.recorded_by,
            )
        )
    return facts


def _free_id(tx: UnitOfWork, request: ActivationRequest, t0_local: datetime) -> str:
    prefix = "EX-" if request.mode == Mode.EXERCICE else ""
    base = f"{prefix}{t0_local:%Y%m%d-%H%M}-{request.kind.value}"
    candidate, n = base, 1
    while tx.id_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate

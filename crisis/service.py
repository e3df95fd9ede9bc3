"""Service layer: loads state, asks the engine, stores facts and intents in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport, InboundEvent
from contacts.model import Directory
from contacts.roster import frozen_roster
from crisis import compliance, inputs
from crisis.activation import (
    ActivationError,
    Confirmation,
    MalformedActivation,
    Match,
    check_confirmation,
    check_t0,
    match,
)
from crisis.clock import Clock
from crisis.effects import Effects, NoEffects
from crisis.engine import (
    Acknowledge,
    ActivateCip,
    Approve,
    Close,
    CloseCip,
    CrisisState,
    Decision,
    Draft,
    EngineConfig,
    Note,
    Record,
    RectifyT0,
    Refused,
    SetCiavNumber,
    Stimulus,
    Tick,
    decide,
    initial_due,
)
from crisis.model import (
    SYSTEM,
    ActivationConfirmed,
    Actor,
    Authority,
    CancelPending,
    CodActivated,
    ComplianceCheckpoint,
    Crisis,
    DeliveryAttempted,
    DeliveryReported,
    DraftTexts,
    EngagementStatus,
    ExerciseAllowList,
    Fact,
    Interface,
    JournalEntry,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    Mode,
    OutboxState,
    PlannedStepRef,
    SendMessage,
    StepState,
    Verdict,
    WarningRaised,
)
from crisis.projection import project_fanout
from crisis.store.errors import DuplicateKey
from crisis.store.unit import UnitOfWork, UnitOfWorkFactory
from playbooks.loader import Library
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


class Orchestrator:
    """Every state change of a crisis goes through here, one transaction each."""

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

    # --- T0 ----------------------------------------------------------------------------------

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

    def rectify_t0(
        self, crisis_id: str, t0: datetime, reason: str, actor: Actor, *, authority: Authority
    ) -> None:
        """Correct a wrong T0 (the préfet's or directeur de cabinet's decision, journaled with
        its reason); compliance, checkpoints and reports count from the rectified T0."""
        self.handle(crisis_id, RectifyT0(t0=t0, reason=reason, actor=actor, authority=authority))

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

    # --- stimuli -----------------------------------------------------------------------------

    def tick(self, crisis_id: str) -> None:
        """Run what fell due (called by the alarm clock and at start-up)."""
        self.handle(crisis_id, Tick())

    def approve(self, crisis_id: str, step_id: str, actor: Actor) -> None:
        """Approve a step's message (four-eyes)."""
        self.handle(crisis_id, Approve(step_id=step_id, actor=actor))

    def draft(self, crisis_id: str, step_id: str, texts: DraftTexts, actor: Actor) -> None:
        """Write (or rewrite) a step's message before its approval: it is then what is approved
        and sent, and its drafter cannot approve it (four-eyes)."""
        self.handle(crisis_id, Draft(step_id=step_id, texts=texts, actor=actor))

    def set_ciav_number(self, crisis_id: str, number: str, actor: Actor) -> None:
        """Record the CIAV number (attentat)."""
        self.handle(crisis_id, SetCiavNumber(number=number, actor=actor))

    def note(self, crisis_id: str, text: str, actor: Actor) -> None:
        """Add a note to the main courante."""
        self.handle(crisis_id, Note(text=text, actor=actor))

    def close(self, crisis_id: str, actor: Actor, reason: str = "") -> None:
        """Close the crisis; then withdraw its public alert (CAP Cancel, page, banner)."""
        self.handle(crisis_id, Close(actor=actor, reason=reason))
        self.effects.closed(crisis_id)

    def activate_cip(
        self, crisis_id: str, number: str, actor: Actor, *, authority: Authority
    ) -> None:
        """Record the préfet's order to activate the CIP: T0 CIP, with its numéro unique.

        Refused unless `authority` (the account's, as the interface authenticated it) holds
        the préfet's delegation; then the announcement steps (50.1) run at once.
        """
        number = _e164(number)
        self.handle(crisis_id, ActivateCip(number=number, actor=actor, authority=authority))
        self.effects.cip_changed(crisis_id)

    def close_cip(self, crisis_id: str, actor: Actor, *, authority: Authority) -> None:
        """Record the préfet's order to close the CIP; the crisis goes on."""
        self.handle(crisis_id, CloseCip(actor=actor, authority=authority))
        self.effects.cip_changed(crisis_id)

    def record(self, crisis_id: str, facts: Sequence[Fact], actor: Actor) -> None:
        """Journal plain facts (injects, media requests, CIP calls, REX lessons) in one go."""
        if facts:
            self.handle(crisis_id, Record(facts=tuple(facts), actor=actor))

    def media_follow_up(
        self,
        crisis_id: str,
        request_id: str,
        actor: Actor,
        *,
        assignee: str | None = None,
        answer: str | None = None,
    ) -> None:
        """Assign a media request, or record its first answer (who answered is the actor).

        Checked and journaled in one transaction: two agents answering at once give one
        first answer, the other is refused.
        """
        if answer is None and not assignee:
            raise Refused("indiquez à qui confier la sollicitation, ou la réponse donnée")
        with self.store.transaction() as tx:
            tx.crisis(crisis_id, lock=True)
            entries = tx.journal(crisis_id, types=["MediaRequestReceived", "MediaRequestAnswered"])
            facts = [e.fact for e in entries]
            if not any(
                isinstance(f, MediaRequestReceived) and f.request_id == request_id for f in facts
            ):
                raise Refused(f"aucune sollicitation presse « {request_id} » dans cet événement")
            fact: Fact
            if answer is not None:
                if any(
                    isinstance(f, MediaRequestAnswered) and f.request_id == request_id
                    for f in facts
                ):
                    raise Refused(f"la sollicitation {request_id} a déjà reçu une première réponse")
                fact = MediaRequestAnswered(request_id=request_id, answer=answer)
            else:
                fact = MediaRequestAssigned(request_id=request_id, assignee=assignee or "")
            decision = self._react(
                tx, crisis_id, Record(facts=(fact,), actor=actor), self.clock.now()
            )
        if decision.refused:
            raise Refused(decision.refused)

    def acknowledge(self, crisis_id: str, contact_id: str, actor: Actor) -> None:
        """Record an acknowledgement given by other means (phone call to the standard...)."""
        self.handle(crisis_id, Acknowledge(contact_id=contact_id, actor=actor))

    def published_by_hand(
        self, crisis_id: str, outbox_key: str, actor: Actor, reference: str = ""
    ) -> None:
        """Record that the agent published by hand what a failed public channel could not.

        The manual publication is evidence like a send: the compliance check counts it.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            tx.crisis(crisis_id, lock=True)  # the crisis exists; serialises with its other facts
            item = tx.outbox_by_key(outbox_key)
            if item is None or item.message.crisis_id != crisis_id:
                raise Refused(f"message inconnu pour l'événement {crisis_id} : {outbox_key}")
            message = item.message
            if not message.channel.is_public:
                raise Refused("seule une publication au public peut être enregistrée à la main")
            if item.state in {OutboxState.SENT, OutboxState.DELIVERED}:
                raise Refused("ce message a déjà été publié par le canal")
            if item.state in {OutboxState.PENDING, OutboxState.SENDING}:
                raise Refused("ce message est encore en cours d'envoi par le canal")
            tx.set_outbox(item.id, now, state=OutboxState.SENT, provider_id="MANUEL")
            reason = f"par {actor.name}" + (f", {reference}" if reference else "")
            fact = DeliveryAttempted.of(
                message, attempt=item.attempts + 1, outcome="manual", reason=reason
            )
            tx.append(crisis_id, [(fact, actor)], now)

    def handle(self, crisis_id: str, stimulus: Stimulus) -> None:
        """Apply one stimulus in one transaction."""
        with self.store.transaction() as tx:
            decision = self._react(tx, crisis_id, stimulus, self.clock.now())
        if decision.refused:
            raise Refused(decision.refused)

    async def receive(self, event: InboundEvent) -> None:
        """A provider callback (or a simulated one): receipt or acknowledgement."""
        self.effects.before_receipt()  # the attempt's own outcome is journaled before its receipt
        now = self.clock.now()
        with self.store.transaction() as tx:
            item = tx.find_outbox(
                channel=event.channel,
                provider_id=event.provider_id,
                idempotency_key=event.idempotency_key,
            )
            if item is None or item.message.channel != event.channel:
                return  # unknown, or of the wrong kind (an SMS status on a call): not this row's
            message = item.message
            if isinstance(event, DeliveryReport):
                state = OutboxState.DELIVERED if event.delivered else OutboxState.FAILED
                if item.state == state:
                    return  # the same callback twice is one fact
                if item.state == OutboxState.DELIVERED:
                    return  # out of order: a failure reported after the delivery never undoes it
                # a report may come while the send still waits for its answer: keep the sid
                known = {} if item.provider_id else {"provider_id": event.provider_id or None}
                tx.set_outbox(item.id, now, state=state, **known)
                tx.append(
                    message.crisis_id,
                    [
                        (
                            _reported(message, event),
                            Actor(name=event.channel.value, interface=Interface.PROVIDER),
                        )
                    ],
                    now,
                )
            elif isinstance(event, AcknowledgementReport):
                actor = Actor(name=message.contact_id, interface=Interface.PROVIDER)
                ack = Acknowledge(
                    contact_id=message.contact_id,
                    actor=actor,
                    channel=message.channel,
                    outbox_key=message.idempotency_key,
                    step_id=message.step_id,
                    eta_minutes=event.eta_minutes,
                )
                try:
                    self._react(tx, message.crisis_id, ack, now)
                except Refused:
                    return  # a public post or a closed crisis: nobody to count, nothing to record

    # --- applying decisions ------------------------------------------------------------------

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
                    verdicts=_final(compliance.judge(entries, min(now, t0 + timedelta(minutes=m))))
                    if m == 60
                    else compliance.judge(entries, min(now, t0 + timedelta(minutes=m))),
                ),
                SYSTEM,
            )
            for m in minutes
        ]
        tx.append(crisis_id, facts, now)
        tx.update_crisis(crisis_id, checkpoints_done=sorted(done | set(minutes)))

    # --- reading -----------------------------------------------------------------------------

    def journal(self, crisis_id: str) -> list[JournalEntry]:
        """The crisis's main courante."""
        with self.store.transaction() as tx:
            return tx.journal(crisis_id)

    # --- provider webhooks -------------------------------------------------------------------

    def outbox_message(self, key: str) -> SendMessage | None:
        """The message an outbox key names (a call fetching what to say), if any."""
        if not key:
            return None
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
        return None if item is None else item.message

    def link_status(self, key: str) -> LinkStatus | None:
        """What a signed acknowledgement link's page shows: the message, and whether it can
        still be confirmed (None when the key names no message)."""
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
            if item is None:
                return None
            crisis = tx.crisis(item.message.crisis_id)
            done = item.message.contact_id in tx.acknowledged(crisis.id)
        return LinkStatus(
            message=item.message, acknowledged=done, closed=crisis.closed_at is not None
        )

    def cip_crisis(self, number: str) -> Crisis | None:
        """The open crisis whose CIP answers on this numéro unique (a call coming in)."""
        with self.store.transaction() as tx:
            return tx.open_cip(number)

    def reading_sheet(self, crisis_id: str) -> str:
        """What the CIP agents read out and the line's recorded information says: the latest
        public message sent (approved, or pre-approved by the playbook), its long form when the
        website carried it. Never a draft."""
        with self.store.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            sent = [
                e.fact
                for e in tx.journal(crisis_id, types=["DeliveryAttempted"])
                if isinstance(e.fact, DeliveryAttempted)
                and e.fact.channel.is_public
                and e.fact.outcome in {"sent", "reconciled", "manual"}
            ]
            site = [a for a in sent if a.channel == ChannelName.WEBSITE]
            chosen = (site or sent)[-1] if sent else None
            item = tx.outbox_by_key(chosen.outbox_key) if chosen else None
        if item is None:
            return (
                f"{crisis.kind.label.capitalize()} en cours. Les premières informations "
                "officielles seront diffusées dès que possible."
            )
        return item.message.body

    def warn(self, crisis_id: str, code: str, message: str) -> None:
        """Journal a warning from an edge (a provider change that failed), even after closing."""
        with self.store.transaction() as tx:
            tx.crisis(crisis_id, lock=True)
            tx.append(
                crisis_id, [(WarningRaised(code=code, message=message), SYSTEM)], self.clock.now()
            )

    def callback_refused(
        self, key: str | None, route: str, reason: str, *, why: str = "signature Twilio invalide"
    ) -> str | None:
        """Journal a refused provider callback in the crisis its key names; returns that crisis.

        The same refusal (route and reason) is one fact per crisis: forged requests repeated
        with a known key must not flood the main courante. `why`: forged signature, or a
        callback of the wrong kind for its row (an SMS status on a call's key).
        """
        if not key:
            return None
        message = f"Rappel du fournisseur refusé : {why} ({route} : {reason})"
        fact = WarningRaised(code="rappel_refuse", message=message)
        with self.store.transaction() as tx:
            item = tx.outbox_by_key(key)
            if item is None:
                return None
            crisis_id = item.message.crisis_id
            tx.crisis(crisis_id, lock=True)  # serialises the check below with other appends
            if not any(e.fact == fact for e in tx.journal(crisis_id, types=["WarningRaised"])):
                tx.append(crisis_id, [(fact, SYSTEM)], self.clock.now())
        return crisis_id

    async def acknowledge_reply(
        self, channel: ChannelName, from_address: str, *, eta_minutes: int | None = None
    ) -> bool:
        """A reply meaning "received" acknowledges the latest message that asked this address.

        The caller decides whether the text means "received" (provider-specific words).
        False when no message asking for an acknowledgement went to that address in an open
        crisis.
        """
        with self.store.transaction() as tx:
            item = tx.latest_to(channel, from_address.strip(), asking_ack=True)
        if item is None:
            return False
        await self.receive(
            AcknowledgementReport(
                channel=channel,
                provider_id=item.provider_id or "",
                idempotency_key=item.message.idempotency_key,
                eta_minutes=eta_minutes,
            )
        )
        return True


@dataclass(frozen=True)
class LinkStatus:
    """The state of a signed acknowledgement link: its message, confirmed yet, crisis closed."""

    message: SendMessage
    acknowledged: bool
    closed: bool


def _final(verdicts: Sequence[Verdict]) -> tuple[Verdict, ...]:
    """The T0+60 verdict: the hour is over, so what is still pending or at risk is missed
    (the REX, judged later, says "en retard" if it was done after)."""
    open_ = {EngagementStatus.PENDING, EngagementStatus.AT_RISK}
    return tuple(
        v.model_copy(update={"status": EngagementStatus.MISSED}) if v.status in open_ else v
        for v in verdicts
    )


def _e164(number: str) -> str:
    """The numéro unique in E.164, or Refused in French."""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise Refused("numéro unique illisible : indiquez-le comme +33 4 65 71 42 42")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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


def _reported(message: SendMessage, event: DeliveryReport) -> DeliveryReported:
    return DeliveryReported(
        outbox_key=message.idempotency_key,
        channel=message.channel,
        contact_id=message.contact_id,
        delivered=event.delivered,
        provider_id=event.provider_id,
        reason=event.reason,
    )


def _cancelled(message: SendMessage, attempts: int, cancel: CancelPending) -> DeliveryAttempted:
    return DeliveryAttempted.of(
        message, attempt=attempts + 1, outcome="cancelled", reason=cancel.reason
    )

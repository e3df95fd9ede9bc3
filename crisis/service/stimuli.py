"""The stimuli agents give the service (approve, draft, note, CIP, close), one unit of work each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contacts.phone import InvalidPhoneNumber, to_e164
from crisis import engine
from crisis.engine import Refused
from crisis.model import (
    Actor,
    Authority,
    DeliveryAttempted,
    DraftTexts,
    Fact,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    OutboxState,
)
from crisis.service.core import Core


class Stimuli(Core):
    """What agents and officials order: approvals, drafts, notes, the CIP, closing."""

    def rectify_t0(
        self, crisis_id: str, t0: datetime, reason: str, actor: Actor, *, authority: Authority
    ) -> None:
        """Correct a wrong T0 (the préfet's or directeur de cabinet's decision, journaled with
        its reason); compliance, checkpoints and reports count from the rectified T0."""
        self.handle(
            crisis_id, engine.RectifyT0(t0=t0, reason=reason, actor=actor, authority=authority)
        )

    def tick(self, crisis_id: str) -> None:
        """Run what fell due (called by the alarm clock and at start-up)."""
        self.handle(crisis_id, engine.Tick())

    def approve(self, crisis_id: str, step_id: str, actor: Actor) -> None:
        """Approve a step's message (four-eyes)."""
        self.handle(crisis_id, engine.Approve(step_id=step_id, actor=actor))

    def draft(self, crisis_id: str, step_id: str, texts: DraftTexts, actor: Actor) -> None:
        """Write (or rewrite) a step's message before its approval: it is then what is approved
        and sent, and its drafter cannot approve it (four-eyes)."""
        self.handle(crisis_id, engine.Draft(step_id=step_id, texts=texts, actor=actor))

    def set_ciav_number(self, crisis_id: str, number: str, actor: Actor) -> None:
        """Record the CIAV number (attentat)."""
        self.handle(crisis_id, engine.SetCiavNumber(number=number, actor=actor))

    def note(self, crisis_id: str, text: str, actor: Actor) -> None:
        """Add a note to the main courante."""
        self.handle(crisis_id, engine.Note(text=text, actor=actor))

    def close(self, crisis_id: str, actor: Actor, reason: str = "") -> None:
        """Close the crisis; then withdraw its public alert (CAP Cancel, page, banner)."""
        self.handle(crisis_id, engine.Close(actor=actor, reason=reason))
        self.effects.closed(crisis_id)

    def activate_cip(
        self, crisis_id: str, number: str, actor: Actor, *, authority: Authority
    ) -> None:
        """Record the préfet's order to activate the CIP: T0 CIP, with its numéro unique.

        Refused unless `authority` (the account's, as the interface authenticated it) holds
        the préfet's delegation; then the announcement steps (50.1) run at once.
        """
        number = _e164(number)
        self.handle(crisis_id, engine.ActivateCip(number=number, actor=actor, authority=authority))
        self.effects.cip_changed(crisis_id)

    def close_cip(self, crisis_id: str, actor: Actor, *, authority: Authority) -> None:
        """Record the préfet's order to close the CIP; the crisis goes on."""
        self.handle(crisis_id, engine.CloseCip(actor=actor, authority=authority))
        self.effects.cip_changed(crisis_id)

    def record(self, crisis_id: str, facts: Sequence[Fact], actor: Actor) -> None:
        """Journal plain facts (injects, media requests, CIP calls, REX lessons) in one go."""
        if facts:
            self.handle(crisis_id, engine.Record(facts=tuple(facts), actor=actor))

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
                tx, crisis_id, engine.Record(facts=(fact,), actor=actor), self.clock.now()
            )
        if decision.refused:
            raise Refused(decision.refused)

    def acknowledge(self, crisis_id: str, contact_id: str, actor: Actor) -> None:
        """Record an acknowledgement given by other means (phone call to the standard...)."""
        self.handle(crisis_id, engine.Acknowledge(contact_id=contact_id, actor=actor))

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


def _e164(number: str) -> str:
    """The numéro unique in E.164 (contacts.phone, the one normaliser), or Refused in French."""
    try:
        return to_e164(number, require_valid=False)
    except InvalidPhoneNumber:
        raise Refused("numéro unique illisible : indiquez-le comme +33 4 65 71 42 42") from None

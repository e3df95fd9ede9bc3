"""A step's messages queued on every channel: one outbox row per recipient and channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from channels.base import ChannelName
from channels.catalog import spec
from contacts.audience import resolve_audience
from contacts.model import Contact, Directory
from crisis import escalation
from crisis.engine.context import message_context, public_address, template_for
from crisis.engine.state import CrisisState, Decision, EngineConfig
from crisis.model import Crisis, MessagesQueued, Mode, RecipientRef, SendMessage, WarningRaised
from crisis.rendering import RenderedMessage, render_message
from playbooks.model import Step


def queue_messages(
    state: CrisisState,
    step: Step,
    general: RenderedMessage,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
) -> None:
    """A triggered step's audience resolved (the communes not yet reached, for a reminder) and
    its messages queued; an escalating step makes the first call of each chain."""
    crisis = state.crisis
    contacts = resolve_audience(step.audience, Directory(contacts=crisis.roster), crisis.communes)
    if step.only_unreached:
        reached = {c for c in state.acknowledged.values() if c}
        contacts = tuple(c for c in contacts if c.commune not in reached)
    calls: list[tuple[Contact, int]] | None = None
    if step.escalation is not None:  # voice and SMS follow the chains: first calls only
        callable_ = [c for c in contacts if address_of(c, ChannelName.VOICE) is not None]
        calls = [
            call
            for group in escalation.groups(step.action, callable_)
            for call in escalation.first_calls(group)
        ]
    send(state, step, contacts, calls, general, now, config, decision)


def send(
    state: CrisisState,
    step: Step,
    contacts: Sequence[Contact],
    calls: Sequence[tuple[Contact, int]] | None,
    general: RenderedMessage | None,
    now: datetime,
    config: EngineConfig,
    decision: Decision,
    *,
    escalating: bool = False,
) -> None:
    """Queue a step's messages. `calls`: the chain's (person, attempt) for voice and SMS (an SMS
    goes with a person's first call only); None: everybody on every channel."""
    crisis = state.crisis
    assert step.template is not None  # guaranteed by the Step validator for message actions
    template = template_for(crisis, step)
    cache: dict[str | None, RenderedMessage] = {} if general is None else {None: general}

    def rendered(commune: str | None) -> RenderedMessage:
        if commune not in cache:
            cache[commune] = render_message(template, message_context(crisis, commune, now, config))
        return cache[commune]

    no_address: list[str] = []
    for channel in step.channels:
        messages: list[tuple[SendMessage, int]] = []
        if channel.is_public:
            public = public_address(crisis, channel, config)
            messages.append((_message(crisis, step, channel, None, public, rendered(None), now), 1))
        else:
            messages, missing = _personal(crisis, step, channel, contacts, calls, rendered, now)
            no_address += missing
        if not messages:
            continue
        decision.intents.extend(m for m, _ in messages)
        decision.fact(_queued(step, channel, messages, rendered(None), escalating))
    if no_address:
        decision.fact(
            WarningRaised(
                code="sans_adresse",
                message=f"étape {step.id} : {len(no_address)} destinataire(s) sans coordonnée "
                f"pour le canal : {', '.join(no_address[:20])}"
                + (" …" if len(no_address) > 20 else ""),
            )
        )


def _personal(
    crisis: Crisis,
    step: Step,
    channel: ChannelName,
    contacts: Sequence[Contact],
    calls: Sequence[tuple[Contact, int]] | None,
    rendered: Callable[[str | None], RenderedMessage],
    now: datetime,
) -> tuple[list[tuple[SendMessage, int]], list[str]]:
    """A personal channel's messages with their attempt numbers, and who has no address for it
    (an SMS of a chain missing a mobile is not named: the call is what counts)."""
    chained = calls is not None and spec(channel).phone_chain
    targets: Sequence[tuple[Contact, int]] = (
        [(c, n) for c, n in (calls or ()) if channel == ChannelName.VOICE or n == 1]
        if chained
        else [(c, 1) for c in contacts]
    )
    messages: list[tuple[SendMessage, int]] = []
    no_address: list[str] = []
    for contact, attempt in targets:
        address = address_of(contact, channel)
        if address is None:
            if not chained or channel == ChannelName.VOICE:
                no_address.append(f"{contact.id} ({channel.label})")
            continue
        message = _message(crisis, step, channel, contact, address, rendered(contact.commune), now)
        if attempt > 1:
            key = f"{message.idempotency_key}:r{attempt}"
            message = message.model_copy(update={"idempotency_key": key})
        messages.append((message, attempt))
    return messages, no_address


def _queued(
    step: Step,
    channel: ChannelName,
    messages: Sequence[tuple[SendMessage, int]],
    general: RenderedMessage,
    escalating: bool,
) -> MessagesQueued:
    """The journal's record of a channel's messages: recipients by id, never by address."""
    return MessagesQueued(
        step_id=step.id,
        engagement=step.engagement,
        channel=channel,
        message_version=1,
        sections=general.sections,
        recipients=tuple(
            RecipientRef(
                outbox_key=m.idempotency_key,
                contact_id=m.contact_id,
                role=m.role,
                commune=m.commune,
                attempt=attempt,
            )
            for m, attempt in messages
        ),
        escalation=escalating,
    )


def address_of(contact: Contact, channel: ChannelName) -> str | None:
    """Where a personal channel reaches a contact: the first of the catalog's address fields
    the directory fills (None: it has none, or the channel is public)."""
    row = spec(channel)
    if row.public:
        return None
    return next((value for value in (getattr(contact, f) for f in row.address) if value), None)


def _message(
    crisis: Crisis,
    step: Step,
    channel: ChannelName,
    contact: Contact | None,
    address: str,
    text: RenderedMessage,
    now: datetime,
) -> SendMessage:
    contact_id = contact.id if contact else f"public-{channel.value}"
    row = spec(channel)
    body: str = getattr(text, row.body)
    rich = row.rich
    return SendMessage(
        idempotency_key=f"{crisis.id}:{step.id}:{contact_id}:{channel.value}:v1",
        crisis_id=crisis.id,
        step_id=step.id,
        engagement=step.engagement,
        channel=channel,
        contact_id=contact_id,
        address=address,
        display_name=contact.name if contact else "",
        role=contact.role if contact else None,
        commune=contact.commune if contact else None,
        subject=text.subject,
        body=body,
        html=text.html if rich else None,
        valid_until=now + step.valid_for,
        ask_acknowledgement=step.ask_acknowledgement and contact is not None,
        exercise=crisis.mode == Mode.EXERCICE,
    )

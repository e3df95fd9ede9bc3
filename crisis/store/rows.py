"""Rows to models and back, shared by the repositories of crises, journal and outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from channels.base import ChannelName
from contacts.model import Contact, Role
from crisis.journal import parse_fact
from crisis.model import (
    Actor,
    Crisis,
    ExerciseAllowList,
    Interface,
    JournalEntry,
    Mode,
    OutboxItem,
    OutboxState,
    SendMessage,
    StepState,
    StepStatus,
)
from crisis.store.tables import CrisisRow, JournalRow, StepRow
from playbooks.model import Engagement, EventKind, MessageTemplate, Plan


def utc(value: datetime) -> datetime:
    """Stored times come back naive from SQLite: they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def optional_utc(value: datetime | None) -> datetime | None:
    """`utc` for a time that may be absent."""
    return None if value is None else utc(value)


def stored_actor(name: str, interface: Interface) -> Actor:
    """An author as stored, unchecked: entries written before the author rule (an empty
    `--by`) stay readable, and verifiable, exactly as they were chained."""
    return Actor.model_construct(name=name, interface=interface)


def drafts_json(drafts: Mapping[str, MessageTemplate]) -> dict[str, object]:
    """The drafts column: step id -> the message written before approval."""
    return {step_id: t.model_dump(mode="json") for step_id, t in drafts.items()}


def attempt_number(key: str) -> int:
    """Escalation keys end with ":r<n>" from the second call to a person on."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail[1:]) if tail.startswith("r") and tail[1:].isdigit() else 1


def crisis_of(row: CrisisRow) -> Crisis:
    """The crisis a row holds."""
    return Crisis(
        id=row.id,
        kind=EventKind(row.kind),
        mode=Mode(row.mode),
        t0=utc(row.t0),
        synergi_ref=row.synergi_ref,
        communes=tuple(row.communes),
        commune_names=dict(row.commune_names),
        recorded_by=stored_actor(row.recorded_by, Interface(row.recorded_via)),
        recorded_at=utc(row.recorded_at),
        idempotency_key=row.idempotency_key,
        plan=Plan.model_validate(row.plan),
        roster=tuple(Contact.model_validate(c) for c in row.roster),
        closed_at=optional_utc(row.closed_at),
        ciav_number=row.ciav_number,
        t0_cip=optional_utc(row.t0_cip),
        cip_number=row.cip_number,
        participants=None
        if row.participants is None
        else ExerciseAllowList.model_validate(row.participants),
        drafts={k: MessageTemplate.model_validate(v) for k, v in (row.drafts or {}).items()},
    )


def crisis_row(crisis: Crisis) -> CrisisRow:
    """The row of a new crisis (its journal still empty)."""
    return CrisisRow(
        id=crisis.id,
        idempotency_key=crisis.idempotency_key,
        kind=crisis.kind.value,
        mode=crisis.mode.value,
        t0=crisis.t0,
        synergi_ref=crisis.synergi_ref,
        communes=list(crisis.communes),
        commune_names=dict(crisis.commune_names),
        recorded_by=crisis.recorded_by.name,
        recorded_via=crisis.recorded_by.interface.value,
        recorded_at=crisis.recorded_at,
        plan=crisis.plan.model_dump(mode="json"),
        roster=[c.model_dump(mode="json") for c in crisis.roster],
        participants=None
        if crisis.participants is None
        else crisis.participants.model_dump(mode="json"),
        drafts=drafts_json(crisis.drafts),
    )


def step_row(crisis_id: str, position: int, state: StepState) -> StepRow:
    """The row of a planned step."""
    return StepRow(
        crisis_id=crisis_id,
        step_id=state.step_id,
        position=position,
        due_at=state.due_at,
        state=state.status.value,
    )


def step_state(row: StepRow) -> StepState:
    """Where a step stands, from its row."""
    return StepState(
        step_id=row.step_id,
        due_at=utc(row.due_at),
        status=StepStatus(row.state),
        hold_reason=row.hold_reason,
        held_since=optional_utc(row.held_since),
        drafted_by=row.drafted_by,
        approved_by=row.approved_by,
        triggered_at=optional_utc(row.triggered_at),
    )


def entry_of(row: JournalRow) -> JournalEntry:
    """A main-courante entry, from its row."""
    return JournalEntry(
        crisis_id=row.crisis_id,
        seq=row.seq,
        at=utc(row.at),
        actor=stored_actor(row.actor, Interface(row.interface)),
        fact=parse_fact(row.data),
        text=row.text,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def outbox_item(row: RowMapping) -> OutboxItem:
    """An outbox row as the dispatcher and the service see it."""
    return OutboxItem(
        id=row["id"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        provider_id=row["provider_id"],
        message=SendMessage(
            idempotency_key=row["idempotency_key"],
            crisis_id=row["crisis_id"],
            step_id=row["step_id"],
            engagement=Engagement(row["engagement"]),
            channel=ChannelName(row["channel"]),
            contact_id=row["contact_id"],
            address=row["address"],
            display_name=row["display_name"],
            role=Role(row["role"]) if row["role"] else None,
            commune=row["commune"],
            subject=row["subject"],
            body=row["body"],
            html=row["html"],
            valid_until=optional_utc(row["valid_until"]),
            ask_acknowledgement=row["ask_acknowledgement"],
            exercise=row["exercise"],
            message_version=row["message_version"],
        ),
    )

"""A unit of work's operations: crises, steps, acknowledgements, journal, outbox."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from channels.base import ChannelName
from contacts.model import Contact, Role
from crisis.escalation import Attempt
from crisis.journal import GENESIS, StoredEntry, chain, parse_fact
from crisis.model import (
    Actor,
    CancelPending,
    ChainEnded,
    Crisis,
    ExerciseAllowList,
    Fact,
    Interface,
    JournalEntry,
    Mode,
    OutboxItem,
    OutboxState,
    OutboxUpdate,
    SendMessage,
    StepState,
    StepStatus,
)
from crisis.store.accounts import AccountsTx
from crisis.store.directory import DirectoryTx
from crisis.store.tables import (
    OUTBOX,
    AckRow,
    CrisisRow,
    JournalRow,
    OutboxRow,
    StepRow,
    UtcDateTime,
)
from crisis.timefmt import DEFAULT_ZONE
from playbooks.model import Engagement, EventKind, MessageTemplate, Plan

ENQUEUE_CHUNK = 2000
_ACTIVATION_LOCK = 0x43524953_00000001  # PostgreSQL advisory lock key: recording a T0


class DuplicateKey(Exception):
    """A row with the same unique key exists (for instance a concurrent identical activation)."""


class CrisisNotFound(LookupError):
    """No crisis with that id."""

    def __init__(self, crisis_id: str) -> None:
        super().__init__(f"aucun événement « {crisis_id} » dans la base")
        self.crisis_id = crisis_id


def utc(value: datetime) -> datetime:
    """Stored times come back naive from SQLite: they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


ERASED = "[effacé]"


@dataclass(frozen=True)
class ScrubbedContact:
    """What an erasure changed in past crises, or the open crises that prevent it."""

    closed_crises: tuple[str, ...] = ()
    outbox_rows: int = 0
    open_crises: tuple[str, ...] = ()


class Tx(DirectoryTx, AccountsTx):
    """Operations inside one transaction (see Store.transaction)."""

    def __init__(
        self, session: Session, *, lock_rows: bool, timezone: tzinfo | None = None
    ) -> None:
        self.session = session
        self.lock_rows = lock_rows
        # the prefecture's zone: journal sentences give local time with it (and UTC)
        self.timezone = timezone or ZoneInfo(DEFAULT_ZONE)

    # --- crises ------------------------------------------------------------------------------

    def crisis_by_key(self, idempotency_key: str) -> Crisis | None:
        """The crisis recorded with this idempotency key, if any."""
        query = select(CrisisRow).where(col(CrisisRow.idempotency_key) == idempotency_key)
        row: CrisisRow | None = self.session.execute(query).scalars().first()
        return None if row is None else _crisis(row)

    def crises_like(self, mode: Mode, synergi_ref: str, kind: EventKind) -> list[Crisis]:
        """Crises of this mode that may be the same activation: the same SYNERGI reference
        (case and surrounding spaces ignored) or the same kind; oldest T0 first."""
        reference = func.lower(func.trim(col(CrisisRow.synergi_ref)))
        query = (
            select(CrisisRow)
            .where(
                col(CrisisRow.mode) == mode.value,
                or_(
                    reference == synergi_ref.strip().lower(),
                    col(CrisisRow.kind) == kind.value,
                ),
            )
            .order_by(col(CrisisRow.t0))
        )
        return [_crisis(row) for row in self.session.execute(query).scalars()]

    def lock_activations(self) -> None:
        """Serialise activations until commit, so that a duplicate check and its insert are
        one step (PostgreSQL: a transaction advisory lock; SQLite's BEGIN IMMEDIATE already
        serialises every transaction)."""
        if self.lock_rows:
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ACTIVATION_LOCK}
            )

    def crisis(self, crisis_id: str, *, lock: bool = False) -> Crisis:
        """The crisis; with lock, its row is locked until commit (serialises journal appends)."""
        return _crisis(self._row(crisis_id, lock=lock))

    def _row(self, crisis_id: str, *, lock: bool) -> CrisisRow:
        query = select(CrisisRow).where(col(CrisisRow.id) == crisis_id)
        if lock and self.lock_rows:
            query = query.with_for_update()
        row: CrisisRow | None = self.session.execute(query).scalars().first()
        if row is None:
            raise CrisisNotFound(crisis_id)
        return row

    def crisis_ids(self, *, open_only: bool) -> list[str]:
        """Ids of crises, oldest T0 first."""
        query = select(col(CrisisRow.id)).order_by(col(CrisisRow.t0))
        if open_only:
            query = query.where(col(CrisisRow.closed_at).is_(None))
        ids: list[str] = list(self.session.execute(query).scalars())
        return ids

    def crisis_ids_due(self, now: datetime) -> set[str]:
        """Open crises with a planned step already due (what an alarm should have woken)."""
        query = (
            select(col(StepRow.crisis_id))
            .join(CrisisRow, col(CrisisRow.id) == col(StepRow.crisis_id))
            .where(
                col(CrisisRow.closed_at).is_(None),
                col(StepRow.state) == "planned",
                col(StepRow.due_at) <= now,
            )
            .distinct()
        )
        return set(self.session.execute(query).scalars())

    def id_taken(self, crisis_id: str) -> bool:
        """Whether a crisis already has this id."""
        return self.session.get(CrisisRow, crisis_id) is not None

    def insert_crisis(self, crisis: Crisis, steps: Sequence[StepState]) -> None:
        """Store a new crisis with its frozen plan, roster and step rows."""
        self.session.add(
            CrisisRow(
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
                drafts=_drafts_json(crisis.drafts),
            )
        )
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise DuplicateKey(crisis.idempotency_key) from exc
        for position, state in enumerate(steps):
            self.session.add(_step_row(crisis.id, position, state))
        self.session.flush()

    def update_crisis(self, crisis_id: str, **values: Any) -> None:
        """Set columns of the crisis row (closed_at, ciav_number, t0_cip, checkpoints_done,
        drafts: step id -> MessageTemplate)."""
        if "drafts" in values:
            values["drafts"] = _drafts_json(values["drafts"])
        self.session.execute(
            update(CrisisRow).where(col(CrisisRow.id) == crisis_id).values(**values)
        )

    def checkpoints_done(self, crisis_id: str) -> frozenset[int]:
        """Compliance checkpoints already journaled (30, 45, 60)."""
        return frozenset(self._row(crisis_id, lock=False).checkpoints_done)

    # --- steps -------------------------------------------------------------------------------

    def steps(self, crisis_id: str) -> list[StepState]:
        """Every step of the crisis in playbook order."""
        query = (
            select(StepRow)
            .where(col(StepRow.crisis_id) == crisis_id)
            .order_by(col(StepRow.position))
        )
        rows: list[StepRow] = list(self.session.execute(query).scalars())
        return [_step_state(r) for r in rows]

    def save_steps(self, crisis_id: str, states: Iterable[StepState]) -> None:
        """Write the new state of the given steps."""
        for state in states:
            self.session.execute(
                update(StepRow)
                .where(
                    col(StepRow.crisis_id) == crisis_id,
                    col(StepRow.step_id) == state.step_id,
                )
                .values(
                    state=state.status.value,
                    hold_reason=state.hold_reason,
                    held_since=state.held_since,
                    drafted_by=state.drafted_by,
                    approved_by=state.approved_by,
                    triggered_at=state.triggered_at,
                )
            )

    # --- acknowledgements --------------------------------------------------------------------

    def acknowledged(self, crisis_id: str) -> dict[str, str | None]:
        """Contacts who acknowledged, with their commune."""
        query = select(col(AckRow.contact_id), col(AckRow.commune)).where(
            col(AckRow.crisis_id) == crisis_id
        )
        acks: dict[str, str | None] = {r[0]: r[1] for r in self.session.execute(query)}
        return acks

    def record_ack(
        self, crisis_id: str, contact_id: str, commune: str | None, at: datetime
    ) -> None:
        """Remember a contact's first acknowledgement."""
        self.session.add(AckRow(crisis_id=crisis_id, contact_id=contact_id, commune=commune, at=at))
        self.session.flush()

    # --- journal -----------------------------------------------------------------------------

    def append(
        self, crisis_id: str, items: Sequence[tuple[Fact, Actor]], at: datetime
    ) -> list[JournalEntry]:
        """Append facts to the crisis's main courante, chained to its head, in this transaction."""
        if not items:
            return []
        head_seq, head_hash = self._head(crisis_id)
        entries = chain(crisis_id, head_seq, head_hash or GENESIS, items, at, tz=self.timezone)
        self.session.execute(
            insert(JournalRow),
            [
                {
                    "crisis_id": crisis_id,
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor.name,
                    "interface": e.actor.interface.value,
                    "type": e.fact.type,
                    "data": e.fact.model_dump(mode="json"),
                    "text": e.text,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in entries
            ],
        )
        self.update_crisis(crisis_id, journal_seq=entries[-1].seq, journal_head=entries[-1].hash)
        return entries

    def journal_head(self, crisis_id: str) -> tuple[int, str]:
        """The journal's head (last seq and hash), one row read: what live pages watch."""
        return self._head(crisis_id)

    def _head(self, crisis_id: str) -> tuple[int, str]:
        """The chain's head, its row locked until commit on PostgreSQL (serialises appends)."""
        query = select(col(CrisisRow.journal_seq), col(CrisisRow.journal_head)).where(
            col(CrisisRow.id) == crisis_id
        )
        if self.lock_rows:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            raise CrisisNotFound(crisis_id)
        return int(row[0]), str(row[1])

    def journal(self, crisis_id: str, types: Iterable[str] | None = None) -> list[JournalEntry]:
        """The crisis's entries in order (optionally only some fact types)."""
        query = select(JournalRow).where(col(JournalRow.crisis_id) == crisis_id)
        if types is not None:
            query = query.where(col(JournalRow.type).in_(list(types)))
        query = query.order_by(col(JournalRow.seq))
        rows: list[JournalRow] = list(self.session.execute(query).scalars())
        return [_entry(r) for r in rows]

    def stored_journal(self, crisis_id: str) -> tuple[list[StoredEntry], int, str]:
        """Raw entries and the recorded head, for the chain check."""
        row = self._row(crisis_id, lock=False)
        query = (
            select(JournalRow)
            .where(col(JournalRow.crisis_id) == crisis_id)
            .order_by(col(JournalRow.seq))
        )
        rows: list[JournalRow] = list(self.session.execute(query).scalars())
        stored = [
            StoredEntry(
                seq=r.seq,
                at=utc(r.at),
                actor=_stored_actor(r.actor, Interface(r.interface)),
                data=r.data,
                text=r.text,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]
        return stored, row.journal_seq, row.journal_head

    # --- outbox ------------------------------------------------------------------------------

    def enqueue(self, messages: Sequence[SendMessage], at: datetime) -> None:
        """Write intents to the outbox (one row per recipient and channel)."""
        for start in range(0, len(messages), ENQUEUE_CHUNK):  # bounded parameter lists
            self.session.execute(
                insert(OUTBOX),
                [
                    {
                        **m.model_dump(exclude={"engagement", "channel", "role"}),
                        "engagement": m.engagement.value,
                        "channel": m.channel.value,
                        "role": m.role.value if m.role else None,
                        "state": OutboxState.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": at,
                        "created_at": at,
                        "updated_at": at,
                    }
                    for m in messages[start : start + ENQUEUE_CHUNK]
                ],
            )

    def cancel_pending(
        self, crisis_id: str, cancel: CancelPending, at: datetime
    ) -> list[OutboxItem]:
        """Cancel queued (not yet sending) rows matching the request; returns what was cancelled."""
        query = select(OUTBOX).where(
            OUTBOX.c.crisis_id == crisis_id, OUTBOX.c.state == OutboxState.PENDING.value
        )
        if cancel.commune is not None:
            query = query.where(OUTBOX.c.commune == cancel.commune)
        if cancel.engagement is not None:
            query = query.where(OUTBOX.c.engagement == cancel.engagement.value)
        if cancel.contact_id is not None:
            query = query.where(OUTBOX.c.contact_id == cancel.contact_id)
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        items = [_item(r) for r in self.session.execute(query).mappings()]
        if items:
            self.session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([i.id for i in items]))
                .values(
                    state=OutboxState.CANCELLED.value, last_error=cancel.reason[:500], updated_at=at
                )
            )
        return items

    def claim_due(self, channel: ChannelName, now: datetime, limit: int) -> list[OutboxItem]:
        """Take due pending rows of a channel and mark them `sending` (claimed)."""
        query = (
            select(OUTBOX)
            .where(
                OUTBOX.c.state == OutboxState.PENDING.value,
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.next_attempt_at <= now,
            )
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        if self.lock_rows:
            query = query.with_for_update(skip_locked=True)
        items = [_item(r) for r in self.session.execute(query).mappings()]
        if not items:
            return []
        self.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([i.id for i in items]))
            .values(state=OutboxState.SENDING.value, attempts=OUTBOX.c.attempts + 1, updated_at=now)
        )
        return [
            i.model_copy(update={"state": OutboxState.SENDING, "attempts": i.attempts + 1})
            for i in items
        ]

    def next_due(self, channel: ChannelName) -> datetime | None:
        """When the next pending row of a channel falls due."""
        query = select(func.min(col(OutboxRow.next_attempt_at))).where(
            col(OutboxRow.state) == OutboxState.PENDING.value,
            col(OutboxRow.channel) == channel.value,
        )
        value: datetime | None = self.session.execute(query).scalar()
        return None if value is None else utc(value)

    def in_states(self, states: Iterable[OutboxState]) -> list[OutboxItem]:
        """Rows in the given states (recovery after a restart)."""
        query = select(OUTBOX).where(OUTBOX.c.state.in_([s.value for s in states]))
        return [_item(r) for r in self.session.execute(query).mappings()]

    def set_outbox(self, outbox_id: int, at: datetime, **values: Any) -> None:
        """Update one row (state, provider_id, next_attempt_at, last_error)."""
        values["updated_at"] = at
        if isinstance(values.get("state"), OutboxState):
            values["state"] = values["state"].value
        self.session.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))

    def record_outcomes(self, outcomes: Sequence[OutboxUpdate], at: datetime) -> None:
        """Write many attempts' results in one statement (executemany)."""
        if not outcomes:
            return
        # Only rows still in the dispatcher's hands: a provider's receipt (delivered, failed)
        # recorded meanwhile by a callback is never overwritten by the send's own answer.
        statement = (
            update(OUTBOX)
            .where(
                OUTBOX.c.id == bindparam("u_id"),
                or_(  # not IN: an expanding parameter cannot go with executemany
                    OUTBOX.c.state == OutboxState.SENDING.value,
                    OUTBOX.c.state == OutboxState.UNKNOWN.value,
                ),
            )
            .values(
                state=bindparam("u_state"),
                last_error=bindparam("u_error"),
                provider_id=func.coalesce(bindparam("u_provider"), OUTBOX.c.provider_id),
                next_attempt_at=func.coalesce(
                    bindparam("u_retry_at", type_=UtcDateTime()), OUTBOX.c.next_attempt_at
                ),
                updated_at=at,
            )
        )
        self.session.execute(
            statement,
            [
                {
                    "u_id": o.outbox_id,
                    "u_state": o.state.value,
                    "u_error": o.reason[:500],
                    "u_provider": o.provider_id,
                    "u_retry_at": o.retry_at,
                }
                for o in outcomes
            ],
            execution_options={"synchronize_session": False},
        )

    def find_outbox(
        self, *, channel: ChannelName, provider_id: str = "", idempotency_key: str = ""
    ) -> OutboxItem | None:
        """The row a provider callback speaks of: by our key, else by the provider's id."""
        if idempotency_key:
            return self.outbox_by_key(idempotency_key)
        if not provider_id:
            return None
        cond = (OUTBOX.c.channel == channel.value) & (OUTBOX.c.provider_id == provider_id)
        row = self.session.execute(select(OUTBOX).where(cond)).mappings().first()
        return None if row is None else _item(row)

    def outbox_by_key(self, idempotency_key: str) -> OutboxItem | None:
        """The row with this idempotency key (unique across channels)."""
        query = select(OUTBOX).where(OUTBOX.c.idempotency_key == idempotency_key)
        row = self.session.execute(query).mappings().first()
        return None if row is None else _item(row)

    def call_attempts(self, crisis_id: str, step_ids: Sequence[str]) -> list[Attempt]:
        """The calls (voice rows) of escalating steps: what the chains have done so far."""
        query = select(
            OUTBOX.c.step_id,
            OUTBOX.c.contact_id,
            OUTBOX.c.idempotency_key,
            OUTBOX.c.state,
            OUTBOX.c.updated_at,
        ).where(
            OUTBOX.c.crisis_id == crisis_id,
            OUTBOX.c.channel == ChannelName.VOICE.value,
            OUTBOX.c.step_id.in_(list(step_ids)),
        )
        return [
            Attempt(
                step_id=r.step_id,
                contact_id=r.contact_id,
                attempt=_attempt_number(r.idempotency_key),
                state=OutboxState(r.state),
                at=utc(r.updated_at),
            )
            for r in self.session.execute(query)
        ]

    def chains_ended(self, crisis_id: str) -> frozenset[tuple[str, str]]:
        """(step id, group) of the chains already journaled "non joint"."""
        ended: set[tuple[str, str]] = set()
        for entry in self.journal(crisis_id, types=["ChainEnded"]):
            fact = entry.fact
            if isinstance(fact, ChainEnded):
                ended.add((fact.step_id, fact.group))
        return frozenset(ended)

    def outbox_counts(self, crisis_id: str) -> dict[tuple[str, str], int]:
        """Rows per (channel, state), for the status screen."""
        channel, state = col(OutboxRow.channel), col(OutboxRow.state)
        query = (
            select(channel, state, func.count())
            .where(col(OutboxRow.crisis_id) == crisis_id)
            .group_by(channel, state)
        )
        counts: dict[tuple[str, str], int] = {
            (r[0], r[1]): int(r[2]) for r in self.session.execute(query)
        }
        return counts

    def latest_to(
        self, channel: ChannelName, address: str, *, asking_ack: bool
    ) -> OutboxItem | None:
        """The latest message handed to the provider for this address, in an open crisis.

        A reply ("1", "reçu") carries no key: it answers the last message that reached the
        number. Rows never handed over (pending, cancelled, expired) cannot have been answered.
        """
        open_crises = select(col(CrisisRow.id)).where(col(CrisisRow.closed_at).is_(None))
        left = [
            OutboxState.SENDING,
            OutboxState.SENT,
            OutboxState.DELIVERED,
            OutboxState.FAILED,  # "undelivered" receipts are sometimes wrong: a reply proves it
            OutboxState.UNKNOWN,
        ]
        query = select(OUTBOX).where(
            OUTBOX.c.channel == channel.value,
            OUTBOX.c.address == address,
            OUTBOX.c.state.in_([s.value for s in left]),
            OUTBOX.c.crisis_id.in_(open_crises),
        )
        if asking_ack:
            query = query.where(OUTBOX.c.ask_acknowledgement.is_(True))
        query = query.order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id.desc()).limit(1)
        row = self.session.execute(query).mappings().first()
        return None if row is None else _item(row)

    # --- row <-> model ---------------------------------------------------------------------------

    def cip_previous(self, crisis_id: str) -> dict[str, object] | None:
        """The numéro unique's configuration saved when the CIP opened (restored at closing)."""
        return self._row(crisis_id, lock=False).cip_previous

    def set_cip_previous(self, crisis_id: str, previous: dict[str, object] | None) -> None:
        """Keep (or forget, once restored) the numéro unique's previous configuration."""
        self.session.execute(
            update(CrisisRow).where(col(CrisisRow.id) == crisis_id).values(cip_previous=previous)
        )

    def open_cip(self, number: str) -> Crisis | None:
        """The open crisis whose CIP answers on this numéro unique, if any (the latest T0)."""
        query = (
            select(CrisisRow)
            .where(col(CrisisRow.cip_number) == number, col(CrisisRow.closed_at).is_(None))
            .order_by(col(CrisisRow.t0).desc())
        )
        row: CrisisRow | None = self.session.execute(query).scalars().first()
        return None if row is None else _crisis(row)

    def scrub_contact(self, contact_id: str) -> ScrubbedContact:
        """Erase a contact's name and addresses from closed crises (frozen roster, outbox).

        Crises still open are only listed: their sends may still need the addresses, so the
        caller refuses the erasure until they are closed. The journal names contacts by id
        only and is never rewritten.
        """
        rows = self.session.execute(select(CrisisRow)).scalars().all()
        concerned = [r for r in rows if any(c.get("id") == contact_id for c in r.roster)]
        still_open = tuple(r.id for r in concerned if r.closed_at is None)
        closed = [r for r in concerned if r.closed_at is not None]
        if still_open:
            return ScrubbedContact(open_crises=still_open)
        for row in closed:
            row.roster = [
                {**c, "name": ERASED, "mobile": None, "landline": None, "email": None}
                if c.get("id") == contact_id
                else c
                for c in row.roster
            ]
            self.session.add(row)
        ids = [r.id for r in closed]
        cleared = 0
        if ids:
            mine = (OUTBOX.c.contact_id == contact_id) & OUTBOX.c.crisis_id.in_(ids)
            cleared = self.session.execute(
                select(func.count()).select_from(OUTBOX).where(mine)
            ).scalar_one()
            self.session.execute(update(OUTBOX).where(mine).values(address=ERASED, display_name=""))
        self.session.flush()
        return ScrubbedContact(closed_crises=tuple(ids), outbox_rows=cleared)


def _attempt_number(key: str) -> int:
    """Escalation keys end with ":r<n>" from the second call to a person on."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail[1:]) if tail.startswith("r") and tail[1:].isdigit() else 1


def _crisis(row: CrisisRow) -> Crisis:
    return Crisis(
        id=row.id,
        kind=EventKind(row.kind),
        mode=Mode(row.mode),
        t0=utc(row.t0),
        synergi_ref=row.synergi_ref,
        communes=tuple(row.communes),
        commune_names=dict(row.commune_names),
        recorded_by=_stored_actor(row.recorded_by, Interface(row.recorded_via)),
        recorded_at=utc(row.recorded_at),
        idempotency_key=row.idempotency_key,
        plan=Plan.model_validate(row.plan),
        roster=tuple(Contact.model_validate(c) for c in row.roster),
        closed_at=_opt_utc(row.closed_at),
        ciav_number=row.ciav_number,
        t0_cip=_opt_utc(row.t0_cip),
        cip_number=row.cip_number,
        participants=None
        if row.participants is None
        else ExerciseAllowList.model_validate(row.participants),
        drafts={k: MessageTemplate.model_validate(v) for k, v in (row.drafts or {}).items()},
    )


def _stored_actor(name: str, interface: Interface) -> Actor:
    """An author as stored, unchecked: entries written before the author rule (an empty
    `--by`) stay readable, and verifiable, exactly as they were chained."""
    return Actor.model_construct(name=name, interface=interface)


def _drafts_json(drafts: Mapping[str, MessageTemplate]) -> dict[str, object]:
    return {step_id: t.model_dump(mode="json") for step_id, t in drafts.items()}


def _step_row(crisis_id: str, position: int, state: StepState) -> StepRow:
    return StepRow(
        crisis_id=crisis_id,
        step_id=state.step_id,
        position=position,
        due_at=state.due_at,
        state=state.status.value,
    )


def _step_state(row: StepRow) -> StepState:
    return StepState(
        step_id=row.step_id,
        due_at=utc(row.due_at),
        status=StepStatus(row.state),
        hold_reason=row.hold_reason,
        held_since=_opt_utc(row.held_since),
        drafted_by=row.drafted_by,
        approved_by=row.approved_by,
        triggered_at=_opt_utc(row.triggered_at),
    )


def _entry(row: JournalRow) -> JournalEntry:
    return JournalEntry(
        crisis_id=row.crisis_id,
        seq=row.seq,
        at=utc(row.at),
        actor=_stored_actor(row.actor, Interface(row.interface)),
        fact=parse_fact(row.data),
        text=row.text,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _item(row: RowMapping) -> OutboxItem:
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
            valid_until=_opt_utc(row["valid_until"]),
            ask_acknowledgement=row["ask_acknowledgement"],
            exercise=row["exercise"],
            message_version=row["message_version"],
        ),
    )

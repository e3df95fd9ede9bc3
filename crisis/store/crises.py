"""The crises repository: crisis rows, their steps and acknowledgements, the CIP, erasure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from crisis.model import Crisis, Mode, StepState
from crisis.store.changes import Changes
from crisis.store.errors import CrisisNotFound, DuplicateKey
from crisis.store.rows import crisis_of, crisis_row, drafts_json, step_row, step_state
from crisis.store.tables import OUTBOX, AckRow, CrisisRow, StepRow
from playbooks.model import EventKind

ACTIVATION_LOCK = 0x43524953_00000001  # PostgreSQL advisory lock key: recording a T0
ERASED = "[effacé]"


@dataclass(frozen=True)
class ScrubbedContact:
    """What an erasure changed in past crises, or the open crises that prevent it."""

    closed_crises: tuple[str, ...] = ()
    outbox_rows: int = 0
    open_crises: tuple[str, ...] = ()


def locked_crisis_row(session: Session, crisis_id: str, *, lock: bool) -> CrisisRow:
    """The crisis's row (locked until commit when `lock`), or CrisisNotFound."""
    query = select(CrisisRow).where(col(CrisisRow.id) == crisis_id)
    if lock:
        query = query.with_for_update()
    row: CrisisRow | None = session.execute(query).scalars().first()
    if row is None:
        raise CrisisNotFound(crisis_id)
    return row


class CrisesTx:
    """Crises, steps, acknowledgements and the CIP's number, in one unit of work (mixed into
    `Tx`)."""

    session: Session
    lock_rows: bool
    changes: Changes  # a running service re-reads the crises recorded or changed

    def crisis_by_key(self, idempotency_key: str) -> Crisis | None:
        """The crisis recorded with this idempotency key, if any."""
        query = select(CrisisRow).where(col(CrisisRow.idempotency_key) == idempotency_key)
        row: CrisisRow | None = self.session.execute(query).scalars().first()
        return None if row is None else crisis_of(row)

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
        return [crisis_of(row) for row in self.session.execute(query).scalars()]

    def lock_activations(self) -> None:
        """Serialise activations until commit, so that a duplicate check and its insert are
        one step (PostgreSQL: a transaction advisory lock; SQLite's BEGIN IMMEDIATE already
        serialises every transaction)."""
        if self.lock_rows:
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACTIVATION_LOCK}
            )

    def crisis(self, crisis_id: str, *, lock: bool = False) -> Crisis:
        """The crisis; with lock, its row is locked until commit (serialises journal appends)."""
        return crisis_of(self._row(crisis_id, lock=lock))

    def _row(self, crisis_id: str, *, lock: bool) -> CrisisRow:
        return locked_crisis_row(self.session, crisis_id, lock=lock and self.lock_rows)

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
        self.changes.crises.add(crisis.id)
        self.session.add(crisis_row(crisis))
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise DuplicateKey(crisis.idempotency_key) from exc
        for position, state in enumerate(steps):
            self.session.add(step_row(crisis.id, position, state))
        self.session.flush()

    def update_crisis(self, crisis_id: str, **values: Any) -> None:
        """Set columns of the crisis row (closed_at, ciav_number, t0_cip, checkpoints_done,
        drafts: step id -> MessageTemplate)."""
        if "drafts" in values:
            values["drafts"] = drafts_json(values["drafts"])
        self.changes.crises.add(crisis_id)
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
        return [step_state(r) for r in rows]

    def save_steps(self, crisis_id: str, states: Iterable[StepState]) -> None:
        """Write the new state of the given steps."""
        for state in states:
            self.changes.crises.add(crisis_id)
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
                    due_at=state.due_at,  # a rectified T0 moves the steps still planned
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

    # --- the CIP -----------------------------------------------------------------------------

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
        return None if row is None else crisis_of(row)

    # --- erasure -----------------------------------------------------------------------------

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

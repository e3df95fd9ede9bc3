"""Tables. Times are stored in UTC; JSON columns hold frozen pydantic models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC: SQLite would otherwise drop the offset of a local time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("only timezone-aware datetimes are stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


class CrisisRow(SQLModel, table=True):
    """A crisis or exercise, its frozen plan and roster, and the head of its journal chain."""

    __tablename__ = "crisis"

    id: str = Field(primary_key=True, max_length=40)
    idempotency_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=40)
    mode: str = Field(max_length=20)
    t0: datetime = Field(sa_column=_ts())
    synergi_ref: str = Field(max_length=100)
    communes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    commune_names: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_via: str = Field(max_length=20)
    recorded_at: datetime = Field(sa_column=_ts())
    plan: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    roster: list[dict[str, object]] = Field(sa_column=Column(JSON, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ciav_number: str | None = Field(default=None, max_length=40)
    t0_cip: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # exercise: who real sends may reach (crisis.model.ExerciseAllowList; None: real event)
    participants: dict[str, object] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    cip_number: str | None = Field(default=None, max_length=40)
    # the numéro unique's configuration before the CIP, restored when it closes
    cip_previous: dict[str, object] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    checkpoints_done: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # step id -> the message written on the dashboard before approval (playbooks MessageTemplate)
    drafts: dict[str, object] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, server_default="{}"),
    )
    journal_seq: int = 0
    journal_head: str = Field(default="", max_length=64)


class StepRow(SQLModel, table=True):
    """Where each planned step of a crisis stands."""

    __tablename__ = "step"

    crisis_id: str = Field(primary_key=True, foreign_key="crisis.id", max_length=40)
    step_id: str = Field(primary_key=True, max_length=64)
    position: int
    due_at: datetime = Field(sa_column=_ts())
    state: str = Field(default="planned", max_length=20)  # planned, held, approval, done
    hold_reason: str = Field(default="", max_length=200)
    held_since: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    drafted_by: str = Field(default="", max_length=200)
    approved_by: str = Field(default="", max_length=200)
    triggered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AckRow(SQLModel, table=True):
    """First acknowledgement of each contact in a crisis."""

    __tablename__ = "acknowledgement"

    crisis_id: str = Field(primary_key=True, foreign_key="crisis.id", max_length=40)
    contact_id: str = Field(primary_key=True, max_length=80)
    commune: str | None = Field(default=None, max_length=10)
    at: datetime = Field(sa_column=_ts())


class OutboxRow(SQLModel, table=True):
    """One message for one recipient on one channel: written before any provider call."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "channel", "next_attempt_at"),
        Index("ix_outbox_provider", "channel", "provider_id"),
        Index("ix_outbox_crisis", "crisis_id", "commune", "engagement"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=250)
    crisis_id: str = Field(foreign_key="crisis.id", max_length=40)
    step_id: str = Field(max_length=64)
    engagement: str = Field(max_length=10)
    channel: str = Field(max_length=20)
    contact_id: str = Field(max_length=80)
    address: str = Field(max_length=250)
    display_name: str = Field(default="", max_length=200)
    role: str | None = Field(default=None, max_length=40)
    commune: str | None = Field(default=None, max_length=10)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body: str = Field(sa_column=Column(Text, nullable=False))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    valid_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ask_acknowledgement: bool = False
    exercise: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    message_version: int = 1
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_ts())
    provider_id: str | None = Field(default=None, max_length=100)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class JournalRow(SQLModel, table=True):
    """One main-courante entry, hash-chained within its crisis."""

    __tablename__ = "journal"
    __table_args__ = (UniqueConstraint("crisis_id", "seq", name="uq_journal_crisis_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: str = Field(foreign_key="crisis.id", max_length=40, index=True)
    seq: int
    at: datetime = Field(sa_column=_ts())
    actor: str = Field(max_length=200)
    interface: str = Field(max_length=20)
    type: str = Field(max_length=40, index=True)
    data: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


# --- the directory (source "database"): communes, contacts, training records, rosters ------


class DirectoryCommuneRow(SQLModel, table=True):
    """A commune of the directory (code INSEE), in the order of the directory."""

    __tablename__ = "directory_commune"

    code_insee: str = Field(primary_key=True, max_length=10)
    position: int
    nom: str = Field(max_length=200)
    population: int = 0
    arrondissement: str = Field(default="", max_length=10)
    epci: str = Field(default="", max_length=20)


class DirectoryContactRow(SQLModel, table=True):
    """A contact of the directory (personal data: numbers and e-mail stay in this table)."""

    __tablename__ = "directory_contact"
    __table_args__ = (Index("ix_directory_contact_commune", "commune", "role"),)

    id: str = Field(primary_key=True, max_length=80)
    position: int
    name: str = Field(max_length=300)
    role: str = Field(max_length=40)
    commune: str | None = Field(default=None, max_length=10)
    rank: int = 0
    mobile: str | None = Field(default=None, max_length=20)
    landline: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    trained: bool = False


class TrainingRecordRow(SQLModel, table=True):
    """One training session or exercise of a contact."""

    __tablename__ = "training_record"

    id: int | None = Field(default=None, primary_key=True)
    position: int
    contact_id: str = Field(foreign_key="directory_contact.id", max_length=80, index=True)
    kind: str = Field(max_length=20)
    held_on: date
    duration_days: float = 1.0
    with_cip_activation: bool = False
    label: str = Field(default="", max_length=300)


class RosterSlotRow(SQLModel, table=True):
    """One on-call slot: a role, a holder and an optional deputy from `starts` to `ends`."""

    __tablename__ = "roster_slot"
    __table_args__ = (Index("ix_roster_slot_role", "role", "starts"),)

    id: int | None = Field(default=None, primary_key=True)
    position: int
    role: str = Field(max_length=40)
    starts: datetime = Field(sa_column=_ts())
    ends: datetime = Field(sa_column=_ts())
    contact_id: str = Field(foreign_key="directory_contact.id", max_length=80, index=True)
    deputy_id: str | None = Field(
        default=None, foreign_key="directory_contact.id", max_length=80, index=True
    )


class DirectoryRevisionRow(SQLModel, table=True):
    """One row: bumped by every change of the directory, so readers know when to re-read."""

    __tablename__ = "directory_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = 0


# --- web accounts: users, API tokens, login attempts (crisis/store/accounts.py) ------------


class WebUserRow(SQLModel, table=True):
    """A web account: role, argon2 password hash, optional TOTP secret."""

    __tablename__ = "web_user"

    login: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=40)
    password_hash: str = Field(max_length=255)
    totp_secret: str | None = Field(default=None, max_length=64)
    disabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class ApiTokenRow(SQLModel, table=True):
    """An API token: only its sha256 is kept, and its first characters to list it."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(foreign_key="web_user.login", max_length=64, index=True)
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16, index=True)
    created_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class LoginAttemptRow(SQLModel, table=True):
    """One login attempt (rate limiting and audit): who, from where, when, whether it passed."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_login", "login", "at"),
        Index("ix_login_attempt_source", "source", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=200)
    source: str = Field(max_length=100)
    at: datetime = Field(sa_column=_ts())
    ok: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))


class RevokedSessionRow(SQLModel, table=True):
    """A dashboard session ended by its owner (logout) before its cookie expires: refused until
    then. Only the session's random id is kept, never the cookie."""

    __tablename__ = "web_session_revoked"

    session_id: str = Field(primary_key=True, max_length=64)
    login: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=_ts())


OUTBOX: Table = metadata.tables["outbox"]  # Core access for the dispatcher's bulk reads and writes

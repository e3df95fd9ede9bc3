"""Web accounts in the database: users, API tokens (sha256 only), login attempts.

Mixed into `Tx`: every operation runs inside `Store.transaction()`. Times are given by the
caller (from the Clock), never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from crisis.accounts import ApiToken, WebRole, WebUser
from crisis.store.rows import optional_utc
from crisis.store.tables import metadata

USERS: Table = metadata.tables["web_user"]
TOKENS: Table = metadata.tables["api_token"]
ATTEMPTS: Table = metadata.tables["login_attempt"]
REVOKED: Table = metadata.tables["web_session_revoked"]
_USER_COLUMNS = frozenset({"display_name", "role", "password_hash", "totp_secret", "disabled"})


class AccountExists(Exception):
    """A web account with this login is already stored."""


class UnknownAccount(LookupError):
    """No web account with this login."""

    def __init__(self, login: str) -> None:
        super().__init__(f"aucun compte « {login} »")
        self.login = login


def _user(row: RowMapping) -> WebUser:
    created, updated = optional_utc(row["created_at"]), optional_utc(row["updated_at"])
    assert created is not None and updated is not None
    return WebUser(
        login=row["login"],
        display_name=row["display_name"],
        role=WebRole(row["role"]),
        password_hash=row["password_hash"],
        totp_secret=row["totp_secret"],
        disabled=bool(row["disabled"]),
        created_at=created,
        updated_at=updated,
    )


def _token(row: RowMapping) -> ApiToken:
    created = optional_utc(row["created_at"])
    assert created is not None
    return ApiToken(
        id=row["id"],
        login=row["login"],
        prefix=row["prefix"],
        created_at=created,
        revoked_at=optional_utc(row["revoked_at"]),
        last_used_at=optional_utc(row["last_used_at"]),
    )


class AccountsTx:
    """Account operations of a unit of work (mixed into `Tx`)."""

    session: Session

    # --- users -----------------------------------------------------------------------------

    def add_user(self, user: WebUser) -> None:
        """Store a new account (AccountExists if the login is taken)."""
        if self.user(user.login) is not None:
            raise AccountExists(user.login)
        try:  # a concurrent creation of the same login
            self.session.execute(insert(USERS).values(**user.model_dump()))
        except IntegrityError as exc:
            raise AccountExists(user.login) from exc

    def user(self, login: str) -> WebUser | None:
        """The account with this login, disabled or not."""
        row = self.session.execute(select(USERS).where(USERS.c.login == login)).mappings().first()
        return None if row is None else _user(row)

    def users(self) -> list[WebUser]:
        """Every account, by login."""
        rows = self.session.execute(select(USERS).order_by(USERS.c.login)).mappings()
        return [_user(r) for r in rows]

    def update_user(self, login: str, at: datetime, **values: Any) -> WebUser:
        """Change an account (display_name, role, password_hash, totp_secret, disabled)."""
        unknown = set(values) - _USER_COLUMNS
        if unknown:
            raise ValueError(f"not an account column: {sorted(unknown)}")
        if isinstance(values.get("role"), WebRole):
            values["role"] = values["role"].value
        done = self.session.execute(
            update(USERS).where(USERS.c.login == login).values(**values, updated_at=at)
        )
        if getattr(done, "rowcount", 0) == 0:
            raise UnknownAccount(login)
        user = self.user(login)
        assert user is not None
        return user

    # --- API tokens ------------------------------------------------------------------------

    def add_token(self, login: str, token_hash: str, prefix: str, at: datetime) -> ApiToken:
        """Store a new token's hash for an account (UnknownAccount if there is none)."""
        if self.user(login) is None:
            raise UnknownAccount(login)
        result = self.session.execute(
            insert(TOKENS)
            .values(login=login, token_hash=token_hash, prefix=prefix, created_at=at)
            .returning(TOKENS.c.id)
        )
        token_id = int(result.scalar_one())
        return ApiToken(id=token_id, login=login, prefix=prefix, created_at=at)

    def tokens(self, login: str | None = None) -> list[ApiToken]:
        """Tokens (revoked ones too), oldest first; of one account if `login` is given."""
        query = select(TOKENS).order_by(TOKENS.c.created_at, TOKENS.c.id)
        if login is not None:
            query = query.where(TOKENS.c.login == login)
        return [_token(r) for r in self.session.execute(query).mappings()]

    def user_for_token(self, token_hash: str, at: datetime) -> WebUser | None:
        """The enabled account an active token belongs to (its last use noted), else None."""
        row = (
            self.session.execute(
                select(TOKENS.c.id, USERS)
                .join(USERS, USERS.c.login == TOKENS.c.login)
                .where(
                    TOKENS.c.token_hash == token_hash,
                    TOKENS.c.revoked_at.is_(None),
                    USERS.c.disabled.is_(False),
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        self.session.execute(update(TOKENS).where(TOKENS.c.id == row["id"]).values(last_used_at=at))
        return _user(row)

    def revoke_tokens(self, prefix: str, at: datetime) -> list[ApiToken]:
        """Revoke the active tokens starting with `prefix`; returns them (empty: none)."""
        query = select(TOKENS).where(TOKENS.c.prefix == prefix, TOKENS.c.revoked_at.is_(None))
        found = [_token(r) for r in self.session.execute(query).mappings()]
        if found:
            self.session.execute(
                update(TOKENS).where(TOKENS.c.id.in_([t.id for t in found])).values(revoked_at=at)
            )
        return [t.model_copy(update={"revoked_at": at}) for t in found]

    # --- sessions ended before their time ---------------------------------------------------

    def revoke_session(
        self, session_id: str, login: str, expires_at: datetime, now: datetime
    ) -> None:
        """Refuse this session from now until its cookie would expire anyway; forget the
        revocations that no longer matter."""
        self.session.execute(delete(REVOKED).where(REVOKED.c.expires_at < now))
        exists = self.session.execute(
            select(REVOKED.c.session_id).where(REVOKED.c.session_id == session_id[:64])
        ).first()
        if exists is None:
            self.session.execute(
                insert(REVOKED).values(
                    session_id=session_id[:64], login=login[:64], expires_at=expires_at
                )
            )

    def session_revoked(self, session_id: str) -> bool:
        """Whether this session was ended by a logout."""
        query = select(REVOKED.c.session_id).where(REVOKED.c.session_id == session_id[:64])
        return self.session.execute(query).first() is not None

    # --- login attempts --------------------------------------------------------------------

    def record_attempt(self, login: str, source: str, at: datetime, *, ok: bool) -> None:
        """Remember a login attempt (rate limiting, audit)."""
        self.session.execute(
            insert(ATTEMPTS).values(login=login[:200], source=source[:100], at=at, ok=ok)
        )

    def login_failures(self, login: str, since: datetime) -> list[datetime]:
        """Failed attempts on this login since `since` and after its last success."""
        last_ok = self.session.execute(
            select(func.max(ATTEMPTS.c.at)).where(
                ATTEMPTS.c.login == login[:200], ATTEMPTS.c.ok.is_(True)
            )
        ).scalar()
        start = since if last_ok is None else max(since, optional_utc(last_ok) or since)
        query = select(ATTEMPTS.c.at).where(
            ATTEMPTS.c.login == login[:200], ATTEMPTS.c.ok.is_(False), ATTEMPTS.c.at > start
        )
        return _times(self.session.execute(query).scalars().all())

    def source_failures(self, source: str, since: datetime) -> list[datetime]:
        """Failed attempts from this source address since `since`, whatever the login."""
        query = select(ATTEMPTS.c.at).where(
            ATTEMPTS.c.source == source[:100], ATTEMPTS.c.ok.is_(False), ATTEMPTS.c.at > since
        )
        return _times(self.session.execute(query).scalars().all())

    def prune_attempts(self, before: datetime) -> int:
        """Forget attempts older than `before`; how many were removed."""
        done = self.session.execute(delete(ATTEMPTS).where(ATTEMPTS.c.at < before))
        return int(getattr(done, "rowcount", 0))


def _times(values: Sequence[datetime]) -> list[datetime]:
    return sorted(t for t in (optional_utc(v) for v in values) if t is not None)

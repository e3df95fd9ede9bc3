"""Dashboard sessions: a signed cookie (HMAC-SHA256), a CSRF token per session.

The cookie holds who is logged in (or nobody: the login form still needs a CSRF token), the
session's random id and CSRF token, when it was issued and the account's `updated_at` at login:
a password reset, a role change or a disabled account ends every session opened before it, and
a logout records the session's id as revoked until the cookie would expire (a copied cookie is
refused after logout). Nothing secret is in the cookie; its signature key is derived from
CRISIS_WEB_SECRET for this use only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

__all__ = ["SESSION_LIFETIME", "Session", "SessionCodec", "is_local_http"]

SESSION_LIFETIME = timedelta(hours=12)  # a night on call; then log in again
_CONTEXT = b"crisis-web-session:v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_local_http(base_url: str) -> bool:
    """Whether the public address is plain http on the loopback (tests, a workstation)."""
    parts = urlsplit(base_url)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Session:
    """What the cookie says: the account (None before login), the CSRF token, its times."""

    login: str | None
    csrf: str = field(repr=False)
    issued_at: datetime
    stamp: str = ""  # the account's updated_at at login
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(18))  # revocable id

    @classmethod
    def anonymous(cls, now: datetime) -> Session:
        """A session with a fresh CSRF token and nobody logged in (the login form's)."""
        return cls(login=None, csrf=secrets.token_urlsafe(32), issued_at=now)

    @classmethod
    def of_user(cls, login: str, stamp: str, now: datetime) -> Session:
        """A fresh session for an account that just logged in (new id and CSRF token: no
        fixation)."""
        return cls(login=login, csrf=secrets.token_urlsafe(32), issued_at=now, stamp=stamp)

    @property
    def expires_at(self) -> datetime:
        """When the cookie stops being accepted anyway."""
        return self.issued_at + SESSION_LIFETIME

    def csrf_ok(self, given: str | None) -> bool:
        """Whether a form's hidden token is this session's."""
        return bool(given) and hmac.compare_digest(self.csrf.encode(), (given or "").encode())


class SessionCodec:
    """Signs and reads the session cookie."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        if len(secret) < 32:
            raise ValueError("secret de session trop court (32 octets au moins)")
        self._key = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()
        self.secure = secure
        # __Host-: the browser refuses it unless Secure, path=/ and no Domain (no subdomain
        # can plant one); on plain http (tests) a plain name
        self.cookie_name = "__Host-crise" if secure else "crise"

    def __repr__(self) -> str:
        return f"SessionCodec(secure={self.secure})"

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def encode(self, session: Session) -> str:
        """The cookie's value."""
        payload = json.dumps(
            {
                "l": session.login,
                "c": session.csrf,
                "i": session.issued_at.isoformat(),
                "s": session.stamp,
                "d": session.sid,
            },
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, value: str | None, now: datetime) -> Session | None:
        """The session a cookie carries, or None (absent, forged, damaged or expired)."""
        if not value:
            return None
        encoded, _, mac = value.partition(".")
        try:
            payload = _unb64(encoded)
            given = _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(given, self._mac(payload)):
            return None
        try:
            data = json.loads(payload)
            session = Session(
                login=data["l"],
                csrf=str(data["c"]),
                issued_at=datetime.fromisoformat(data["i"]),
                stamp=str(data["s"]),
                sid=str(data["d"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if not session.issued_at <= now + timedelta(minutes=5):
            return None  # issued in the future: another clock, refuse
        if now - session.issued_at > SESSION_LIFETIME:
            return None
        return session

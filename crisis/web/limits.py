"""Request body limits, applied before any route or authentication runs (pure ASGI).

FastAPI reads a JSON body before it checks the token: without a limit, an unauthenticated
300 MB POST is held in memory before its 401. This middleware refuses a declared
Content-Length above the limit at once (413, nothing read) and stops a streamed (chunked)
body as soon as it passes the limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException

__all__ = [
    "API_MAX_BODY",
    "DEFAULT_MAX_BODY",
    "IMPORT_MAX_BODY",
    "LIMITS",
    "WEBHOOK_MAX_BODY",
    "BodyLimit",
    "BodyTooLarge",
    "limit_for",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
API_MAX_BODY = 64 * KIB  # an activation of 5,000 communes is about 45 kB
WEBHOOK_MAX_BODY = 64 * KIB  # Twilio's callbacks are a few kB
IMPORT_MAX_BODY = 6 * KIB * KIB  # the directory import: a 5 MB CSV plus the form around it
DEFAULT_MAX_BODY = 256 * KIB  # dashboard forms (a drafted message: ten texts)
LIMITS: tuple[tuple[str, int], ...] = (  # longest prefix first
    ("/annuaire/import", IMPORT_MAX_BODY),
    ("/api/", API_MAX_BODY),
    ("/webhooks/", WEBHOOK_MAX_BODY),
)


def limit_for(path: str, limits: Sequence[tuple[str, int]] = LIMITS) -> int:
    """The body limit of a path (bytes)."""
    return next((size for prefix, size in limits if path.startswith(prefix)), DEFAULT_MAX_BODY)


def _refusal(limit: int) -> str:
    size = f"{limit // (KIB * KIB)} Mio" if limit >= KIB * KIB else f"{limit // KIB} Kio"
    return f"requête trop volumineuse : {size} au plus pour cette adresse"


class BodyTooLarge(HTTPException):
    """A streamed body passed its limit (raised from `receive`; FastAPI lets it through as a
    413, where any other error while reading a body becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _refusal(limit))


class BodyLimit:
    """ASGI middleware: a body limit per path prefix (LIMITS), before the application."""

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, int]] = LIMITS) -> None:
        self.app = app
        self.limits = tuple(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(str(scope.get("path", "")), self.limits)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_413(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer_413(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _refusal(limit)}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

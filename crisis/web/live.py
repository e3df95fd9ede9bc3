"""Live board: server-sent events carrying the head of a crisis's main courante.

The server polls the store (about once a second) and emits the journal's head sequence number
when it changes; the page's script then fetches the board's fragments again. Nothing else goes
down the stream: no personal data, no text, just a number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from crisis.queries.board import journal_head

__all__ = ["POLL_SECONDS", "journal_head", "sse_stream"]

POLL_SECONDS = 1.0
KEEPALIVE_POLLS = 15  # a comment line every ~15 s keeps proxies from closing an idle stream


async def sse_stream(
    head: Callable[[], int | None],
    disconnected: Callable[[], Awaitable[bool]],
    *,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[str]:
    """Events `id: N / data: N` each time the head changes; stops when the client is gone."""
    last: int | None = None
    idle = 0
    yield f"retry: {int(poll_seconds * 3000)}\n\n"
    while not await disconnected():
        current = await run_in_threadpool(head)
        if current is None:
            yield "event: fin\ndata: inconnu\n\n"
            return
        if current != last:
            last, idle = current, 0
            yield f"id: {current}\ndata: {current}\n\n"
        else:
            idle += 1
            if idle >= KEEPALIVE_POLLS:
                idle = 0
                yield ": attente\n\n"
        await sleep(poll_seconds)

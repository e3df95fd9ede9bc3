"""The aiohttp session under the Twilio SDK's own async client (AsyncTwilioHttpClient): opened
in the running event loop at the first request, with the [twilio] timeout on every request and
enough connections for the channel's concurrency; closed by the channel at shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientTimeout, TCPConnector

__all__ = ["DEFAULT_CONNECTIONS", "KEEPALIVE_S", "LoopSession"]

# aiohttp's own default pool size; a channel allowed more requests at once gets more
DEFAULT_CONNECTIONS = 100
# An idle connection is closed after this, below the 5 s after which common servers (Node's
# default, Prism) close theirs: a request written on a connection the server is closing fails
# as "connexion coupée", an ambiguous send that must then be looked up.
KEEPALIVE_S = 4.0


class LoopSession:
    """What AsyncTwilioHttpClient sends through (its `session`), in place of a ClientSession.

    An aiohttp session belongs to the event loop it was made in: this one is made at the first
    request, in the loop running it, and again in a later loop (a CLI command runs its own).
    Every request gets `timeout_s` to connect and `timeout_s` between two reads, as the
    synchronous client had: the SDK passes no timeout of its own (twilio-python #925), and
    aiohttp would then wait without limit. The pool holds at least `connections` connections,
    so that the dispatcher's concurrency, not the pool, bounds the requests in flight. No
    retries here (no aiohttp_retry): the dispatcher owns them. `close()` closes the session; a
    later request opens a new one.
    """

    def __init__(self, timeout_s: float, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.timeout = ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        self.connections = max(connections, DEFAULT_CONNECTIONS)
        self._session: ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def opened(self) -> ClientSession | None:
        """The open aiohttp session, if any (a closed one is not)."""
        return self._session if self._session is not None and not self._session.closed else None

    def _current(self) -> ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # a session left in a finished loop cannot be closed from this one: it is dropped
            connector = TCPConnector(limit=self.connections, keepalive_timeout=KEEPALIVE_S)
            self._session = ClientSession(connector=connector)
            self._loop = loop
        return self._session

    async def request(self, **kwargs: Any) -> ClientResponse:
        """The SDK's call (method, url, params, data, headers, auth, timeout, allow_redirects),
        with this session's timeout instead of the SDK's None."""
        kwargs["timeout"] = self.timeout
        return await self._current().request(**kwargs)

    async def close(self) -> None:
        """Close the open session, if any (in the loop that used it)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

"""Group commit: the items submitted while the event loop is busy are written together, in one
call of `commit` (one transaction), and each submitter is answered once that call returned.

A storm of provider receipts (35,000 SMS delivered within a minute) then costs one
transaction per batch rather than one per receipt. The writer runs on the event loop, like
the webhooks and the dispatcher: a batch is written as soon as the callbacks that were ready
in the same loop turn have joined it, and waits a few more milliseconds only while more keep
coming (at most `max_wait`, at most `max_items` per batch). One callback alone waits one loop
turn, no more. A commit that raises fails every item of its batch: nothing of it was kept,
and each submitter gets the exception (the webhook answers 5xx, the provider sends again).
`split` names the errors that belong to one item (a value the database refused): the batch
is then written again one item per call, so that one bad item does not fail its neighbours.

No task runs while nothing waits: a batch's task ends with its batch. `stop()` waits for the
batch being written and refuses new items (GroupCommitClosed) until `start()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit", "GroupCommitClosed"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_ITEMS = 500
MAX_WAIT = 0.005  # seconds a batch waits for more items, at most, once several are waiting


class GroupCommitClosed(Exception):
    """The writer is stopped (the service is shutting down): nothing was written."""


class GroupCommit(Generic[T, R]):
    """Batches the items submitted on the event loop into calls of `commit(items) -> results`
    (one result per item, in order)."""

    def __init__(
        self,
        commit: Callable[[Sequence[T]], Sequence[R]],
        *,
        max_items: int = MAX_ITEMS,
        max_wait: float = MAX_WAIT,
        split: tuple[type[Exception], ...] = (),
    ) -> None:
        self._commit = commit
        self.max_items = max_items
        self.max_wait = max_wait
        self._split = split
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # commits called so far (figures, tests)

    def start(self) -> None:
        """Accept items (a writer accepts them from its construction until `stop`)."""
        self._closed = False

    async def stop(self) -> None:
        """Refuse new items, and return once every item already submitted is written."""
        self._closed = True
        while self._task is not None:
            await asyncio.shield(self._task)

    async def submit(self, item: T) -> R:
        """Write `item` with the others waiting; its result once its batch is committed.
        Raises what the commit raised (nothing of the batch was kept), GroupCommitClosed
        when stopped."""
        if self._closed:
            raise GroupCommitClosed
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                await self._gather()
                batch = self._waiting[: self.max_items]
                del self._waiting[: self.max_items]
                self._settle(batch)
        except BaseException:  # cancelled with the loop: nobody is left waiting forever
            waiting, self._waiting = self._waiting, []
            for _, future in waiting:
                _fail(future, GroupCommitClosed())
            raise
        finally:
            self._task = None

    async def _gather(self) -> None:
        """Let the items ready in this loop turn join; then, while several wait and more keep
        coming, a few more turns (bounded by max_wait and max_items)."""
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        seen = 1
        while seen < len(self._waiting) < self.max_items and loop.time() < deadline:
            seen = len(self._waiting)
            await asyncio.sleep(0)

    def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Commit a batch and answer its submitters (a cancelled one is not waited for)."""
        self.batches += 1
        try:
            results = self._commit([item for item, _ in batch])
        except self._split as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.warning("écriture groupée refusée (%s) : reprise élément par élément", exc)
            for one in batch:
                self._settle([one])
            return
        except Exception as exc:  # nothing of the batch was kept: every submitter is told
            for _, future in batch:
                _fail(future, exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future[R], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)

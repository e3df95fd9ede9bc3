"""The dispatcher wakes when rows are queued (issue 15, point 3): no polling; a committed
unit of work wakes it, whichever thread it ran in; other processes' commits reach a running
service through the store's watcher, which reconnects when its connection drops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from channels.base import ChannelName, OutgoingMessage, Receipt
from crisis.model import SendMessage
from crisis.outbox import ChannelLimits, Dispatcher
from crisis.store.changes import CHANNEL, Change, Changes, encode
from crisis.store.notify import APPLICATION, PostgresWatcher
from playbooks.model import Engagement
from tests.conftest import POSTGRES_URL, T0
from tests.integration.helpers import activate


class Recording:
    """A provider that remembers what it was handed."""

    name = ChannelName.EMAIL

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.keys.append(message.idempotency_key)
        return Receipt(provider_id=f"P{len(self.keys)}")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        return None


def _message(crisis_id: str, n: int) -> SendMessage:
    return SendMessage(
        idempotency_key=f"{crisis_id}:wake:c{n}:email:v1",
        crisis_id=crisis_id,
        step_id="wake",
        engagement=Engagement.E48_1,
        channel=ChannelName.EMAIL,
        contact_id=f"c{n}",
        address=f"c{n}@example.org",
        commune="42218",
        body="Alerte inondation",
    )


async def _until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


def test_rows_queued_without_a_nudge_are_sent_from_the_loop_and_from_a_thread(app):
    """Nobody calls nudge(): committing the rows is enough, in the loop's thread or another
    (an alarm's tick runs in a worker thread)."""
    crisis_id = activate(app, T0).crisis.id
    channel = Recording()
    dispatcher = Dispatcher(
        app.store,
        {channel.name: channel},
        {channel.name: ChannelLimits(rate_per_second=100.0, burst=10, concurrency=4)},
        app.clock,
        flush_every=0.01,
    )

    def queue(n: int) -> None:
        with app.store.transaction() as tx:
            tx.enqueue([_message(crisis_id, n)], app.clock.now())

    async def story() -> tuple[bool, bool]:
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        try:
            await asyncio.sleep(0.3)  # the worker found nothing due and went to sleep
            queue(1)
            from_loop = await _until(lambda: f"{crisis_id}:wake:c1:email:v1" in channel.keys)
            await asyncio.to_thread(queue, 2)
            from_thread = await _until(lambda: f"{crisis_id}:wake:c2:email:v1" in channel.keys)
            return from_loop, from_thread
        finally:
            stop.set()
            await running

    from_loop, from_thread = asyncio.run(story())
    assert from_loop, "a row queued in the loop's thread was never sent"
    assert from_thread, "a row queued in another thread was never sent"
    assert channel.keys.count(f"{crisis_id}:wake:c1:email:v1") == 1


def test_a_rolled_back_unit_of_work_wakes_nobody(app):
    """Only committed rows are announced."""
    seen: list[Changes] = []
    app.store.commits.add(seen.append)
    crisis_id = activate(app, T0).crisis.id
    seen.clear()
    with pytest.raises(RuntimeError), app.store.transaction() as tx:
        tx.enqueue([_message(crisis_id, 1)], app.clock.now())
        raise RuntimeError("abandoned")
    assert seen == []
    with app.store.transaction() as tx:
        tx.enqueue([_message(crisis_id, 2)], app.clock.now())
    assert [c.outbox for c in seen] == [True]


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL not started (CRISIS_TEST_POSTGRES_URL)")
def test_the_postgresql_listener_reconnects_after_its_connection_is_killed():
    """The LISTEN connection is terminated by the server: the watcher says "look at
    everything" once listening again, and the next notification still arrives."""
    conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    watcher = PostgresWatcher(conninfo, "this-process", retry_every=0.2, check_every=0.5)
    engine = create_engine(POSTGRES_URL)
    changes: list[Change] = []

    def listeners() -> list[int]:
        with engine.connect() as conn:
            query = "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
            return [int(r[0]) for r in conn.execute(text(query), {"name": APPLICATION})]

    def notify(crisis_id: str, origin: str = "another-process") -> None:
        payload = encode(origin, Changes(outbox=True, crises={crisis_id}))
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})

    def told(crisis_id: str) -> bool:
        return any(c.crises is not None and crisis_id in c.crises for c in changes)

    async def story() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(watcher.run(stop, changes.append))
        try:
            assert await _until(lambda: bool(listeners()), 20), "the watcher never listened"
            notify("ours", origin="this-process")  # our own store's: already known here
            notify("before")
            assert await _until(lambda: told("before")), "a notification was not delivered"
            assert not told("ours"), "this process's own notification came back"
            changes.clear()
            with engine.begin() as conn:
                for pid in listeners():
                    conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert await _until(lambda: Change.everything() in changes), "never reconnected"
            assert await _until(lambda: bool(listeners()), 20)
            notify("after")
            assert await _until(lambda: told("after")), "nothing delivered after reconnecting"
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=20)

    try:
        asyncio.run(story())
    finally:
        engine.dispose()

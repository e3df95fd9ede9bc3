"""The long-running loop: alarm clock re-armed from the database, dispatcher, until told to stop."""

from __future__ import annotations

import asyncio

from crisis.bootstrap import App


def resume(app: App) -> list[str]:
    """Re-arm every open crisis from the database; overdue steps run now and are journaled late."""
    with app.store.transaction() as tx:
        open_ids = tx.crisis_ids(open_only=True)
    for crisis_id in open_ids:
        app.orchestrator.tick(crisis_id)
    return open_ids


async def serve(app: App, stop: asyncio.Event, *, rescan_every: float = 5.0) -> None:
    """Run timers and dispatch until `stop` is set.

    Crises recorded by another process (`crisis activate`, the web) are picked up by a periodic
    re-scan, which also makes up for any alarm lost: the database holds the due times.
    """
    app.alarm.start()
    try:
        resume(app)
        watcher = asyncio.create_task(_rescan(app, stop, rescan_every))
        await app.dispatcher.run(stop)
        await watcher
    finally:
        app.alarm.shutdown()


async def _rescan(app: App, stop: asyncio.Event, every: float) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            resume(app)

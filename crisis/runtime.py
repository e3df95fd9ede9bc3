"""The long-running loop: alarm clock re-armed from the database, dispatcher, until told to stop."""

from __future__ import annotations

import asyncio

from crisis.bootstrap import App
from crisis.web import serve_web


def resume(app: App, known: set[str] | None = None) -> list[str]:
    """Re-arm open crises from the database; overdue steps run now and are journaled late.

    With `known` (the crises this process already armed), only new crises and those with a step
    overdue are ticked: a large crisis is not reloaded every few seconds for nothing.
    """
    with app.store.transaction() as tx:
        open_ids = tx.crisis_ids(open_only=True)
        due = tx.crisis_ids_due(app.clock.now()) if known is not None else set()
    ticked = [c for c in open_ids if known is None or c not in known or c in due]
    for crisis_id in ticked:
        app.orchestrator.tick(crisis_id)
    if known is not None:
        known.update(open_ids)
    return ticked


async def serve(app: App, stop: asyncio.Event, *, rescan_every: float = 5.0) -> None:
    """Run timers and dispatch until `stop` is set.

    Crises recorded by another process (`crisis activate`, the web) are picked up by a periodic
    re-scan, which also makes up for any alarm lost: the database holds the due times.
    """
    app.alarm.start()
    web: asyncio.Task[None] | None = None
    try:
        known: set[str] = set()
        resume(app, known)
        watcher = asyncio.create_task(_rescan(app, stop, rescan_every, known))
        if app.webhooks is not None:  # Twilio's receipts, "tapez 1", the links
            hooks = app.webhooks
            web = asyncio.create_task(
                serve_web(
                    app,
                    stop,
                    host=hooks.host,
                    port=hooks.port,
                    twilio_auth_token=hooks.twilio_auth_token,
                    public_base_url=hooks.public_base_url,
                    ack_signer=hooks.ack_signer,
                )
            )
        await app.dispatcher.run(stop)
        await watcher
        if web is not None:
            await web
    finally:
        if web is not None and not web.done():
            web.cancel()
        app.alarm.shutdown()


async def _rescan(app: App, stop: asyncio.Event, every: float, known: set[str]) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            resume(app, known)

"""The long-running loop: alarm clock re-armed from the database, dispatcher, until told to stop."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from crisis.bootstrap import App, wall_clock
from crisis.store.lease import DatabaseServed, DispatchLock, acquire_dispatch_lock
from crisis.web import serve_web
from crisis.web.app import WebServerError, bind_listener


class ServiceRefused(Exception):
    """This process must not dispatch: its database is served by another process, or its web
    port is taken (French message; nothing was sent)."""


@dataclass
class Claim:
    """What makes this process the one that dispatches from its database: the database's
    dispatch lock and, when it serves the web, its bound socket. `release()` is idempotent."""

    lock: DispatchLock
    listener: socket.socket | None = None
    _released: bool = field(default=False, repr=False)

    @property
    def files(self) -> tuple[Path, ...]:
        """The lock file (SQLite): to keep when the database's folder is emptied."""
        return (self.lock.path,) if self.lock.path is not None else ()

    def check(self) -> None:
        """Raise ServiceRefused when the lock was lost and taken by another process; the lock
        file deleted or replaced meanwhile is locked again when nobody else holds it."""
        try:
            self.lock.check()
        except DatabaseServed as exc:
            raise ServiceRefused(str(exc)) from exc

    def release(self) -> None:
        """Give the database and the port back."""
        if self._released:
            return
        self._released = True
        if self.listener is not None:
            self.listener.close()
        self.lock.release()


def lock_database(url: str, purpose: str, timezone: str) -> Claim:
    """The database's part of the claim, taken before the App is built (a command that
    recreates its folder locks it first); raises ServiceRefused when another process serves
    it. Complete it with `claim(app, purpose, early=...)`."""
    since = wall_clock().now().astimezone(ZoneInfo(timezone))
    try:
        return Claim(acquire_dispatch_lock(url, purpose=purpose, since=since))
    except DatabaseServed as exc:
        raise ServiceRefused(str(exc)) from exc


def claim(app: App, purpose: str = "run", *, early: Claim | None = None) -> Claim:
    """Take the database (or complete `early`, from lock_database) and bind the web port,
    before anything is dispatched: a second service on the same database, or on a taken
    port, is refused here (ServiceRefused, French), with nothing sent."""
    if early is None:
        since = wall_clock().now().astimezone(ZoneInfo(app.settings.prefecture.timezone))
        try:
            early = Claim(app.store.acquire_dispatch_lock(purpose=purpose, since=since))
        except DatabaseServed as exc:
            raise ServiceRefused(str(exc)) from exc
    early.check()
    hooks = app.webhooks
    try:
        early.listener = bind_listener(hooks.host, hooks.port) if hooks is not None else None
    except WebServerError as exc:
        early.release()
        raise ServiceRefused(str(exc)) from exc
    return early


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


async def serve(
    app: App,
    stop: asyncio.Event,
    *,
    rescan_every: float = 5.0,
    claimed: Claim | None = None,
) -> None:
    """Run timers and dispatch until `stop` is set.

    First the database and the web port are claimed (`claimed`: by the caller, earlier):
    raises ServiceRefused, with nothing dispatched, when another process serves the database
    or holds the port. The claim is released on return. Crises recorded by another process
    (`crisis activate`, the web) are picked up by a periodic re-scan, which also makes up for
    any alarm lost (the database holds the due times) and checks that the lock is still held.
    """
    held = claimed or claim(app)
    web: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        app.alarm.start()
        known: set[str] = set()
        resume(app, known)
        watcher = asyncio.create_task(_rescan(app, stop, rescan_every, known, held))
        watcher.add_done_callback(lambda task: _stop_on_failure(task, stop))
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
                    listener=held.listener,
                )
            )
            web.add_done_callback(lambda task: _stop_on_failure(task, stop))
        await app.dispatcher.run(stop)
        await watcher
        if web is not None:
            try:
                await web
            except WebServerError as exc:
                raise ServiceRefused(str(exc)) from exc
    finally:
        for task in (web, watcher):
            if task is not None and not task.done():
                task.cancel()
        app.alarm.shutdown()
        held.release()
        await app.aclose()  # the channels' connections, in this loop


def _stop_on_failure(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    # a web server or a re-scan that fails stops the service (its error is raised by serve)
    # rather than leave it dispatching half-blind
    if not task.cancelled() and task.exception() is not None:
        stop.set()


async def _rescan(
    app: App, stop: asyncio.Event, every: float, known: set[str], held: Claim
) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            held.check()
            resume(app, known)

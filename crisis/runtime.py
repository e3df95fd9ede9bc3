"""The long-running loop: alarm clock re-armed from the database, dispatcher, until told to stop."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from crisis.bootstrap import App, wall_clock
from crisis.store.changes import Change
from crisis.store.lease import DatabaseServed, DispatchLock, acquire_dispatch_lock
from crisis.web import serve_web
from crisis.web.app import WebServerError, bind_listener

log = logging.getLogger(__name__)


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
    or holds the port. The claim is released on return. What another process commits (a T0
    recorded by `crisis activate`, rows it queued, a step it approved) is seen within a fraction
    of a second (crisis/store/notify.py: LISTEN/NOTIFY on PostgreSQL, a change check on
    SQLite): the dispatcher wakes and those crises are re-read. A periodic re-scan stays the
    safety net: it makes up for any alarm or notification lost (the database holds the due
    times) and checks that the lock is still held.
    """
    held = claimed or claim(app)
    web: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None
    changes: asyncio.Task[None] | None = None
    try:
        app.alarm.start()
        known: set[str] = set()
        resume(app, known)
        asked = Asked()
        watcher = asyncio.create_task(_rescan(app, stop, rescan_every, known, held, asked))
        watcher.add_done_callback(lambda task: _stop_on_failure(task, stop))
        changes = _watch(app, stop, asked)
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
        for task in (web, watcher, changes):
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


@dataclass
class Asked:
    """The crises another process changed, to re-read before the next period (None: all)."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    crises: set[str] | None = field(default_factory=set)

    def add(self, crises: frozenset[str] | None) -> None:
        """Re-read these crises (None: every open one) as soon as possible."""
        if crises is None or self.crises is None:
            self.crises = None
        else:
            self.crises |= crises
        self.wake.set()

    def take(self) -> set[str] | None:
        """What was asked since the last call."""
        self.wake.clear()
        taken, self.crises = self.crises, set()
        return taken


def _watch(app: App, stop: asyncio.Event, asked: Asked) -> asyncio.Task[None] | None:
    """Watch other processes' commits: rows queued wake the dispatcher, crises changed are
    re-read. A watcher that fails only costs promptness: the periodic re-scan goes on."""
    watcher = app.store.watcher()
    if watcher is None:
        return None
    task = asyncio.create_task(watcher.run(stop, _on_change(app, asked)))
    task.add_done_callback(_watch_ended)
    return task


def _watch_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("surveillance des autres processus arrêtée : %s", task.exception())


def _on_change(app: App, asked: Asked) -> Callable[[Change], None]:
    def changed(change: Change) -> None:
        if change.outbox:
            app.dispatcher.nudge()
        if change.crises is None or change.crises:
            asked.add(change.crises)

    return changed


async def _rescan(
    app: App, stop: asyncio.Event, every: float, known: set[str], held: Claim, asked: Asked
) -> None:
    while not stop.is_set():
        if await _periodic(stop, asked.wake, every):
            held.check()
            app.dispatcher.nudge()  # the safety net for rows queued without a word
        if stop.is_set():
            return
        changed = asked.take()
        if changed is None:
            known.clear()  # every open crisis is ticked again
        else:
            known.difference_update(changed)
        resume(app, known)


async def _periodic(stop: asyncio.Event, wake: asyncio.Event, every: float) -> bool:
    """Wait for `stop`, for `wake` or for `every` seconds: True when the period ran out."""
    waiting = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    done, pending = await asyncio.wait(waiting, timeout=every, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return not done

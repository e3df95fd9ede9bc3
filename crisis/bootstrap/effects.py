"""The effects of a running orchestrator (the crisis.effects.Effects protocol): the
dispatcher nudged, the alarm clock armed, the public alert and the switchboard's message
withdrawn at closing, the numéro unique moved with the CIP.

It lives in the composition root, not beside the protocol, because it names concrete
channels: the website's and the switchboard's withdrawals, Twilio's numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from channels.base import Channel, ChannelName
from channels.switchboard import SwitchboardChannel
from channels.twilio_common import TwilioCredentials, TwilioSettings
from channels.twilio_hotline import HotlineSettings, hotline_urls
from channels.twilio_numbers import NumberConfig, NumberConfigError, TwilioNumbers
from channels.website import WebsiteChannel
from crisis.bootstrap.channels import section
from crisis.bootstrap.web import Webhooks
from crisis.model import SYSTEM, Actor, CancelPending, Mode
from crisis.outbox import Dispatcher
from crisis.scheduling import Alarm
from crisis.settings import Settings
from crisis.store import Store

FIN_ALERTE = "Fin d'alerte : l'événement est terminé, retour à la normale."

Work = Callable[[str], Awaitable[object]]


class Journal(Protocol):
    """Where the CIP routing journals what it did (the orchestrator)."""

    def note(self, crisis_id: str, text: str, actor: Actor) -> None:
        """Add a note to the main courante."""

    def warn(self, crisis_id: str, code: str, message: str) -> None:
        """Journal a warning, even after closing."""


class ServiceEffects:
    """What the orchestrator's decisions set going in a running service (or a CLI command:
    the background work is then done at once)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        alarm: Alarm,
        *,
        withdrawals: Sequence[Work] = (),
        cip: Work | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.alarm = alarm
        self._closed = in_background(_all(withdrawals)) if withdrawals else None
        self._cip = in_background(cip) if cip is not None else None

    def queued(self) -> None:
        """New outbox rows: the dispatcher looks again."""
        self.dispatcher.nudge()

    def cancelled(self, crisis_id: str, cancel: CancelPending) -> None:
        """Claimed rows of a cancelled audience do not leave."""
        self.dispatcher.cancelled(crisis_id, cancel)

    def before_receipt(self) -> None:
        """The dispatcher journals its attempts' outcomes before a receipt is journaled."""
        self.dispatcher.flush()

    def wake(self, crisis_id: str, times: Sequence[datetime]) -> None:
        """Arm the alarm clock."""
        for when in times:
            self.alarm.arm(crisis_id, when)

    def closed(self, crisis_id: str) -> None:
        """Withdraw the public alert and the switchboard's message, restore the number."""
        if self._closed is not None:
            self._closed(crisis_id)

    def cip_changed(self, crisis_id: str) -> None:
        """Point or restore the numéro unique."""
        if self._cip is not None:
            self._cip(crisis_id)


def service_effects(
    settings: Settings,
    env: Mapping[str, str],
    channels: Mapping[ChannelName, Channel],
    webhooks: Webhooks | None,
    store: Store,
    dispatcher: Dispatcher,
    alarm: Alarm,
    journal: Callable[[], Journal],
) -> ServiceEffects:
    """The effects of the configured channels: closing withdraws the public alert and the
    switchboard's message; the CIP's order and closing move the numéro unique (when [cip]
    names it). `journal`: the orchestrator, built after its effects."""
    withdrawals: list[Work] = []
    website = channels.get(ChannelName.WEBSITE)
    if isinstance(website, WebsiteChannel):
        withdrawals.append(lambda crisis_id: website.withdraw(crisis_id, FIN_ALERTE))
    board = channels.get(ChannelName.STANDARD)
    if isinstance(board, SwitchboardChannel):
        withdrawals.append(board.withdraw)
    cip: Work | None = None
    if webhooks is not None and webhooks.hotline is not None:
        cip = CipNumberRouting(
            TwilioNumbers(
                section(TwilioSettings, settings.section("twilio"), "twilio", "la CIP"),
                TwilioCredentials.from_env(env),
            ),
            webhooks.hotline,
            webhooks.public_base_url,
            store,
            journal,
        ).follow
        withdrawals.append(cip)
    return ServiceEffects(dispatcher, alarm, withdrawals=withdrawals, cip=cip)


def _all(
    steps: Sequence[Work],
) -> Callable[[str], Awaitable[None]]:
    async def run(crisis_id: str) -> None:
        for step in steps:
            await step(crisis_id)

    return run


def in_background(work: Work) -> Callable[[str], None]:
    """A side effect after a decision committed: in the running loop (service), or at once (CLI)."""
    tasks: set[asyncio.Task[object]] = set()

    def start(crisis_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the CLI: no loop running, do it now
            asyncio.run(_awaited(work(crisis_id)))
            return
        task: asyncio.Task[object] = loop.create_task(_awaited(work(crisis_id)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return start


async def _awaited(work: Awaitable[object]) -> object:
    return await work


class CipNumberRouting:
    """The numéro unique follows the CIP: pointed at the CIP line when the préfet orders it,
    its previous configuration kept in the crisis row and restored when the CIP (or the event)
    closes. Each change, or its failure, is journaled; a failure never undoes the order."""

    def __init__(
        self,
        numbers: TwilioNumbers,
        hotline: HotlineSettings,
        public_base_url: str,
        store: Store,
        journal: Callable[[], Journal],
    ) -> None:
        self.numbers = numbers
        self.hotline = hotline
        self.urls = hotline_urls(public_base_url)
        self.status_url = f"{public_base_url.rstrip('/')}/webhooks/twilio/cip/status"
        self.store = store
        self.journal = journal  # the orchestrator, built after its effects

    async def follow(self, crisis_id: str) -> None:
        """Point or restore the number to match the crisis's CIP state."""
        with self.store.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            previous = tx.cip_previous(crisis_id)
        active = crisis.cip_number is not None and crisis.closed_at is None
        number = self.hotline.number
        if crisis.mode == Mode.EXERCICE or number is None:
            return  # an exercise never moves the prefecture's real numéro unique
        if active and crisis.cip_number != number:
            return  # another number: nothing to route here
        try:
            if active and previous is None:
                before = await self.numbers.point_to(
                    number, self.urls.voice, status_callback=self.status_url
                )
                with self.store.transaction() as tx:
                    tx.set_cip_previous(crisis_id, before.model_dump(mode="json"))
                self._note(crisis_id, "Numéro unique renvoyé vers la file d'attente de la CIP.")
            elif not active and previous is not None:
                await self.numbers.restore(NumberConfig.model_validate(previous))
                with self.store.transaction() as tx:
                    tx.set_cip_previous(crisis_id, None)
                self._note(crisis_id, "Numéro unique rendu à sa configuration habituelle.")
        except NumberConfigError as exc:
            self._warn(crisis_id, exc.public_reason)

    def _note(self, crisis_id: str, text: str) -> None:
        self.journal().note(crisis_id, text, SYSTEM)

    def _warn(self, crisis_id: str, reason: str) -> None:
        self.journal().warn(crisis_id, "numero_unique", f"Numéro unique : {reason}")

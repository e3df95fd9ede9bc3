"""Side effects after some decisions: closing withdraws the public alert and the switchboard's
message; the CIP's order and closing move the numéro unique."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from channels.base import Channel, ChannelName
from channels.switchboard import SwitchboardChannel
from channels.twilio_common import TwilioCredentials, TwilioSettings
from channels.twilio_hotline import HotlineSettings, hotline_urls
from channels.twilio_numbers import NumberConfig, NumberConfigError, TwilioNumbers
from channels.website import WebsiteChannel
from crisis.bootstrap.channels import section
from crisis.bootstrap.web import Webhooks
from crisis.model import SYSTEM, Mode
from crisis.service import Orchestrator
from crisis.settings import Settings
from crisis.store import Store

FIN_ALERTE = "Fin d'alerte : l'événement est terminé, retour à la normale."


def wire_edges(
    settings: Settings,
    env: Mapping[str, str],
    channels: Mapping[ChannelName, Channel],
    webhooks: Webhooks | None,
    store: Store,
    orchestrator: Orchestrator,
) -> None:
    """Side effects after some decisions: closing withdraws the public alert and the
    switchboard's message; the CIP's order and closing move the numéro unique."""
    withdrawals: list[Callable[[str], Awaitable[object]]] = []
    website = channels.get(ChannelName.WEBSITE)
    if isinstance(website, WebsiteChannel):
        withdrawals.append(lambda crisis_id: website.withdraw(crisis_id, FIN_ALERTE))
    board = channels.get(ChannelName.STANDARD)
    if isinstance(board, SwitchboardChannel):
        withdrawals.append(board.withdraw)
    if webhooks is not None and webhooks.hotline is not None:
        line = CipNumberRouting(
            TwilioNumbers(
                section(TwilioSettings, settings.twilio, "twilio", "la CIP"),
                TwilioCredentials.from_env(env),
            ),
            webhooks.hotline,
            webhooks.public_base_url,
            store,
            orchestrator,
        )
        orchestrator.on_cip_changed = in_background(line.follow)
        withdrawals.append(line.follow)
    if withdrawals:
        orchestrator.on_closed = in_background(_all(withdrawals))


def _all(
    steps: Sequence[Callable[[str], Awaitable[object]]],
) -> Callable[[str], Awaitable[None]]:
    async def run(crisis_id: str) -> None:
        for step in steps:
            await step(crisis_id)

    return run


def in_background(work: Callable[[str], Awaitable[object]]) -> Callable[[str], None]:
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
        orchestrator: Orchestrator,
    ) -> None:
        self.numbers = numbers
        self.hotline = hotline
        self.urls = hotline_urls(public_base_url)
        self.status_url = f"{public_base_url.rstrip('/')}/webhooks/twilio/cip/status"
        self.store = store
        self.orchestrator = orchestrator

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
        self.orchestrator.note(crisis_id, text, SYSTEM)

    def _warn(self, crisis_id: str, reason: str) -> None:
        self.orchestrator.warn(crisis_id, "numero_unique", f"Numéro unique : {reason}")

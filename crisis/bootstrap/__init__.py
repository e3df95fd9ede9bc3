"""The one composition root: builds the store, clock, channels, dispatcher and orchestrator.

It is the only place that names concrete channels or builds a Store or a SystemClock:
`channels` holds one builder row per provider, `web` what the web server is given, `checks`
what `crisis check-config` says, `directory` the directory source, `effects` the side effects
of decisions (public withdrawals, the numéro unique).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from channels.base import Channel, ChannelConfigError, ChannelName, InboundEvent, InboundSink
from channels.catalog import CATALOG
from channels.switchboard import SwitchboardChannel
from channels.twilio_channel import TwilioChannel
from contacts.model import Directory
from crisis.bootstrap.channels import (
    PROVIDERS,
    Provider,
    allow_lists,
    build_channel,
    crisis_context,
    exercise_allow_list,
    exercise_channels,
    with_ack_links,
)
from crisis.bootstrap.checks import config_problems, provider_problems
from crisis.bootstrap.directory import build_directory
from crisis.bootstrap.effects import FIN_ALERTE, CipNumberRouting, ServiceEffects, service_effects
from crisis.bootstrap.web import (
    WEB_SECRET_ENV,
    Webhooks,
    ack_signer_of,
    hotline_of,
    webhooks_of,
)
from crisis.clock import Clock, SystemClock
from crisis.engine import EngineConfig
from crisis.outbox import ChannelLimits, Dispatcher, Outcome, RetryPolicy
from crisis.scheduling import Alarm
from crisis.service import Orchestrator
from crisis.settings import Settings, SettingsError
from crisis.store import Store
from playbooks.loader import load_library

__all__ = [
    "FIN_ALERTE",
    "PROVIDERS",
    "WEB_SECRET_ENV",
    "App",
    "CipNumberRouting",
    "Provider",
    "ServiceEffects",
    "Webhooks",
    "ack_signer_of",
    "build",
    "build_channel",
    "build_directory",
    "config_problems",
    "engine_config",
    "exercise_allow_list",
    "hotline_of",
    "open_store",
    "provider_problems",
    "wall_clock",
    "webhooks_of",
]


@dataclass
class App:
    """Everything a running orchestrator is made of."""

    settings: Settings
    store: Store
    clock: Clock
    orchestrator: Orchestrator
    dispatcher: Dispatcher
    channels: dict[ChannelName, Channel]
    alarm: Alarm
    directory: Callable[[], Directory] = field(repr=False)
    webhooks: Webhooks | None = None
    pooled: tuple[TwilioChannel, ...] = ()  # channels holding connections to their provider

    def close(self) -> None:
        """Release resources."""
        self.alarm.shutdown()
        self.store.close()

    async def aclose(self) -> None:
        """Close the channels' connections, in the event loop that used them (at shutdown)."""
        for channel in self.pooled:
            await channel.aclose()


def open_store(url: str, *, migrate: bool = True, timezone: str | None = None) -> Store:
    """The database at `url` (the composition root is the only place that opens one).
    `timezone`: the prefecture's zone name, in which journal sentences give local time."""
    return Store.open(url, migrate=migrate, timezone=ZoneInfo(timezone) if timezone else None)


def wall_clock() -> Clock:
    """Wall time (the composition root is the only place that builds a system clock)."""
    return SystemClock()


def engine_config(settings: Settings) -> EngineConfig:
    """What the engine needs from the settings: wording context and public accounts."""
    return EngineConfig(
        prefecture=settings.prefecture.name,
        timezone=settings.prefecture.zone,
        public_addresses={  # each public channel's account, named by its catalog row
            row.name: getattr(settings.public, row.address[0])
            for row in CATALOG.values()
            if row.public
        },
        late_grace=settings.engine.late_grace,
        t0_max_age=settings.engine.t0_max_age,
    )


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    directory: Callable[[], Directory] | None = None,
    env: Mapping[str, str] | None = None,
    send: bool = True,
) -> App:
    """Assemble the orchestrator from settings.

    `env`: where provider credentials are read (the process environment for the CLI).
    `send=False`: no channel is built (commands that only record or read: status, approve...),
    so that a provider's missing credential never stops the on-call agent from recording.
    Raises SettingsError when a channel cannot be built.
    """
    env = env if env is not None else {}
    clock = clock or SystemClock()
    # playbooks first: a broken library stops everything before the database is touched
    library = load_library(settings.playbooks.library_dir, settings.playbooks.templates_dir)
    store = open_store(settings.database.url, timezone=settings.prefecture.timezone)
    directory = directory or build_directory(settings, store=store, clock=clock)

    # the channels, the alarm and the CIP routing report to the orchestrator that drives them
    # through its effects: they are built before it and reach it once it exists
    def the_orchestrator() -> Orchestrator:
        return orchestrator

    async def receive(event: InboundEvent) -> None:
        await the_orchestrator().receive(event)

    channels: dict[ChannelName, Channel] = {}
    exercise: dict[ChannelName, Channel] = {}
    webhooks: Webhooks | None = None
    pooled: tuple[TwilioChannel, ...] = ()
    if send:
        try:
            channels, exercise, webhooks, pooled = _channels(settings, env, store, clock, receive)
        except SettingsError:
            store.close()
            raise
    dispatcher = _dispatcher(settings, store, channels, exercise, clock, on_outcome)
    alarm = Alarm(clock, lambda crisis_id: the_orchestrator().tick(crisis_id))
    effects = service_effects(
        settings, env, channels, webhooks, store, dispatcher, alarm, the_orchestrator
    )
    orchestrator = Orchestrator(
        store,
        clock,
        library,
        directory,
        engine_config(settings),
        channel_rates={n.value: c.rate_per_second for n, c in settings.channels.items()},
        effects=effects,
    )
    return App(
        settings=settings,
        store=store,
        clock=clock,
        orchestrator=orchestrator,
        dispatcher=dispatcher,
        channels=channels,
        alarm=alarm,
        directory=directory,
        webhooks=webhooks,
        pooled=pooled,
    )


def _channels(
    settings: Settings, env: Mapping[str, str], store: Store, clock: Clock, inbound: InboundSink
) -> tuple[
    dict[ChannelName, Channel],
    dict[ChannelName, Channel],
    Webhooks | None,
    tuple[TwilioChannel, ...],
]:
    """Every configured channel, the exercises' channels, the web server's settings and the
    channels to close at shutdown; SettingsError listing every channel (and web setting) that
    cannot be built."""
    channels: dict[ChannelName, Channel] = {}
    problems: list[str] = []
    context = crisis_context(store)
    for name, cfg in settings.channels.items():
        try:
            channels[name] = build_channel(name, cfg, settings, clock, inbound, env, context)
        except ChannelConfigError as exc:
            problems.append(f"canal {name.value} : {exc}")
    webhooks: Webhooks | None = None
    try:
        webhooks = webhooks_of(settings, env)
    except ChannelConfigError as exc:
        problems.append(f"serveur web (rappels Twilio, liens d'accusé) : {exc}")
    pooled = tuple(c for c in channels.values() if isinstance(c, TwilioChannel))
    exercise = exercise_channels(settings, channels, allow_lists(store), clock, inbound)
    if webhooks is not None and webhooks.ack_signer is not None:
        for chosen in (channels, exercise):
            with_ack_links(chosen, settings.web.ack_links, webhooks.ack_signer)
    if problems:
        raise SettingsError(list(dict.fromkeys(problems)))
    board = channels.get(ChannelName.STANDARD)
    if webhooks is not None and isinstance(board, SwitchboardChannel):
        webhooks = replace(webhooks, announcement=board.current_announcement)
    return channels, exercise, webhooks, pooled


def _dispatcher(
    settings: Settings,
    store: Store,
    channels: Mapping[ChannelName, Channel],
    exercise: Mapping[ChannelName, Channel],
    clock: Clock,
    on_outcome: Callable[[Outcome], None] | None,
) -> Dispatcher:
    """The outbox's dispatcher, with each channel's limits and the retry policy."""
    retry = settings.retry
    return Dispatcher(
        store,
        channels,
        {
            n: ChannelLimits(
                rate_per_second=c.rate_per_second, burst=c.burst, concurrency=c.concurrency
            )
            for n, c in settings.channels.items()
        },
        clock,
        retry=RetryPolicy(
            max_attempts=retry.max_attempts,
            base_delay=retry.base_delay_s,
            factor=retry.factor,
            max_delay=retry.max_delay_s,
        ),
        on_outcome=on_outcome,
        exercise_channels=exercise,
    )

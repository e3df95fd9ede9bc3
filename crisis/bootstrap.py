"""The one composition root: builds the store, clock, channels, dispatcher and orchestrator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from channels.base import Channel, ChannelName, InboundSink
from channels.simulated import SimulatedChannel, Simulation
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Directory
from crisis.clock import Clock, SystemClock
from crisis.engine import EngineConfig
from crisis.outbox import ChannelLimits, Dispatcher, Outcome, RetryPolicy
from crisis.scheduling import Alarm
from crisis.service import Orchestrator
from crisis.settings import ChannelSettings, Settings
from crisis.store import Store
from playbooks.loader import load_library


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

    def close(self) -> None:
        """Release resources."""
        self.alarm.shutdown()
        self.store.close()


def build_directory(settings: Settings) -> Callable[[], Directory]:
    """The directory source named in the settings (read once, on first use)."""

    @cache
    def directory() -> Directory:
        communes = load_communes(settings.directory.communes_file)
        return demo_directory(communes, seed=settings.directory.seed)

    return directory


def build_channel(
    name: ChannelName,
    config: ChannelSettings,
    settings: Settings,
    clock: Clock,
    inbound: InboundSink,
) -> Channel:
    """One channel as configured (only simulated providers exist so far)."""
    sim = config.simulation
    log_dir = settings.data_dir / "simulated"
    log_dir.mkdir(parents=True, exist_ok=True)
    return SimulatedChannel(
        name,
        clock,
        simulation=Simulation(
            latency=sim.latency_ms / 1000,
            ack_rate=sim.ack_rate,
            ack_delay=sim.ack_delay_s,
            failure_rate=sim.failure_rate,
            seed=sim.seed,
        ),
        log_path=log_dir / f"{name.value}.jsonl",
        inbound=inbound,
    )


def engine_config(settings: Settings) -> EngineConfig:
    """What the engine needs from the settings: wording context and public accounts."""
    return EngineConfig(
        prefecture=settings.prefecture.name,
        timezone=ZoneInfo(settings.prefecture.timezone),
        public_addresses={
            ChannelName.WEBSITE: settings.public.website,
            ChannelName.X: settings.public.x,
            ChannelName.FACEBOOK: settings.public.facebook,
            ChannelName.APP: settings.public.app,
        },
        late_grace=settings.engine.late_grace,
    )


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    directory: Callable[[], Directory] | None = None,
) -> App:
    """Assemble the orchestrator from settings."""
    clock = clock or SystemClock()
    # playbooks first: a broken library stops everything before the database is touched
    library = load_library(settings.playbooks.library_dir, settings.playbooks.templates_dir)
    store = Store.open(settings.database.url)
    directory = directory or build_directory(settings)
    config = engine_config(settings)
    orchestrator = Orchestrator(
        store,
        clock,
        library,
        directory,
        config,
        channel_rates={n.value: c.rate_per_second for n, c in settings.channels.items()},
    )
    channels = {
        name: build_channel(name, cfg, settings, clock, orchestrator.receive)
        for name, cfg in settings.channels.items()
    }
    retry = settings.retry
    dispatcher = Dispatcher(
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
    )
    alarm = Alarm(clock, orchestrator.tick)
    orchestrator.on_queued = dispatcher.nudge
    orchestrator.on_cancelled = dispatcher.cancelled
    orchestrator.before_receive = dispatcher.flush

    def arm(crisis_id: str, times: list[datetime]) -> None:
        for when in times:
            alarm.arm(crisis_id, when)

    orchestrator.on_wakeups = arm
    return App(
        settings=settings,
        store=store,
        clock=clock,
        orchestrator=orchestrator,
        dispatcher=dispatcher,
        channels=channels,
        alarm=alarm,
        directory=directory,
    )

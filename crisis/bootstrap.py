"""The one composition root: builds the store, clock, channels, dispatcher and orchestrator."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from channels.ack_link import AckLinkChannel, AckLinkSigner
from channels.app import AppChannel, AppCredentials, AppSettings, check_app
from channels.base import Channel, ChannelConfigError, ChannelName, InboundSink, OutgoingMessage
from channels.email import EmailChannel, SmtpCredentials, SmtpSettings, check_email
from channels.exercise import AllowList, ExerciseSwitch
from channels.facebook import FacebookChannel, FacebookCredentials, FacebookSettings, check_facebook
from channels.simulated import SimulatedChannel, Simulation
from channels.switchboard import SwitchboardChannel, SwitchboardSettings, check_switchboard
from channels.twilio_common import TwilioCredentials, TwilioSettings, check_twilio
from channels.twilio_hotline import HotlineSettings, hotline_urls
from channels.twilio_numbers import (
    NumberConfig,
    NumberConfigError,
    TwilioNumbers,
    check_hotline_number,
)
from channels.twilio_sms import TwilioSmsChannel
from channels.twilio_voice import TwilioVoiceChannel
from channels.website import (
    CrisisContext,
    WebsiteChannel,
    WebsiteCredentials,
    WebsiteSettings,
    check_website,
)
from channels.x import XChannel, XCredentials, XSettings, check_x
from contacts.cog import CogError, load_extract
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Commune, Directory
from crisis.clock import Clock, SystemClock
from crisis.engine import EngineConfig
from crisis.model import SYSTEM, Crisis, Mode
from crisis.outbox import ChannelLimits, Dispatcher, Outcome, RetryPolicy
from crisis.scheduling import Alarm
from crisis.service import Orchestrator
from crisis.settings import ChannelSettings, Settings, SettingsError, validation_problems
from crisis.store import Store
from crisis.store.repository import CrisisNotFound
from crisis.store.urls import sqlite_file
from playbooks.loader import load_library

_M = TypeVar("_M", bound=BaseModel)


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

    def close(self) -> None:
        """Release resources."""
        self.alarm.shutdown()
        self.store.close()


def open_store(url: str, *, migrate: bool = True, timezone: str | None = None) -> Store:
    """The database at `url` (the composition root is the only place that opens one).
    `timezone`: the prefecture's zone name, in which journal sentences give local time."""
    return Store.open(url, migrate=migrate, timezone=ZoneInfo(timezone) if timezone else None)


def wall_clock() -> Clock:
    """Wall time (the composition root is the only place that builds a system clock)."""
    return SystemClock()


def build_directory(
    settings: Settings, *, store: Store | None = None, clock: Clock | None = None
) -> Callable[[], Directory]:
    """The directory source named in the settings.

    `demo`: synthetic, from the seed and the local date of `clock` (rebuilt when the date
    changes, so that its rosters always cover the next days). `database`: read from `store`
    (or from a store opened on first use), re-read only when the directory's revision has
    changed (an import, an erasure: one small query per call otherwise); while the database
    holds no commune, the communes file stands in.
    """
    clock = clock or SystemClock()
    tz = ZoneInfo(settings.prefecture.timezone)

    @cache
    def communes() -> tuple[Commune, ...]:
        return load_communes(settings.directory.communes_file)

    if settings.directory.source == "database":
        return _StoredDirectory(settings.database.url, store, communes)

    @lru_cache(maxsize=1)
    def demo_of(day: date) -> Directory:
        noon = datetime.combine(day, time(12), tzinfo=tz)
        return demo_directory(communes(), seed=settings.directory.seed, now=noon, tz=tz)

    def directory() -> Directory:
        return demo_of(clock.now().astimezone(tz).date())

    return directory


class _StoredDirectory:
    """The directory of the database, cached until its revision changes."""

    def __init__(
        self, url: str, store: Store | None, communes: Callable[[], tuple[Commune, ...]]
    ) -> None:
        self._url = url
        self._store = store
        self._communes = communes
        self._lock = threading.Lock()
        self._revision = -1
        self._directory = Directory()

    def __call__(self) -> Directory:
        with self._lock:
            if self._store is None:
                self._store = Store.open(self._url)
            with self._store.transaction() as tx:
                revision = tx.directory_revision()
                if revision != self._revision:  # read before the rows: a race only re-reads
                    directory = tx.load_directory()
                    if not directory.communes:
                        directory = directory.model_copy(update={"communes": self._communes()})
                    self._directory, self._revision = directory, revision
            return self._directory


def _section(model: type[_M], data: dict[str, object] | None, section: str, user: str) -> _M:
    """A provider's settings section, validated by its channel's own model (French errors)."""
    if data is None:
        raise ChannelConfigError(
            f"section [{section}] absente du fichier de configuration : {user} l'exige"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ChannelConfigError("; ".join(validation_problems(exc, section))) from None


def _simulated(
    name: ChannelName,
    config: ChannelSettings,
    settings: Settings,
    clock: Clock,
    inbound: InboundSink,
    log_name: str = "",
) -> SimulatedChannel:
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
        log_path=log_dir / f"{log_name or name.value}.jsonl",
        inbound=inbound,
    )


def _switchboard(
    settings: Settings,
    twilio: TwilioSettings,
    credentials: TwilioCredentials,
    clock: Clock,
    user: str,
) -> SwitchboardChannel:
    """The switchboard's message (channel « standard »), through the Twilio number's webhook."""
    board = _section(SwitchboardSettings, settings.standard, "standard", user)
    if board.state_dir is None:
        board = board.model_copy(update={"state_dir": settings.data_dir / "standard"})
    if twilio.public_base_url is None:
        raise ChannelConfigError("clé « twilio.public_base_url » absente (message du standard)")
    return SwitchboardChannel(
        board, TwilioNumbers(twilio, credentials), twilio.public_base_url, clock
    )


def build_channel(
    name: ChannelName,
    config: ChannelSettings,
    settings: Settings,
    clock: Clock,
    inbound: InboundSink,
    env: Mapping[str, str],
    crisis_context: Callable[[str], CrisisContext | None] | None = None,
) -> Channel:
    """One channel as configured: simulated, or its real provider (credentials from `env`).

    Raises ChannelConfigError (French, naming the section, key or variable) when the provider
    cannot be built.
    """
    user = f"le canal {name.value} (fournisseur « {config.provider} »)"
    match config.provider:
        case "simulated":
            return _simulated(name, config, settings, clock, inbound)
        case "twilio":
            twilio = _section(TwilioSettings, settings.twilio, "twilio", user)
            credentials = TwilioCredentials.from_env(env)
            if name == ChannelName.VOICE:
                return TwilioVoiceChannel(twilio, credentials, clock)
            if name == ChannelName.STANDARD:
                return _switchboard(settings, twilio, credentials, clock, user)
            return TwilioSmsChannel(twilio, credentials, clock)
        case "smtp":
            smtp = _section(SmtpSettings, settings.smtp, "smtp", user)
            return EmailChannel(smtp, SmtpCredentials.from_env(env), clock)
        case "x":
            x = _section(XSettings, settings.x, "x", user)
            return XChannel(x, XCredentials.from_env(env), clock)
        case "facebook":
            facebook = _section(FacebookSettings, settings.facebook, "facebook", user)
            return FacebookChannel(facebook, FacebookCredentials.from_env(env), clock)
        case "website":
            website = _section(WebsiteSettings, settings.website, "website", user)
            needs_secret = website.cms_webhook_url is not None
            return WebsiteChannel(
                website,
                WebsiteCredentials.from_env(env, require_secret=needs_secret),
                clock,
                crisis_context=crisis_context,
            )
        case "webhook":
            app = _section(AppSettings, settings.app, "app", user)
            return AppChannel(app, AppCredentials.from_env(env), clock)
    raise ChannelConfigError(f"fournisseur inconnu : {config.provider}")  # pragma: no cover


def _exercise_channels(
    settings: Settings,
    real: Mapping[ChannelName, Channel],
    store: Store,
    clock: Clock,
    inbound: InboundSink,
) -> dict[ChannelName, Channel]:
    """The channels of exercises, decided here once: a simulator per channel (its own log),
    and with `[exercise] real_sends` the real provider for the exercise's participants only.
    Every message is framed "EXERCICE EXERCICE EXERCICE"."""
    allow_lists: dict[str, AllowList] = {}

    def allow_list_of(message: OutgoingMessage) -> AllowList:
        if message.crisis_id not in allow_lists:  # frozen at T0: read once per exercise
            with store.transaction() as tx:
                crisis = tx.crisis(message.crisis_id)
            allow_lists[message.crisis_id] = exercise_allow_list(crisis)
        return allow_lists[message.crisis_id]

    built: dict[ChannelName, Channel] = {}
    for name, cfg in settings.channels.items():
        simulated = _simulated(name, cfg, settings, clock, inbound, f"exercice-{name.value}")
        really = settings.exercise.real_sends and cfg.provider != "simulated"
        built[name] = ExerciseSwitch(simulated, real.get(name) if really else None, allow_list_of)
    return built


def exercise_allow_list(crisis: Crisis) -> AllowList:
    """Who an exercise may really reach: its participants as frozen at T0 (never the config).
    A real event, or an exercise without participants, reaches nobody through this list."""
    allowed = crisis.participants
    if crisis.mode != Mode.EXERCICE or allowed is None:
        return AllowList()
    chosen = [c for c in crisis.roster if c.id in set(allowed.contacts)]
    phones = [n for c in chosen for n in (c.mobile, c.landline) if n]
    emails = [c.email for c in chosen if c.email]
    return AllowList.of(
        phones=[*phones, *allowed.phones],
        emails=[*emails, *allowed.emails],
        public=allowed.public,
    )


def provider_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """What `crisis check-config` says of each real provider, without sending anything."""
    problems: list[str] = []
    used = settings.providers_in_use()

    def checked(section: str, model: type[_M], data: dict[str, object] | None) -> _M | None:
        try:
            return _section(model, data, section, f"le fournisseur « {section} »")
        except ChannelConfigError as exc:
            problems.append(f"[{section}] {exc}")
            return None

    if "twilio" in used:
        twilio = checked("twilio", TwilioSettings, settings.twilio)
        if twilio is not None:
            problems += [
                f"[twilio] {p}"
                for p in check_twilio(
                    twilio,
                    env,
                    uses_voice=ChannelName.VOICE in used["twilio"],
                    uses_sms=ChannelName.SMS in used["twilio"],
                )
            ]
    if "smtp" in used and (smtp := checked("smtp", SmtpSettings, settings.smtp)):
        problems += [f"[smtp] {p}" for p in check_email(smtp, env)]
    if "x" in used and (x := checked("x", XSettings, settings.x)):
        problems += [f"[x] {p}" for p in check_x(x, env)]
    if "facebook" in used and (fb := checked("facebook", FacebookSettings, settings.facebook)):
        problems += [f"[facebook] {p}" for p in check_facebook(fb, env)]
    if "website" in used and (site := checked("website", WebsiteSettings, settings.website)):
        problems += [f"[website] {p}" for p in check_website(site, env)]
    if "webhook" in used and (app := checked("app", AppSettings, settings.app)):
        problems += [f"[app] {p}" for p in check_app(app, env)]
    twilio_ok = settings.twilio is not None and "twilio" in used
    board = None
    if ChannelName.STANDARD in used.get("twilio", []):
        board = checked("standard", SwitchboardSettings, settings.standard)
    if board is not None and twilio_ok:
        twilio = checked("twilio", TwilioSettings, settings.twilio)
        if twilio is not None:
            problems += [f"[standard] {p}" for p in check_switchboard(board, twilio, env)]
    hotline = checked("cip", HotlineSettings, settings.cip) if settings.cip is not None else None
    if hotline is not None and hotline.number is not None:
        if not twilio_ok:
            problems.append("[cip] le numéro unique passe par Twilio : section [twilio] requise")
        elif twilio := checked("twilio", TwilioSettings, settings.twilio):
            problems += [f"[cip] {p}" for p in check_hotline_number(twilio, hotline.number, env)]
    try:
        ack_signer_of(settings, env)
    except ChannelConfigError as exc:
        problems.append(f"[web] {exc}")
    return list(dict.fromkeys(problems))


def config_problems(settings: Settings) -> list[str]:
    """What makes a file or folder the settings name unusable, each with its key (French),
    checked before anything is written: playbook library, communes file, data_dir, the
    folder of a SQLite database."""
    problems: list[str] = []
    library = settings.playbooks.library_dir
    if library is not None:
        if not library.is_dir():
            problems.append(f"clé « playbooks.library_dir » : dossier introuvable : {library}")
        elif not any(p.is_file() for p in library.glob("*.toml")):
            problems.append(
                f"clé « playbooks.library_dir » : aucun playbook (fichier .toml) dans {library} : "
                "aucune activation ne serait possible"
            )
    templates = settings.playbooks.templates_dir
    if templates is not None and not templates.is_dir():
        problems.append(f"clé « playbooks.templates_dir » : dossier introuvable : {templates}")
    communes = settings.directory.communes_file
    if communes is not None:
        try:
            load_extract(communes)
        except CogError as exc:
            problems.append(f"clé « directory.communes_file » : {exc}")
        except UnicodeDecodeError as exc:
            problems.append(
                f"clé « directory.communes_file » : {communes} : encodage non UTF-8 "
                f"(octet n° {exc.start + 1})"
            )
        except OSError as exc:
            problems.append(f"clé « directory.communes_file » : {communes} : {_unreadable(exc)}")
    for key, folder in (("data_dir", settings.data_dir), ("database.url", _sqlite_dir(settings))):
        if folder is not None and (why := _not_writable(folder)):
            problems.append(f"clé « {key} » : {why}")
    return problems


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "fichier introuvable"
    if isinstance(exc, IsADirectoryError):
        return "c'est un dossier, un fichier est attendu"
    return f"fichier illisible ({exc.strerror or exc})"


def _sqlite_dir(settings: Settings) -> Path | None:
    path = sqlite_file(settings.database.url)
    return path.parent if path is not None else None


def _not_writable(folder: Path) -> str | None:
    """Why `folder` cannot be created or written to (None when it can)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"dossier « {folder} » impossible à créer : « {probe} » n'est pas un dossier"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"dossier « {probe} » non accessible en écriture (droits du compte de service)"
    return None


@dataclass(frozen=True)
class Webhooks:
    """What the web layer needs to serve the provider callbacks and the acknowledgement links
    (None: nothing to serve)."""

    host: str
    port: int
    public_base_url: str  # the address Twilio is given (its signatures are checked against it)
    twilio_auth_token: str | None = field(repr=False)
    ack_signer: AckLinkSigner | None = field(default=None, repr=False)
    hotline: HotlineSettings | None = None  # the CIP line's routes, when [cip] names a number
    forward_to: str | None = None  # the switchboard's usual destination (its message's route)
    announcement: Callable[[], str | None] | None = field(default=None, repr=False)


WEB_SECRET_ENV = "CRISIS_WEB_SECRET"  # noqa: S105 (the variable's name, not a secret)


def ack_signer_of(settings: Settings, env: Mapping[str, str]) -> AckLinkSigner | None:
    """The signer of the acknowledgement links, when `[web] public_base_url` is set."""
    base = settings.web.public_base_url
    if base is None:
        return None
    secret = env.get(WEB_SECRET_ENV, "")
    if len(secret.encode()) < 32:
        raise ChannelConfigError(
            f"variable d'environnement {WEB_SECRET_ENV} absente ou trop courte (32 caractères "
            "au moins) : elle signe les liens d'accusé de réception (« web.public_base_url » "
            "est renseignée)"
        )
    return AckLinkSigner(secret=secret.encode(), base_url=base)


def webhooks_of(settings: Settings, env: Mapping[str, str]) -> Webhooks | None:
    """The web server, when a channel uses Twilio (its status and "tapez 1" come back) or when
    messages carry acknowledgement links."""
    signer = ack_signer_of(settings, env)
    if "twilio" not in settings.providers_in_use():
        if signer is None:
            return None
        return Webhooks(
            host=settings.web.host,
            port=settings.web.port,
            public_base_url=signer.base_url,
            twilio_auth_token=None,  # no Twilio channel: every Twilio callback is refused
            ack_signer=signer,
        )
    twilio = _section(TwilioSettings, settings.twilio, "twilio", "Twilio")
    if twilio.public_base_url is None:
        raise ChannelConfigError(
            "clé « twilio.public_base_url » absente : adresse publique où Twilio rappelle "
            "l'orchestrateur (accusés, « tapez 1 »)"
        )
    board = (
        _section(SwitchboardSettings, settings.standard, "standard", "le standard")
        if settings.standard is not None
        else SwitchboardSettings()
    )
    return Webhooks(
        host=settings.web.host,
        port=settings.web.port,
        public_base_url=twilio.public_base_url,
        twilio_auth_token=TwilioCredentials.from_env(env).webhook_token,
        ack_signer=signer,
        hotline=hotline_of(settings),
        forward_to=board.forward_to,
    )


def hotline_of(settings: Settings) -> HotlineSettings | None:
    """The CIP line's settings when [cip] names the numéro unique (Twilio)."""
    if settings.cip is None:
        return None
    hotline = _section(HotlineSettings, settings.cip, "cip", "la CIP")
    return hotline if hotline.number is not None else None


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
            ChannelName.STANDARD: settings.public.standard,
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
    store = Store.open(settings.database.url, timezone=ZoneInfo(settings.prefecture.timezone))
    directory = directory or build_directory(settings, store=store, clock=clock)
    config = engine_config(settings)
    orchestrator = Orchestrator(
        store,
        clock,
        library,
        directory,
        config,
        channel_rates={n.value: c.rate_per_second for n, c in settings.channels.items()},
    )
    channels: dict[ChannelName, Channel] = {}
    exercise_channels: dict[ChannelName, Channel] = {}
    problems: list[str] = []
    webhooks: Webhooks | None = None
    if send:
        context = _crisis_context(store)
        for name, cfg in settings.channels.items():
            try:
                channels[name] = build_channel(
                    name, cfg, settings, clock, orchestrator.receive, env, context
                )
            except ChannelConfigError as exc:
                problems.append(f"canal {name.value} : {exc}")
        try:
            webhooks = webhooks_of(settings, env)
        except ChannelConfigError as exc:
            problems.append(f"serveur web (rappels Twilio, liens d'accusé) : {exc}")
        exercise_channels = _exercise_channels(
            settings, channels, store, clock, orchestrator.receive
        )
        signer = webhooks.ack_signer if webhooks is not None else None
        if signer is not None:  # outermost: an exercise's framing then encloses the link too
            for name in settings.web.ack_links:
                for chosen in (channels, exercise_channels):
                    if name in chosen:
                        chosen[name] = AckLinkChannel(chosen[name], signer)
    if problems:
        store.close()
        raise SettingsError(list(dict.fromkeys(problems)))
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
        exercise_channels=exercise_channels,
    )
    alarm = Alarm(clock, orchestrator.tick)
    orchestrator.on_queued = dispatcher.nudge
    orchestrator.on_cancelled = dispatcher.cancelled
    orchestrator.before_receive = dispatcher.flush

    def arm(crisis_id: str, times: list[datetime]) -> None:
        for when in times:
            alarm.arm(crisis_id, when)

    orchestrator.on_wakeups = arm
    board = channels.get(ChannelName.STANDARD)
    if webhooks is not None and isinstance(board, SwitchboardChannel):
        webhooks = replace(webhooks, announcement=board.current_announcement)
    _wire_edges(settings, env, channels, webhooks, store, orchestrator)
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
    )


def _wire_edges(
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
                _section(TwilioSettings, settings.twilio, "twilio", "la CIP"),
                TwilioCredentials.from_env(env),
            ),
            webhooks.hotline,
            webhooks.public_base_url,
            store,
            orchestrator,
        )
        orchestrator.on_cip_changed = _in_background(line.follow)
        withdrawals.append(line.follow)
    if withdrawals:
        orchestrator.on_closed = _in_background(_all(withdrawals))


def _all(
    steps: Sequence[Callable[[str], Awaitable[object]]],
) -> Callable[[str], Awaitable[None]]:
    async def run(crisis_id: str) -> None:
        for step in steps:
            await step(crisis_id)

    return run


def _in_background(work: Callable[[str], Awaitable[object]]) -> Callable[[str], None]:
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


FIN_ALERTE = "Fin d'alerte : l'événement est terminé, retour à la normale."


def _crisis_context(store: Store) -> Callable[[str], CrisisContext | None]:
    """What the website channel's CAP alerts say of a crisis: kind and area (no person)."""

    @lru_cache(maxsize=64)  # a crisis's kind and communes are frozen at T0
    def context(crisis_id: str) -> CrisisContext | None:
        try:
            with store.transaction() as tx:
                crisis = tx.crisis(crisis_id)
        except CrisisNotFound:
            return None
        names = [crisis.commune_names.get(c, c) for c in crisis.communes]
        shown = ", ".join(names[:10]) + (f" et {len(names) - 10} autres" if len(names) > 10 else "")
        return CrisisContext(
            event_kind=crisis.kind.value,
            event_label=crisis.kind.label,
            area_desc=f"Communes concernées : {shown}" if names else None,
            insee_codes=tuple(crisis.communes),
        )

    return context

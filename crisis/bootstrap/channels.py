"""The channels as configured: one builder row per real provider (its settings section, how
its channels are built, how `crisis check-config` checks it), the simulators, the exercise
switch and the acknowledgement links.

A new provider is one row of PROVIDERS; nothing here chooses a provider by name otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from channels.ack_link import AckLinkChannel, AckLinkSigner
from channels.app import AppChannel, AppCredentials, AppSettings, check_app
from channels.base import Channel, ChannelConfigError, ChannelName, InboundSink, OutgoingMessage
from channels.email import EmailChannel, SmtpCredentials, SmtpSettings, check_email
from channels.exercise import AllowList, ExerciseSwitch
from channels.facebook import FacebookChannel, FacebookCredentials, FacebookSettings, check_facebook
from channels.simulated import SimulatedChannel, Simulation
from channels.switchboard import SwitchboardChannel, SwitchboardSettings
from channels.twilio_common import TwilioCredentials, TwilioSettings, check_twilio
from channels.twilio_numbers import TwilioNumbers
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
from crisis.clock import Clock
from crisis.effects import exercise_reach
from crisis.model import Crisis
from crisis.settings import ChannelSettings, Settings, validation_problems
from crisis.store import Store
from crisis.store.repository import CrisisNotFound
from playbooks.kinds import kind_row

M = TypeVar("M", bound=BaseModel)
C = TypeVar("C")  # a provider's credentials


def section(model: type[M], data: dict[str, object] | None, name: str, user: str) -> M:
    """A provider's settings section [`name`], validated by its channel's own model (French
    errors); `user` says who needs it when it is missing."""
    if data is None:
        raise ChannelConfigError(
            f"section [{name}] absente du fichier de configuration : {user} l'exige"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ChannelConfigError("; ".join(validation_problems(exc, name))) from None


@dataclass(frozen=True)
class Parts:
    """What a channel is built from besides its provider's section."""

    name: ChannelName
    settings: Settings
    clock: Clock
    env: Mapping[str, str]  # where credentials are read
    crisis_context: Callable[[str], CrisisContext | None] | None
    user: str  # who needs the section, in French (its errors name it)


@dataclass(frozen=True)
class Provider(Generic[M]):
    """One real provider: its settings section and model, how a channel is built from them,
    and what `crisis check-config` says of them (given the channels that use the provider)."""

    name: str  # as written in `[channels.<channel>] provider = "<name>"`
    section: str
    model: type[M]
    build: Callable[[M, Parts], Channel]
    check: Callable[[M, Mapping[str, str], Sequence[ChannelName]], list[str]]

    @classmethod
    def plain(
        cls,
        name: str,
        model: type[M],
        channel: Callable[[M, C, Clock], Channel],
        credentials: Callable[[Mapping[str, str]], C],
        check: Callable[[M, Mapping[str, str]], list[str]],
        *,
        section: str | None = None,
    ) -> Provider[M]:
        """A provider whose channel is `channel(settings, credentials read from the environment,
        clock)` and whose check ignores which channels use it; its section is [`name`] unless
        `section` says otherwise."""
        return cls(
            name,
            section or name,
            model,
            lambda settings, parts: channel(settings, credentials(parts.env), parts.clock),
            lambda settings, env, _used: check(settings, env),
        )

    def channel(self, parts: Parts) -> Channel:
        """The channel `parts.name` on this provider (ChannelConfigError when it cannot be)."""
        return self.build(self.settings_of(parts.settings, parts.user), parts)

    def settings_of(self, settings: Settings, user: str) -> M:
        """This provider's section of `settings`, validated."""
        return section(self.model, settings.section(self.section), self.section, user)


def _twilio(twilio: TwilioSettings, parts: Parts) -> Channel:
    """Calls, the switchboard's message or SMS: one Twilio account for the three."""
    credentials = TwilioCredentials.from_env(parts.env)
    connections = parts.settings.channels[parts.name].concurrency  # the pool never limits it
    if parts.name == ChannelName.VOICE:
        return TwilioVoiceChannel(twilio, credentials, parts.clock, connections=connections)
    if parts.name == ChannelName.STANDARD:
        return _switchboard(parts.settings, twilio, credentials, parts.clock, parts.user)
    return TwilioSmsChannel(twilio, credentials, parts.clock, connections=connections)


def _switchboard(
    settings: Settings,
    twilio: TwilioSettings,
    credentials: TwilioCredentials,
    clock: Clock,
    user: str,
) -> SwitchboardChannel:
    """The switchboard's message (channel « standard »), through the Twilio number's webhook."""
    board = section(SwitchboardSettings, settings.section("standard"), "standard", user)
    if board.state_dir is None:
        board = board.model_copy(update={"state_dir": settings.data_dir / "standard"})
    if twilio.public_base_url is None:
        raise ChannelConfigError("clé « twilio.public_base_url » absente (message du standard)")
    return SwitchboardChannel(
        board, TwilioNumbers(twilio, credentials), twilio.public_base_url, clock
    )


def _website(website: WebsiteSettings, parts: Parts) -> Channel:
    needs_secret = website.cms_webhook_url is not None
    return WebsiteChannel(
        website,
        WebsiteCredentials.from_env(parts.env, require_secret=needs_secret),
        parts.clock,
        crisis_context=parts.crisis_context,
    )


def _check_twilio(
    twilio: TwilioSettings, env: Mapping[str, str], used: Sequence[ChannelName]
) -> list[str]:
    return check_twilio(
        twilio, env, uses_voice=ChannelName.VOICE in used, uses_sms=ChannelName.SMS in used
    )


PROVIDERS: dict[str, Provider[Any]] = {
    row.name: row
    for row in (
        Provider("twilio", "twilio", TwilioSettings, _twilio, _check_twilio),
        Provider.plain("smtp", SmtpSettings, EmailChannel, SmtpCredentials.from_env, check_email),
        Provider.plain("x", XSettings, XChannel, XCredentials.from_env, check_x),
        Provider.plain(
            "facebook",
            FacebookSettings,
            FacebookChannel,
            FacebookCredentials.from_env,
            check_facebook,
        ),
        Provider(
            "website",
            "website",
            WebsiteSettings,
            _website,
            lambda site, env, _used: check_website(site, env),
        ),
        Provider.plain(
            "webhook", AppSettings, AppChannel, AppCredentials.from_env, check_app, section="app"
        ),
    )
}


def simulated(
    name: ChannelName,
    config: ChannelSettings,
    settings: Settings,
    clock: Clock,
    inbound: InboundSink,
    log_name: str = "",
) -> SimulatedChannel:
    """The simulator of a channel, logging what it "sends" under data_dir/simulated."""
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
    if config.provider == "simulated":
        return simulated(name, config, settings, clock, inbound)
    provider = PROVIDERS.get(config.provider)
    if provider is None:  # pragma: no cover (the settings accept known providers only)
        raise ChannelConfigError(f"fournisseur inconnu : {config.provider}")
    user = f"le canal {name.value} (fournisseur « {config.provider} »)"
    return provider.channel(Parts(name, settings, clock, env, crisis_context, user))


def exercise_channels(
    settings: Settings,
    real: Mapping[ChannelName, Channel],
    allow_list_of: Callable[[OutgoingMessage], AllowList],
    clock: Clock,
    inbound: InboundSink,
) -> dict[ChannelName, Channel]:
    """The channels of exercises, decided here once: a simulator per channel (its own log),
    and with `[exercise] real_sends` the real provider for the exercise's participants only.
    Every message is framed "EXERCICE EXERCICE EXERCICE"."""
    built: dict[ChannelName, Channel] = {}
    for name, cfg in settings.channels.items():
        simulator = simulated(name, cfg, settings, clock, inbound, f"exercice-{name.value}")
        really = settings.exercise.real_sends and cfg.provider != "simulated"
        built[name] = ExerciseSwitch(simulator, real.get(name) if really else None, allow_list_of)
    return built


def allow_lists(store: Store) -> Callable[[OutgoingMessage], AllowList]:
    """Who a message's exercise may really reach, read once per exercise (frozen at T0)."""
    known: dict[str, AllowList] = {}

    def allow_list_of(message: OutgoingMessage) -> AllowList:
        if message.crisis_id not in known:
            with store.transaction() as tx:
                crisis = tx.crisis(message.crisis_id)
            known[message.crisis_id] = exercise_allow_list(crisis)
        return known[message.crisis_id]

    return allow_list_of


def exercise_allow_list(crisis: Crisis) -> AllowList:
    """The exercise guard's allow-list for a crisis (the policy: crisis.effects.exercise_reach)."""
    reach = exercise_reach(crisis)
    return AllowList.of(phones=reach.phones, emails=reach.emails, public=reach.public)


def with_ack_links(
    channels: dict[ChannelName, Channel], names: Sequence[ChannelName], signer: AckLinkSigner
) -> None:
    """Wrap the named channels so that their messages carry the signed acknowledgement link
    (outermost: an exercise's framing then encloses the link too)."""
    for name in names:
        if name in channels:
            channels[name] = AckLinkChannel(channels[name], signer)


def crisis_context(store: Store) -> Callable[[str], CrisisContext | None]:
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
            categories=kind_row(crisis.kind).cap_categories,
            area_desc=f"Communes concernées : {shown}" if names else None,
            insee_codes=tuple(crisis.communes),
        )

    return context

"""What the web server is given: the provider callbacks' address and token, the signer of the
acknowledgement links, the CIP line's routes and the switchboard's usual destination."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from channels.ack_link import AckLinkSigner
from channels.base import ChannelConfigError
from channels.switchboard import SwitchboardSettings
from channels.twilio_common import TwilioCredentials, TwilioSettings
from channels.twilio_hotline import HotlineSettings
from crisis.bootstrap.channels import section
from crisis.settings import Settings


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
    twilio = section(TwilioSettings, settings.section("twilio"), "twilio", "Twilio")
    if twilio.public_base_url is None:
        raise ChannelConfigError(
            "clé « twilio.public_base_url » absente : adresse publique où Twilio rappelle "
            "l'orchestrateur (accusés, « tapez 1 »)"
        )
    board = (
        section(SwitchboardSettings, settings.section("standard"), "standard", "le standard")
        if settings.section("standard") is not None
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
    hotline = section(HotlineSettings, settings.cip, "cip", "la CIP")
    return hotline if hotline.number is not None else None

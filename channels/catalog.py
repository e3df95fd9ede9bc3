"""The channel catalog: one row per channel, the one place that says what each channel is.

Engine, approval previews, compliance and settings read a channel's label, audience, address,
body, limits, default rate, Module 7 means and providers here instead of switching on its name.
Adding a channel is its module, one row here, one bootstrap builder row and the config example.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "CATALOG",
    "CHANNEL_LABELS",
    "DEFAULT_RATES",
    "PROVIDERS",
    "PROVIDER_SECTIONS",
    "PUBLIC_CHANNELS",
    "SOCIAL_CHANNELS",
    "ChannelName",
    "ChannelSpec",
    "Means",
    "Measure",
    "channels_for_means",
    "spec",
]


class ChannelName(StrEnum):
    """The means of communication a playbook step can use."""

    VOICE = "voice"  # automate d'appels (Twilio voice)
    SMS = "sms"
    EMAIL = "email"
    X = "x"
    FACEBOOK = "facebook"
    WEBSITE = "website"  # public alert page, homepage banner, CAP 1.2 feed
    APP = "app"  # mobile application webhook
    STANDARD = "standard"  # the switchboard's recorded message (message d'accueil du standard)

    @property
    def is_public(self) -> bool:
        """Whether the channel publishes to the public rather than to a person."""
        return CATALOG[self].public

    @property
    def label(self) -> str:
        """French name shown to users."""
        return CATALOG[self].label


# The Module 7 means of informing the public a CIP announcement must go through (50.1).
Means = Literal["médias", "internet", "téléphone"]
# Which form of the rendered message (crisis.rendering.RenderedMessage) the channel sends.
Body = Literal["short", "voice", "long"]
# How the approval preview measures the body: SMS segments, X's weighted characters, plain
# characters, a voice message, the alert page (page, banner, CAP: one text), or the subject.
Measure = Literal["segments", "weighted", "characters", "voice", "page", "subject"]
# What an address on the channel is: a phone number, an e-mail address or a public account.
AddressKind = Literal["phone", "email", "account"]


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """What one channel is: everything outside its adapter needs to know about it."""

    name: ChannelName
    label: str  # French, shown to users
    public: bool  # publishes to the public (an account) rather than to a person
    address_kind: AddressKind
    # personal channels: the contact's fields tried in order; public: the [public] setting key
    address: tuple[str, ...]
    body: Body
    rich: bool  # sends the HTML rendering beside the text (markdown/HTML capable)
    max_length: int | None  # characters the body may have on the channel (None: no limit)
    measure: Measure
    default_rate: float  # messages per second when [channels.<name>] gives no rate
    means: frozenset[Means]  # the Module 7 means a message on the channel counts for
    providers: frozenset[str]  # "simulated" and the real providers the channel can use
    sections: tuple[str, ...]  # the top-level config tables its real providers read
    social: bool = False  # a social network (X, Facebook): 48.4 asks for one of them
    # acknowledgements come back by the phone chain (call "tapez 1", SMS "répondez 1")
    phone_chain: bool = False

    @classmethod
    def phone(
        cls,
        name: ChannelName,
        label: str,
        *,
        address: tuple[str, ...],
        body: Body,
        max_length: int | None,
        measure: Measure,
        default_rate: float,
    ) -> ChannelSpec:
        """A channel to a person's phone (the contact's `address` fields) through the Twilio
        account, acknowledged by the phone chain."""
        return cls(
            name=name,
            label=label,
            public=False,
            address_kind="phone",
            address=address,
            body=body,
            rich=False,
            max_length=max_length,
            measure=measure,
            default_rate=default_rate,
            means=frozenset({"téléphone"}),
            providers=frozenset({"simulated", "twilio"}),
            sections=("twilio",),
            phone_chain=True,
        )

    @classmethod
    def account(
        cls,
        name: ChannelName,
        label: str,
        *,
        body: Body,
        measure: Measure,
        default_rate: float,
        rich: bool = False,
        max_length: int | None = None,
        means: frozenset[Means] = frozenset({"internet"}),
        provider: str = "",
        sections: tuple[str, ...] = (),
        social: bool = False,
    ) -> ChannelSpec:
        """A public channel, on the prefecture's account: its [public] setting key, its real
        provider (unless `provider`) and its config table (unless `sections`) are named after
        the channel."""
        return cls(
            name=name,
            label=label,
            public=True,
            address_kind="account",
            address=(name.value,),
            body=body,
            rich=rich,
            max_length=max_length,
            measure=measure,
            default_rate=default_rate,
            means=means,
            providers=frozenset({"simulated", provider or name.value}),
            sections=sections or (name.value,),
            social=social,
        )


_ROWS = (
    ChannelSpec.phone(
        ChannelName.VOICE,
        "appel vocal",
        address=("mobile", "landline"),
        body="voice",
        max_length=None,
        measure="voice",
        default_rate=1.0,  # Twilio: 1 call/s per account until business verification
    ),
    ChannelSpec.phone(
        ChannelName.SMS,
        "SMS",
        address=("mobile",),
        body="short",
        max_length=1600,  # Twilio refuses a longer Message (error 21617)
        measure="segments",
        default_rate=10.0,  # alphanumeric sender: 10 segments/s
    ),
    ChannelSpec(
        name=ChannelName.EMAIL,
        label="courriel",
        public=False,
        address_kind="email",
        address=("email",),
        body="long",
        rich=True,
        max_length=None,
        measure="subject",
        default_rate=5.0,
        means=frozenset({"médias"}),
        providers=frozenset({"simulated", "smtp"}),
        sections=("smtp",),
    ),
    ChannelSpec.account(
        ChannelName.X,
        "X (Twitter)",
        body="short",
        max_length=280,  # weighted characters of one post (longer: published as a thread)
        measure="weighted",
        default_rate=0.1,  # 100 posts per 15 minutes
        social=True,
    ),
    ChannelSpec.account(
        ChannelName.FACEBOOK,
        "Facebook",
        body="long",
        measure="subject",
        default_rate=1.0,
        social=True,
    ),
    ChannelSpec.account(
        ChannelName.WEBSITE,
        "site internet des services de l'État",
        body="long",
        rich=True,
        measure="page",
        default_rate=5.0,
    ),
    ChannelSpec.account(
        ChannelName.APP,
        "application mobile",
        body="short",
        measure="characters",
        default_rate=5.0,
        provider="webhook",
    ),
    # the switchboard's message (calls and SMS to the standard's staff count too)
    ChannelSpec.account(
        ChannelName.STANDARD,
        "message du standard téléphonique",
        body="voice",
        measure="voice",
        default_rate=1.0,
        means=frozenset({"téléphone"}),
        provider="twilio",
        sections=("twilio", "standard"),
    ),
)

CATALOG: dict[ChannelName, ChannelSpec] = {row.name: row for row in _ROWS}


def spec(channel: ChannelName) -> ChannelSpec:
    """The catalog row of a channel."""
    return CATALOG[channel]


def channels_for_means(means: Means) -> frozenset[ChannelName]:
    """The channels a message counts on for one Module 7 means, in catalog order."""
    return frozenset(row.name for row in _ROWS if means in row.means)


PUBLIC_CHANNELS = frozenset(row.name for row in _ROWS if row.public)
SOCIAL_CHANNELS = frozenset(row.name for row in _ROWS if row.social)
CHANNEL_LABELS = {row.name: row.label for row in _ROWS}
DEFAULT_RATES = {row.name: row.default_rate for row in _ROWS}
PROVIDERS = {row.name: row.providers for row in _ROWS}
# Every provider table the configuration may hold ([twilio], [smtp], …, [standard]).
PROVIDER_SECTIONS = frozenset(section for row in _ROWS for section in row.sections)

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
    social: bool = False  # a social network (X, Facebook): 48.4 asks for one of them
    # acknowledgements come back by the phone chain (call "tapez 1", SMS "répondez 1")
    phone_chain: bool = False


_ROWS = (
    ChannelSpec(
        name=ChannelName.VOICE,
        label="appel vocal",
        public=False,
        address_kind="phone",
        address=("mobile", "landline"),
        body="voice",
        rich=False,
        max_length=None,
        measure="voice",
        default_rate=1.0,  # Twilio: 1 call/s per account until business verification
        means=frozenset({"téléphone"}),
        providers=frozenset({"simulated", "twilio"}),
        phone_chain=True,
    ),
    ChannelSpec(
        name=ChannelName.SMS,
        label="SMS",
        public=False,
        address_kind="phone",
        address=("mobile",),
        body="short",
        rich=False,
        max_length=1600,  # Twilio refuses a longer Message (error 21617)
        measure="segments",
        default_rate=10.0,  # alphanumeric sender: 10 segments/s
        means=frozenset({"téléphone"}),
        providers=frozenset({"simulated", "twilio"}),
        phone_chain=True,
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
    ),
    ChannelSpec(
        name=ChannelName.X,
        label="X (Twitter)",
        public=True,
        address_kind="account",
        address=("x",),
        body="short",
        rich=False,
        max_length=280,  # weighted characters of one post (longer: published as a thread)
        measure="weighted",
        default_rate=0.1,  # 100 posts per 15 minutes
        means=frozenset({"internet"}),
        providers=frozenset({"simulated", "x"}),
        social=True,
    ),
    ChannelSpec(
        name=ChannelName.FACEBOOK,
        label="Facebook",
        public=True,
        address_kind="account",
        address=("facebook",),
        body="long",
        rich=False,
        max_length=None,
        measure="subject",
        default_rate=1.0,
        means=frozenset({"internet"}),
        providers=frozenset({"simulated", "facebook"}),
        social=True,
    ),
    ChannelSpec(
        name=ChannelName.WEBSITE,
        label="site internet des services de l'État",
        public=True,
        address_kind="account",
        address=("website",),
        body="long",
        rich=True,
        max_length=None,
        measure="page",
        default_rate=5.0,
        means=frozenset({"internet"}),
        providers=frozenset({"simulated", "website"}),
    ),
    ChannelSpec(
        name=ChannelName.APP,
        label="application mobile",
        public=True,
        address_kind="account",
        address=("app",),
        body="short",
        rich=False,
        max_length=None,
        measure="characters",
        default_rate=5.0,
        means=frozenset({"internet"}),
        providers=frozenset({"simulated", "webhook"}),
    ),
    ChannelSpec(
        name=ChannelName.STANDARD,
        label="message du standard téléphonique",
        public=True,
        address_kind="account",
        address=("standard",),
        body="voice",
        rich=False,
        max_length=None,
        measure="voice",
        default_rate=1.0,
        # the switchboard's message (calls and SMS to the standard's staff count too)
        means=frozenset({"téléphone"}),
        providers=frozenset({"simulated", "twilio"}),
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

"""The exercise guard: frames every message "EXERCICE EXERCICE EXERCICE" and lets through only
the participants of the exercise (49, 49.1), whatever channel or configuration is behind it.

The check runs BEFORE the inner channel is called: an address outside the allow-list never
reaches a provider. Public channels (X, Facebook, website, app) publish to everybody, so they
are refused unless the allow-list names the very account or site (an exercise account).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from channels.base import PUBLIC_CHANNELS, Channel, ChannelName, OutgoingMessage, Receipt
from channels.errors import ChannelConfigError, DeliveryFailed
from contacts.phone import possible_e164

__all__ = [
    "FRAME",
    "HTML_FRAME",
    "AllowList",
    "ExerciseChannel",
    "ExerciseSwitch",
    "frame_message",
    "normalize_account",
    "normalize_email",
]

FRAME = "EXERCICE EXERCICE EXERCICE"
HTML_FRAME = f"<p><strong>{FRAME}</strong></p>"
SUBJECT_MAX = 120  # channels/email.py cuts longer subjects: the closing frame must survive
_SUBJECT_SEPARATOR = " — "
_PHONE_CHANNELS = frozenset({ChannelName.VOICE, ChannelName.SMS})


def normalize_email(raw: str) -> str:
    """An e-mail address compared case-insensitively, without surrounding spaces."""
    return raw.strip().casefold()


def normalize_account(raw: str) -> str:
    """A public account or site ("@Prefet42_Exercice", "https://exercice.example/"): case,
    a leading "@" and a trailing "/" do not matter."""
    return raw.strip().removeprefix("@").rstrip("/").casefold()


@dataclass(frozen=True)
class AllowList:
    """Who an exercise may reach: participants' numbers and e-mails, and the public accounts or
    sites (per channel) dedicated to the exercise. Everything else is refused.

    Build it with `AllowList.of(...)`, which normalises and validates the entries.
    """

    phones: frozenset[str] = frozenset()  # E.164
    emails: frozenset[str] = frozenset()  # casefolded
    public: Mapping[ChannelName, frozenset[str]] = field(default_factory=dict)  # normalised

    @classmethod
    def of(
        cls,
        *,
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        public: Mapping[ChannelName, Iterable[str]] | None = None,
    ) -> AllowList:
        """The allow-list from raw entries; ChannelConfigError (French, without the entry) if a
        number is unreadable, an address is not an e-mail or a channel is not public."""
        normalized_phones: set[str] = set()
        for index, raw in enumerate(phones, start=1):
            e164 = possible_e164(raw)
            if e164 is None:
                raise ChannelConfigError(
                    f"liste des participants de l'exercice : le numéro n° {index} est illisible"
                )
            normalized_phones.add(e164)
        normalized_emails: set[str] = set()
        for index, raw in enumerate(emails, start=1):
            address = normalize_email(raw)
            local, at, domain = address.partition("@")
            if not (local and at and "." in domain):
                raise ChannelConfigError(
                    f"liste des participants de l'exercice : l'adresse n° {index} "
                    "n'est pas une adresse électronique"
                )
            normalized_emails.add(address)
        accounts: dict[ChannelName, frozenset[str]] = {}
        for channel, names in (public or {}).items():
            if channel not in PUBLIC_CHANNELS:
                raise ChannelConfigError(
                    f"liste des participants de l'exercice : le canal {channel.label} "
                    "n'est pas un canal public"
                )
            cleaned = frozenset(normalize_account(n) for n in names) - {""}
            if cleaned:
                accounts[channel] = cleaned
        return cls(frozenset(normalized_phones), frozenset(normalized_emails), accounts)

    def allows(self, channel: ChannelName, address: str) -> bool:
        """Whether a message on this channel may go to this address."""
        if channel in _PHONE_CHANNELS:
            e164 = possible_e164(address)
            return e164 is not None and e164 in self.phones
        if channel == ChannelName.EMAIL:
            return normalize_email(address) in self.emails
        if channel in PUBLIC_CHANNELS:
            return normalize_account(address) in self.public.get(channel, frozenset())
        return False


def _frame_text(text: str) -> str:
    body = text.strip()
    if not body:
        return FRAME
    if body.startswith(FRAME) and body.endswith(FRAME) and len(body) >= 2 * len(FRAME):
        return body
    return f"{FRAME}\n\n{body}\n\n{FRAME}"


def _frame_subject(subject: str) -> str:
    inner = " ".join(subject.split())
    if inner.startswith(FRAME) and inner.endswith(FRAME) and len(inner) <= SUBJECT_MAX:
        return inner
    if not inner:
        return FRAME
    room = SUBJECT_MAX - 2 * (len(FRAME) + len(_SUBJECT_SEPARATOR))
    if len(inner) > room:
        inner = inner[: room - 1].rstrip() + "…"
    return f"{FRAME}{_SUBJECT_SEPARATOR}{inner}{_SUBJECT_SEPARATOR}{FRAME}"


def _frame_html(html: str) -> str:
    if html.startswith(HTML_FRAME) and html.endswith(HTML_FRAME):
        return html
    return f"{HTML_FRAME}\n{html}\n{HTML_FRAME}"


def frame_message(message: OutgoingMessage) -> OutgoingMessage:
    """The message as an exercise sends it: body, subject and HTML start and end with the
    EXERCICE mark, and it is flagged as an exercise (CAP status=Exercise). Idempotent."""
    update: dict[str, object] = {
        "body": _frame_text(message.body),
        "subject": _frame_subject(message.subject),
        "exercise": True,
    }
    if message.html is not None:
        update["html"] = _frame_html(message.html)
    return message.model_copy(update=update)


class ExerciseChannel:
    """Wraps any channel for an exercise: refuses recipients outside the allow-list before the
    inner channel is called, and frames every message it lets through."""

    def __init__(self, inner: Channel, allow_list: AllowList) -> None:
        self.inner = inner
        self.allow_list = allow_list
        self.name: ChannelName = inner.name

    def _refusal(self, message: OutgoingMessage) -> DeliveryFailed:
        if message.channel.is_public:
            reason = (
                f"exercice : publication sur {message.channel.label} bloquée, le compte ou le "
                "site n'est pas déclaré pour l'exercice"
            )
        else:
            reason = (
                f"exercice : envoi bloqué, le destinataire {message.recipient.contact_id} "
                f"({message.channel.label}) n'est pas sur la liste des participants"
            )
        return DeliveryFailed(reason, retryable=False)

    def _allowed(self, message: OutgoingMessage) -> bool:
        # The channel the message is addressed on AND the channel we wrap must agree: a message
        # for another channel is not this wrapper's to judge, so it is refused.
        return message.channel == self.name and self.allow_list.allows(
            message.channel, message.recipient.address
        )

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Send the framed message through the inner channel, if the recipient takes part."""
        if not self._allowed(message):
            raise self._refusal(message)
        return await self.inner.send(frame_message(message))

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Look the framed message up; a refused recipient was certainly never sent to."""
        if not self._allowed(message):
            return None
        return await self.inner.lookup(frame_message(message))


class ExerciseSwitch:
    """An exercise's channel: participants on the allow-list through `real` (when real sends
    are enabled), everybody else through the simulator; every message framed either way.

    `allow_list_of` gives the allow-list of the message's exercise (read from the crisis, never
    from the configuration). Without `real`, nothing leaves the simulator.
    """

    def __init__(
        self,
        simulated: Channel,
        real: Channel | None,
        allow_list_of: Callable[[OutgoingMessage], AllowList],
    ) -> None:
        self.simulated = simulated
        self.real = real
        self.allow_list_of = allow_list_of
        self.name: ChannelName = simulated.name

    def __repr__(self) -> str:
        return f"ExerciseSwitch(simulated={self.simulated!r}, real={self.real!r})"

    def _route(self, message: OutgoingMessage) -> Channel:
        if self.real is not None:
            allow_list = self.allow_list_of(message)
            if allow_list.allows(message.channel, message.recipient.address):
                return ExerciseChannel(self.real, allow_list)  # checked once more, then framed
        return self.simulated

    async def send(self, message: OutgoingMessage) -> Receipt:
        route = self._route(message)
        if route is self.simulated:
            return await self.simulated.send(frame_message(message))
        return await route.send(message)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        route = self._route(message)
        if route is self.simulated:
            return await self.simulated.lookup(frame_message(message))
        return await route.lookup(message)

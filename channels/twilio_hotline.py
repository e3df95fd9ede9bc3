"""What the CIP's numéro unique says, as pure TwiML builders (twilio.twiml classes, French
speech): greeting and the information of the moment, then the queue answered by the CIP agents
on duty; position and hold music while waiting; voicemail when nobody is free; the closed-line
message; and the agent's side (take the next caller). Also the routing decision for a new call
and the [cip] settings these need."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from twilio.twiml.voice_response import Dial, VoiceResponse

from channels.base import is_loopback_host
from channels.twilio_callbacks import DEFAULT_VOICE, LANGUAGE
from channels.twilio_common import valid_e164

__all__ = [
    "STANDARD_PATH",
    "CallRoute",
    "HotlineSettings",
    "HotlineUrls",
    "OpeningHours",
    "QueueDecision",
    "after_queue_twiml",
    "agent_dial_twiml",
    "connected_twiml",
    "greeting_twiml",
    "hotline_urls",
    "out_of_hours_twiml",
    "overflow_twiml",
    "position_text",
    "voicemail_saved_twiml",
    "wait_twiml",
]

STANDARD_PATH = "/webhooks/twilio/standard"  # the switchboard's announcement (TwiML route)
SAY_LIMIT = 3_000  # Twilio refuses a <Say> over 4,096 characters: longer texts are split

WELCOME = "Bonjour, vous êtes en relation avec la cellule d'information du public de la préfecture."
EMERGENCY = (
    "Si vous êtes en danger ou si vous devez signaler une urgence, raccrochez et composez le 112."
)
INFO_INTRO = "Voici l'information de la préfecture en ce moment."
PLEASE_HOLD = "Un agent de la cellule va prendre votre appel. Merci de rester en ligne."
STILL_HOLD = "Merci de rester en ligne, un agent va vous répondre."
TOO_LONG = "Aucun agent ne s'est libéré pour le moment."
ALL_BUSY = "Tous les agents de la cellule sont actuellement occupés."
LEAVE_MESSAGE = (
    "Vous pouvez laisser un message après le bip : indiquez votre nom, un numéro où vous "
    "rappeler et votre question. Appuyez sur la touche dièse pour terminer."
)
NO_MESSAGE = "Aucun message n'a été enregistré. Au revoir."
CLOSED = "La cellule d'information du public est actuellement fermée."
CLOSED_MESSAGE = "Un message laissé maintenant sera traité à la réouverture de la cellule."
CALL_BACK_LATER = "Merci de rappeler ultérieurement. Au revoir."
THANKS = "Merci de votre appel. Au revoir."
SAVED = (
    "Votre message a bien été enregistré et sera traité par la cellule d'information du "
    "public. Au revoir."
)
AGENT_INTRO = "Cellule d'information du public : mise en relation avec le correspondant suivant."
AGENT_DONE = "Plus aucun correspondant en attente. Au revoir."
CONNECTED = "Un agent de la cellule d'information du public vous répond."
HOLD_PAUSE_S = 20  # silence between two announcements when no hold music is configured

_ORDINALS = (
    "premier",
    "deuxième",
    "troisième",
    "quatrième",
    "cinquième",
    "sixième",
    "septième",
    "huitième",
    "neuvième",
    "dixième",
    "onzième",
    "douzième",
    "treizième",
    "quatorzième",
    "quinzième",
    "seizième",
    "dix-septième",
    "dix-huitième",
    "dix-neuvième",
    "vingtième",
)
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _url(value: str, setting: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{setting} : adresse http(s) complète attendue (ex. https://...)")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"{setting} : https obligatoire (http seulement pour 127.0.0.1)")
    return value.strip()


# --- settings ----------------------------------------------------------------------------------


class OpeningHours(BaseModel):
    """When the CIP answers (local time); may span midnight (opens 20:00, closes 08:00)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: time
    closes: time
    timezone: str = "Europe/Paris"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"cip.opening_hours.timezone : fuseau inconnu ({value!r})") from None
        return value

    @model_validator(mode="after")
    def _distinct(self) -> OpeningHours:
        if self.opens == self.closes:
            raise ValueError(
                "cip.opening_hours : ouverture et fermeture identiques (pour une ouverture "
                "24 h/24, ne pas renseigner opening_hours)"
            )
        return self

    def is_open(self, now: datetime) -> bool:
        """Whether the CIP answers at `now` (an aware datetime, from the orchestrator's clock)."""
        if now.tzinfo is None:
            raise ValueError("heure sans fuseau horaire")
        local = now.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        if self.opens < self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes


class HotlineSettings(BaseModel):
    """The [cip] section: the numéro unique and how its calls are handled (non-secret)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str | None = None  # E.164 Twilio number owned by the prefecture (numéro unique)
    queue_name: str = "cip"  # the Twilio queue the CIP agents answer
    max_queue: int = Field(default=20, ge=1, le=1_000)  # callers waiting before overflow
    max_wait_s: int = Field(default=600, ge=60, le=3_600)  # then offered to leave a message
    hold_music_url: str | None = None  # audio played while waiting (https)
    voicemail_max_s: int = Field(default=120, ge=10, le=600)  # longest message left
    opening_hours: OpeningHours | None = None  # None: the CIP answers round the clock

    @field_validator("number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return valid_e164(
            value,
            "cip.number",
            expected="numéro unique au format international E.164 attendu (+33...)",
        )

    @field_validator("queue_name")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not _QUEUE_NAME.match(value):
            raise ValueError("cip.queue_name : 1 à 64 lettres sans accent, chiffres, - ou _")
        return value

    @field_validator("hold_music_url")
    @classmethod
    def _music(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, "cip.hold_music_url")

    def is_open(self, now: datetime) -> bool:
        """Whether the CIP answers at `now`."""
        return self.opening_hours is None or self.opening_hours.is_open(now)


@dataclass(frozen=True)
class HotlineUrls:
    """The webhooks Twilio calls for the numéro unique (all POST, signed)."""

    voice: str  # the number's voice_url: a new call
    wait: str  # Enqueue waitUrl: position and hold music, fetched again and again
    after_queue: str  # Enqueue action: the caller left the queue (QueueResult)
    voicemail: str  # Record action: a message was left
    agent: str  # an agent's phone: take the next caller


def hotline_urls(public_base_url: str) -> HotlineUrls:
    """The suggested webhook URLs under {base}/webhooks/twilio/cip/..."""
    base = f"{public_base_url.rstrip('/')}/webhooks/twilio/cip"
    return HotlineUrls(
        voice=f"{base}/voice",
        wait=f"{base}/wait",
        after_queue=f"{base}/after-queue",
        voicemail=f"{base}/voicemail",
        agent=f"{base}/agent",
    )


# --- routing decision --------------------------------------------------------------------------


class CallRoute(StrEnum):
    """What happens to a new call on the numéro unique."""

    ENQUEUE = "enqueue"  # greeting, information, then the queue
    OVERFLOW = "overflow"  # nobody on duty or queue full: message, then voicemail
    OUT_OF_HOURS = "out_of_hours"  # CIP closed: information, then voicemail


@dataclass(frozen=True)
class QueueDecision:
    """The route for a new call and the free agents to ring at once (simultaneous ring)."""

    route: CallRoute
    ring: tuple[str, ...]  # ids of the agents on duty and not in a call, sorted
    reason: str  # French, for the CIP dashboard

    @classmethod
    def decide(
        cls,
        *,
        on_duty: Collection[str],
        busy: Collection[str],
        queue_length: int,
        max_queue: int,
        open_now: bool,
    ) -> QueueDecision:
        """Closed: out of hours. Nobody on duty, or `queue_length` callers already waiting
        with `max_queue` reached: overflow. Otherwise: queue, ringing the free agents."""
        free = tuple(sorted(set(on_duty) - set(busy)))
        if not open_now:
            return cls(CallRoute.OUT_OF_HOURS, (), "appel reçu en dehors des heures d'ouverture")
        if not on_duty:
            return cls(CallRoute.OVERFLOW, (), "aucun agent de la CIP de permanence")
        if queue_length >= max_queue:
            return cls(
                CallRoute.OVERFLOW,
                (),
                f"file d'attente pleine ({queue_length} appelants pour {max_queue} places)",
            )
        if free:
            return cls(CallRoute.ENQUEUE, free, f"{len(free)} agent(s) libre(s) appelé(s)")
        return cls(
            CallRoute.ENQUEUE, (), f"tous les agents occupés : {queue_length + 1}e en attente"
        )


# --- TwiML ---------------------------------------------------------------------------------------


def _chunks(text: str) -> Iterator[str]:
    """The text in pieces short enough for one <Say>, cut between sentences where possible."""
    rest = " ".join(text.split())
    while len(rest) > SAY_LIMIT:
        sentence = rest.rfind(". ", 0, SAY_LIMIT)
        cut = sentence + 1 if sentence > 0 else rest.rfind(" ", 0, SAY_LIMIT)
        cut = cut if cut > 0 else SAY_LIMIT
        yield rest[:cut].strip()
        rest = rest[cut:].strip()
    if rest:
        yield rest


def _say(verb: Any, text: str, voice: str) -> None:
    for piece in _chunks(text):
        verb.say(piece, voice=voice, language=LANGUAGE)


def _record(
    response: VoiceResponse, action_url: str, max_length_s: int, voice: str, prompt: str
) -> None:
    _say(response, prompt, voice)
    response.record(
        action=action_url,
        method="POST",
        max_length=max_length_s,
        timeout=5,
        finish_on_key="#",
        play_beep=True,
        transcribe=False,
    )
    _say(response, NO_MESSAGE, voice)  # reached only when nothing was recorded
    response.hangup()


def position_text(position: int) -> str:
    """ "Vous êtes le deuxième correspondant en attente." (words up to 20, then digits)."""
    if position < 1:
        return STILL_HOLD
    if position <= len(_ORDINALS):
        return f"Vous êtes le {_ORDINALS[position - 1]} correspondant en attente."
    return f"Vous êtes le correspondant numéro {position} dans la file d'attente."


def _wait_text(avg_wait_s: int | None) -> str:
    if not avg_wait_s or avg_wait_s <= 0:
        return ""
    if avg_wait_s < 60:
        return "Le temps d'attente moyen est inférieur à une minute."
    minutes = round(avg_wait_s / 60)
    return (
        "Le temps d'attente moyen est d'environ une minute."
        if minutes == 1
        else f"Le temps d'attente moyen est d'environ {minutes} minutes."
    )


def greeting_twiml(
    info_text: str,
    queue_name: str,
    wait_url: str,
    action_url: str,
    *,
    open_now: bool,
    voice: str = DEFAULT_VOICE,
    voicemail_url: str | None = None,
    voicemail_max_s: int = 120,
) -> str:
    """A new call: welcome, emergency number, the information of the moment (the latest
    approved message), then <Enqueue> into the CIP queue. Closed: `out_of_hours_twiml`."""
    if not open_now:
        return out_of_hours_twiml(
            info_text, voice=voice, voicemail_url=voicemail_url, voicemail_max_s=voicemail_max_s
        )
    response = VoiceResponse()
    _say(response, WELCOME, voice)
    _say(response, EMERGENCY, voice)
    if info_text.strip():
        _say(response, INFO_INTRO, voice)
        _say(response, info_text, voice)
        response.pause(length=1)
    _say(response, PLEASE_HOLD, voice)
    response.enqueue(
        queue_name, action=action_url, method="POST", wait_url=wait_url, wait_url_method="POST"
    )
    return str(response)


def wait_twiml(
    position: int,
    avg_wait_s: int | None,
    hold_music_url: str | None,
    *,
    queue_time_s: int = 0,
    max_wait_s: int | None = None,
    voice: str = DEFAULT_VOICE,
) -> str:
    """While in the queue (waitUrl, from Twilio's QueuePosition, AvgQueueTime, QueueTime):
    position, average wait, then hold music once (Twilio fetches this again afterwards, with a
    fresh position). Waited `max_wait_s` or more: <Leave>, so the Enqueue action offers
    voicemail."""
    response = VoiceResponse()
    if max_wait_s is not None and queue_time_s >= max_wait_s:
        _say(response, TOO_LONG, voice)
        response.leave()
        return str(response)
    _say(response, position_text(position), voice)
    wait = _wait_text(avg_wait_s)
    if wait:
        _say(response, wait, voice)
    _say(response, STILL_HOLD, voice)
    if hold_music_url:
        response.play(hold_music_url, loop=1)
    else:
        response.pause(length=HOLD_PAUSE_S)
    return str(response)


def overflow_twiml(
    record_action_url: str, *, max_length_s: int = 120, voice: str = DEFAULT_VOICE
) -> str:
    """Nobody free (queue full, waited too long, nobody on duty): leave a message (<Record>,
    no transcription; the recording goes to `record_action_url`)."""
    response = VoiceResponse()
    _say(response, ALL_BUSY, voice)
    _record(response, record_action_url, max_length_s, voice, LEAVE_MESSAGE)
    return str(response)


def out_of_hours_twiml(
    info_text: str,
    *,
    voice: str = DEFAULT_VOICE,
    voicemail_url: str | None = None,
    voicemail_max_s: int = 120,
) -> str:
    """The CIP is closed: the information of the moment, the emergency number, then a message
    can be left (when `voicemail_url` is given) or the call ends."""
    response = VoiceResponse()
    _say(response, WELCOME, voice)
    _say(response, CLOSED, voice)
    _say(response, EMERGENCY, voice)
    if info_text.strip():
        _say(response, INFO_INTRO, voice)
        _say(response, info_text, voice)
    if voicemail_url is None:
        _say(response, CALL_BACK_LATER, voice)
        response.hangup()
    else:
        _record(
            response, voicemail_url, voicemail_max_s, voice, f"{CLOSED_MESSAGE} {LEAVE_MESSAGE}"
        )
    return str(response)


_TO_VOICEMAIL = frozenset({"leave", "queue-full", "error", "system-error"})


def after_queue_twiml(
    queue_result: str,
    record_action_url: str,
    *,
    max_length_s: int = 120,
    voice: str = DEFAULT_VOICE,
) -> str:
    """The Enqueue action (QueueResult): left, full or failed → voicemail; after talking to
    an agent → goodbye; caller gone → nothing."""
    result = queue_result.strip().lower()
    if result in _TO_VOICEMAIL:
        return overflow_twiml(record_action_url, max_length_s=max_length_s, voice=voice)
    response = VoiceResponse()
    if result in {"bridged", "bridging-in-process", "redirected"}:
        _say(response, THANKS, voice)
    response.hangup()
    return str(response)


def agent_dial_twiml(
    queue_name: str,
    *,
    voice: str = DEFAULT_VOICE,
    caller_url: str | None = None,
    action_url: str | None = None,
) -> str:
    """An agent's phone: <Dial><Queue> takes the caller who waited longest. `caller_url`:
    TwiML the caller hears just before being connected; `action_url`: told when it ends."""
    response = VoiceResponse()
    _say(response, AGENT_INTRO, voice)
    dial = Dial(action=action_url, method="POST") if action_url else Dial()
    if caller_url:
        dial.queue(queue_name, url=caller_url, method="POST")
    else:
        dial.queue(queue_name)
    response.append(dial)
    _say(response, AGENT_DONE, voice)
    response.hangup()
    return str(response)


def connected_twiml(*, voice: str = DEFAULT_VOICE) -> str:
    """What the caller hears when an agent takes the call (the Queue noun's url)."""
    response = VoiceResponse()
    _say(response, CONNECTED, voice)
    return str(response)


def voicemail_saved_twiml(*, voice: str = DEFAULT_VOICE) -> str:
    """After <Record>: the message was saved."""
    response = VoiceResponse()
    _say(response, SAVED, voice)
    response.hangup()
    return str(response)

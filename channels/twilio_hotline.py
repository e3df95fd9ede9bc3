"""What the CIP's numéro unique says, as pure TwiML builders (twilio.twiml classes, French
speech): greeting and the information of the moment, then the queue answered by the CIP agents
on duty; position and hold music while waiting; voicemail when nobody is free; the closed-line
message; and the agent's side (take the next caller). The [cip] settings and the routing
decision for a new call live in channels.twilio_hotline_settings, re-exported here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twilio.twiml.voice_response import Dial, VoiceResponse

from channels.twilio_callbacks import DEFAULT_VOICE, LANGUAGE
from channels.twilio_hotline_settings import (
    CallRoute,
    HotlineSettings,
    HotlineUrls,
    OpeningHours,
    QueueDecision,
    hotline_urls,
)

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

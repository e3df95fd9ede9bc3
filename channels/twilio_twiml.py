"""The TwiML the switchboard and the numéro unique's edges answer with, as plain functions of
typed values (French speech): the switchboard's announcement then <Dial>, the closed agent
line, and a TwiML document preceded by the welcome and the information of the moment. The
web calls these; only channels/ touches the Twilio SDK."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from twilio.twiml.voice_response import VoiceResponse

from channels.twilio_callbacks import DEFAULT_VOICE, LANGUAGE
from channels.twilio_hotline import EMERGENCY, INFO_INTRO, SAY_LIMIT, WELCOME

__all__ = [
    "NO_AGENT",
    "STANDARD_UNAVAILABLE",
    "no_agent_twiml",
    "say_pieces",
    "switchboard_twiml",
    "with_information",
]

NO_AGENT = "Aucun agent de la cellule n'est attendu sur ce poste. Au revoir."
STANDARD_UNAVAILABLE = (
    "Le standard de la préfecture ne peut pas prendre votre appel pour le moment. "
    "Merci de rappeler ultérieurement. Au revoir."
)


def say_pieces(text: str) -> Iterator[str]:
    """The text in pieces short enough for one <Say>, cut between words."""
    rest = " ".join(text.split())
    while len(rest) > SAY_LIMIT:
        cut = rest.rfind(" ", 0, SAY_LIMIT)
        cut = cut if cut > 0 else SAY_LIMIT
        yield rest[:cut]
        rest = rest[cut:].strip()
    if rest:
        yield rest


def switchboard_twiml(
    announcement: str | None, forward_to: str | None, *, voice: str = DEFAULT_VOICE
) -> str:
    """The switchboard's number: the current announcement, then <Dial> the usual standard
    (or, without one, an apology and the end of the call)."""
    response = VoiceResponse()
    for piece in say_pieces(announcement or ""):
        response.say(piece, voice=voice, language=LANGUAGE)
    if forward_to:
        response.dial(forward_to)
    else:
        response.say(STANDARD_UNAVAILABLE, voice=voice, language=LANGUAGE)
        response.hangup()
    return str(response)


def no_agent_twiml(*, voice: str = DEFAULT_VOICE) -> str:
    """An agent's line called while no CIP answers on it: say so and hang up."""
    response = VoiceResponse()
    response.say(NO_AGENT, voice=voice, language=LANGUAGE)
    response.hangup()
    return str(response)


def with_information(twiml: str, info: str, *, voice: str = DEFAULT_VOICE) -> str:
    """`twiml` preceded by the welcome, the emergency number and the information of the
    moment (an overflowing line still tells callers what the préfecture says)."""
    root = ET.fromstring(twiml)  # noqa: S314 - built by twilio's own classes in this package
    texts = [WELCOME, EMERGENCY]
    if info.strip():
        texts += [INFO_INTRO, *say_pieces(info)]
    for index, text in enumerate(texts):
        say = ET.Element("Say", {"language": LANGUAGE, "voice": voice})
        say.text = text
        root.insert(index, say)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")

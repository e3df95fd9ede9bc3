"""Twilio's side of the conversation, as pure functions for the web layer: signature check,
status and "tapez 1" events, acknowledgement replies, and the TwiML we answer with."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport

__all__ = [
    "ACK_PROMPT_ETA",
    "ACK_PROMPT_VOICE",
    "DEFAULT_VOICE",
    "LANGUAGE",
    "ReplyAcknowledgement",
    "gather_event",
    "gather_twiml",
    "is_acknowledgement_text",
    "reply_acknowledgement",
    "signature_valid",
    "sms_reply_twiml",
    "status_event",
    "voice_twiml",
]

LANGUAGE = "fr-FR"
DEFAULT_VOICE = "Polly.Lea"  # Amazon Polly French voice offered by Twilio
ACK_PROMPT_VOICE = "Tapez 1 pour confirmer la réception de ce message."
GATHER_TIMEOUT_S = 8
MAX_ETA_MINUTES = 600
ACK_PROMPT_ETA = (
    "Tapez 1 pour confirmer la réception de ce message. Si vous rejoignez la cellule, tapez 1 "
    "puis votre délai d'arrivée en minutes, et terminez par dièse : par exemple 1, 3, 0, dièse "
    "pour trente minutes."
)
REPEAT = "Je répète."
NO_ACK = "Aucune confirmation reçue. Au revoir."
THANKS = "Merci, votre confirmation est enregistrée. Au revoir."
END_OF_MESSAGE = "Fin du message. Au revoir."
SMS_THANKS = "Réception confirmée, merci."


def signature_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether X-Twilio-Signature matches the URL Twilio called and the posted form."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


# --- status callbacks ------------------------------------------------------------------------

_CALL_FAILURES = {
    "busy": "occupé",
    "no-answer": "pas de réponse",
    "failed": "appel impossible (numéro invalide, réseau ou compte)",
    "canceled": "appel annulé avant d'aboutir",
}
_CALL_PENDING = frozenset({"queued", "initiated", "ringing", "in-progress", "answered"})
_SMS_DELIVERED = frozenset({"delivered", "read"})
_SMS_FAILED = frozenset({"undelivered", "failed", "canceled"})
_SMS_PENDING = frozenset(
    {"queued", "sending", "sent", "accepted", "scheduled", "receiving", "received"}
)
_SMS_ERRORS = {
    "21211": "numéro invalide",
    "21610": "le destinataire a bloqué les SMS de cet expéditeur (STOP)",
    "21614": "le numéro n'est pas un mobile",
    "30001": "file d'attente saturée ou délai de validité dépassé",
    "30002": "compte Twilio suspendu : prévenir l'administrateur",
    "30003": "téléphone éteint ou hors réseau",
    "30004": "message bloqué par le destinataire ou l'opérateur",
    "30005": "numéro inconnu ou inactif",
    "30006": "ligne fixe ou opérateur injoignable par SMS",
    "30007": "message filtré par l'opérateur",
    "30008": "erreur inconnue de l'opérateur",
    "30010": "prix maximal dépassé",
}


def _call_report(key: str, params: Mapping[str, str]) -> DeliveryReport | None:
    sid = params.get("CallSid", "")
    status = params.get("CallStatus", "")
    if not sid or status in _CALL_PENDING:
        return None
    answered_by = params.get("AnsweredBy", "")
    if status == "completed":
        if answered_by == "fax":
            return _report(ChannelName.VOICE, sid, key, False, "un fax a répondu : numéro à revoir")
        reason = "message déposé sur le répondeur" if answered_by.startswith("machine") else ""
        return _report(ChannelName.VOICE, sid, key, True, reason)
    if status in _CALL_FAILURES:
        reason = _CALL_FAILURES[status]
        code = params.get("ErrorCode", "")
        if status == "failed" and code:
            reason = f"{reason} (code {code})"
        return _report(ChannelName.VOICE, sid, key, False, reason)
    return None


def _sms_report(key: str, params: Mapping[str, str]) -> DeliveryReport | None:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or status in _SMS_PENDING:
        return None
    if status in _SMS_DELIVERED:
        return _report(ChannelName.SMS, sid, key, True, "")
    if status in _SMS_FAILED:
        code = params.get("ErrorCode", "")
        if code in _SMS_ERRORS:
            reason = _SMS_ERRORS[code]
        elif status == "canceled":
            reason = "SMS annulé avant l'envoi"
        else:
            base = "SMS non remis" if status == "undelivered" else "SMS non envoyé"
            reason = f"{base} (code {code})" if code else base
        return _report(ChannelName.SMS, sid, key, False, reason)
    return None


def _report(
    channel: ChannelName, sid: str, key: str, delivered: bool, reason: str
) -> DeliveryReport:
    return DeliveryReport(
        channel=channel, provider_id=sid, idempotency_key=key, delivered=delivered, reason=reason
    )


def status_channel(params: Mapping[str, str]) -> ChannelName | None:
    """The kind of send a status callback speaks of: a call (CallSid), an SMS (MessageSid)."""
    if "CallSid" in params or "CallStatus" in params:
        return ChannelName.VOICE
    if "MessageSid" in params or "MessageStatus" in params:
        return ChannelName.SMS
    return None


def status_event(
    channel: ChannelName, key: str, params: Mapping[str, str]
) -> DeliveryReport | None:
    """A call's or an SMS's final status as a DeliveryReport; None for intermediate states."""
    if channel == ChannelName.VOICE:
        return _call_report(key, params)
    if channel == ChannelName.SMS:
        return _sms_report(key, params)
    return None


def gather_event(key: str, params: Mapping[str, str]) -> AcknowledgementReport | None:
    """The recipient pressed 1 after the message: an acknowledgement.

    A cell member may type their arrival delay after the 1 ("1 3 0 #": thirty minutes).
    """
    sid = params.get("CallSid", "")
    digits = params.get("Digits", "").strip().rstrip("#")
    if not sid or not digits.startswith("1"):
        return None
    rest = digits[1:]
    if rest and not rest.isdigit():
        return None
    return AcknowledgementReport(
        channel=ChannelName.VOICE,
        provider_id=sid,
        idempotency_key=key,
        eta_minutes=_eta(int(rest)) if rest else None,
    )


def _eta(minutes: int) -> int | None:
    """An arrival delay as given, or None when it cannot be one (0, or over ten hours)."""
    return minutes if 0 < minutes <= MAX_ETA_MINUTES else None


# --- SMS replies -----------------------------------------------------------------------------

_ACK_WORDS = frozenset({"1", "ok", "okay", "oui", "recu", "bien", "merci", "confirme"})
_ACK_STRONG = frozenset({"1", "ok", "okay", "oui", "recu", "confirme"})
_WORD = re.compile(r"[a-z0-9]+")


_ETA = re.compile(
    r"[\s,.;:!-]+(?:j ?arrive\s+)?(?:dans\s+)?(?:(?P<h>\d{1,2})\s*h\s*(?P<hm>\d{1,2})?"
    r"|(?P<m>\d{1,3})\s*(?:mn|min|mins|minutes?)?)\s*[.!]*$"
)


def _plain(body: str) -> str:
    folded = unicodedata.normalize("NFKD", body.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).strip()


def _acknowledges(plain: str) -> bool:
    words = _WORD.findall(plain)
    if not words or any(ch.isalnum() for ch in _WORD.sub("", plain)):
        return False
    return all(w in _ACK_WORDS for w in words) and any(w in _ACK_STRONG for w in words)


def is_acknowledgement_text(body: str) -> bool:
    """Whether an SMS reply confirms reception: "1", "OK", "reçu", "bien reçu", "Oui merci".

    Every word must be one of the acknowledging words, so "pas reçu" or "non" never count.
    An arrival delay may follow (see `reply_acknowledgement`).
    """
    return reply_acknowledgement(body) is not None


@dataclass(frozen=True)
class ReplyAcknowledgement:
    """An SMS reply that confirms reception, with the arrival delay a cell member gave."""

    eta_minutes: int | None = None


def reply_acknowledgement(body: str) -> ReplyAcknowledgement | None:
    """None when the reply does not confirm reception.

    "1 20", "OK 30 min", "reçu, j'arrive dans 45 minutes", "1 1h30": the cell member says when
    they will be there. The delay is read only after an acknowledging word.
    """
    plain = _plain(body).replace("'", " ").replace("\u2019", " ")
    match = _ETA.search(plain)
    if match is not None and _acknowledges(plain[: match.start()]):
        if match.group("m") is not None:
            return ReplyAcknowledgement(_eta(int(match.group("m"))))
        return ReplyAcknowledgement(_eta(int(match.group("h")) * 60 + int(match.group("hm") or 0)))
    return ReplyAcknowledgement() if _acknowledges(plain) else None


# --- TwiML -----------------------------------------------------------------------------------


def _say(verb: Any, text: str, voice: str) -> None:
    verb.say(text, voice=voice, language=LANGUAGE)


def voice_twiml(
    body: str,
    *,
    answered_by: str | None,
    gather_url: str,
    ask_acknowledgement: bool,
    ask_eta: bool = False,
    voice: str = DEFAULT_VOICE,
) -> str:
    """What the call says: for a person, the message twice (with "tapez 1" when asked);
    for an answering machine, the message once after the beep; for a fax, nothing.

    With `ask_eta` (members of the cell), "1" may be followed by the arrival delay and "#".
    """
    response = VoiceResponse()
    kind = (answered_by or "").lower()
    if kind == "fax":
        response.hangup()
        return str(response)
    if kind.startswith("machine"):
        _say(response, body, voice)
        response.hangup()
        return str(response)
    if ask_acknowledgement:
        for repeat in (False, True):
            keys: dict[str, Any] = {"finish_on_key": "#"} if ask_eta else {"num_digits": 1}
            gather = response.gather(
                action=gather_url, method="POST", timeout=GATHER_TIMEOUT_S, **keys
            )
            if repeat:
                _say(gather, REPEAT, voice)
            _say(gather, body, voice)
            _say(gather, ACK_PROMPT_ETA if ask_eta else ACK_PROMPT_VOICE, voice)
        _say(response, NO_ACK, voice)
    else:
        _say(response, body, voice)
        response.pause(length=1)
        _say(response, REPEAT, voice)
        _say(response, body, voice)
        _say(response, END_OF_MESSAGE, voice)
    response.hangup()
    return str(response)


def gather_twiml(acknowledged: bool, *, voice: str = DEFAULT_VOICE) -> str:
    """The answer to the keys pressed: thanks, or a short goodbye."""
    response = VoiceResponse()
    _say(response, THANKS if acknowledged else NO_ACK, voice)
    response.hangup()
    return str(response)


def sms_reply_twiml(acknowledged: bool) -> str:
    """The answer to an SMS reply: a confirmation when it acknowledged, else nothing."""
    response = MessagingResponse()
    if acknowledged:
        response.message(SMS_THANKS)
    return str(response)

"""Twilio callbacks: signatures, status and "tapez 1" events, SMS replies, and our TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from channels.base import AcknowledgementReport, ChannelName, DeliveryReport
from channels.twilio_callbacks import (
    ACK_PROMPT_ETA,
    ACK_PROMPT_VOICE,
    gather_event,
    gather_twiml,
    is_acknowledgement_text,
    reply_acknowledgement,
    signature_valid,
    sms_reply_twiml,
    status_event,
    voice_twiml,
)

TOKEN = "0123456789abcdef0123456789abcdef"
URL = "https://crise.example.fr/webhooks/twilio/status?k=crise-1%2Fetape-2%2Fc-17%2Fvoice"
CALL_SID = "CA" + "1" * 32
MESSAGE_SID = "SM" + "2" * 32
GATHER_URL = "https://crise.example.fr/webhooks/twilio/gather?k=crise-1%2Fc-17"
BODY = "La préfecture de la Loire vous informe : crue de la Loire, évacuez les berges."


# --- signatures ------------------------------------------------------------------------------


def _params() -> dict[str, str]:
    return {"CallSid": CALL_SID, "CallStatus": "completed", "To": "+33639980001"}


def test_signature_computed_by_twilio_validates():
    """A signature computed like Twilio does (URL + sorted params, HMAC-SHA1) is accepted."""
    signature = RequestValidator(TOKEN).compute_signature(URL, _params())
    assert signature_valid(TOKEN, URL, _params(), signature)


def test_signature_fails_when_a_param_was_changed():
    """A forged status (one param changed after signing) is refused."""
    signature = RequestValidator(TOKEN).compute_signature(URL, _params())
    forged = {**_params(), "CallStatus": "busy"}
    assert not signature_valid(TOKEN, URL, forged, signature)


def test_signature_fails_for_another_url_token_or_an_empty_signature():
    """The key in the URL, the token and the header all take part in the check."""
    signature = RequestValidator(TOKEN).compute_signature(URL, _params())
    assert not signature_valid(TOKEN, URL.replace("c-17", "c-18"), _params(), signature)
    assert not signature_valid("f" * 32, URL, _params(), signature)
    assert not signature_valid(TOKEN, URL, _params(), "")
    assert not signature_valid("", URL, _params(), signature)


# --- status callbacks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "answered_by", "delivered", "reason"),
    [
        ("completed", "human", True, ""),
        ("completed", "machine_end_beep", True, "message déposé sur le répondeur"),
        ("completed", "fax", False, "un fax a répondu : numéro à revoir"),
        ("busy", "", False, "occupé"),
        ("no-answer", "", False, "pas de réponse"),
        ("failed", "", False, "appel impossible (numéro invalide, réseau ou compte)"),
        ("canceled", "", False, "appel annulé avant d'aboutir"),
    ],
)
def test_final_call_statuses_become_delivery_reports(status, answered_by, delivered, reason):
    """Completed is delivered (a voicemail says so); busy, no answer, failed, canceled are not."""
    params = {"CallSid": CALL_SID, "CallStatus": status, "AnsweredBy": answered_by}
    report = status_event(ChannelName.VOICE, "k-1", params)
    assert report == DeliveryReport(
        channel=ChannelName.VOICE,
        provider_id=CALL_SID,
        idempotency_key="k-1",
        delivered=delivered,
        reason=reason,
    )


@pytest.mark.parametrize("status", ["queued", "initiated", "ringing", "in-progress"])
def test_intermediate_call_statuses_are_ignored(status):
    """A call still on its way is not a report."""
    assert status_event(ChannelName.VOICE, "k", {"CallSid": CALL_SID, "CallStatus": status}) is None


def test_failed_call_reason_carries_twilio_error_code():
    """The on-call agent sees the code Twilio gave, for the support ticket."""
    params = {"CallSid": CALL_SID, "CallStatus": "failed", "ErrorCode": "13224"}
    report = status_event(ChannelName.VOICE, "k", params)
    assert report is not None and report.reason.endswith("(code 13224)")


@pytest.mark.parametrize(
    ("status", "code", "delivered", "reason"),
    [
        ("delivered", "", True, ""),
        ("undelivered", "30003", False, "téléphone éteint ou hors réseau"),
        ("undelivered", "30005", False, "numéro inconnu ou inactif"),
        ("failed", "30007", False, "message filtré par l'opérateur"),
        ("failed", "21610", False, "le destinataire a bloqué les SMS de cet expéditeur (STOP)"),
        ("undelivered", "", False, "SMS non remis"),
        ("failed", "99999", False, "SMS non envoyé (code 99999)"),
    ],
)
def test_final_sms_statuses_become_delivery_reports(status, code, delivered, reason):
    """Delivered is delivered; undelivered/failed carry a French reason from the error code."""
    params = {"MessageSid": MESSAGE_SID, "MessageStatus": status, "ErrorCode": code}
    report = status_event(ChannelName.SMS, "k-2", params)
    assert report == DeliveryReport(
        channel=ChannelName.SMS,
        provider_id=MESSAGE_SID,
        idempotency_key="k-2",
        delivered=delivered,
        reason=reason,
    )


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "accepted", "scheduled"])
def test_intermediate_sms_statuses_are_ignored(status):
    """Queued, sending, sent... say nothing yet about the recipient's phone."""
    params = {"MessageSid": MESSAGE_SID, "MessageStatus": status}
    assert status_event(ChannelName.SMS, "k", params) is None


def test_status_without_a_sid_is_ignored():
    """A callback that names no call or message cannot be attributed."""
    assert status_event(ChannelName.VOICE, "k", {"CallStatus": "completed"}) is None
    assert status_event(ChannelName.SMS, "k", {"MessageStatus": "delivered"}) is None


# --- "tapez 1" ---------------------------------------------------------------------------------


def test_pressing_1_acknowledges_the_call():
    """Digits=1 is an acknowledgement by voice, with the call's sid and the outbox key."""
    event = gather_event("k-3", {"CallSid": CALL_SID, "Digits": "1"})
    assert event == AcknowledgementReport(
        channel=ChannelName.VOICE, provider_id=CALL_SID, idempotency_key="k-3"
    )


@pytest.mark.parametrize("digits", ["", "2", "21", "#", "*", "1*5"])
def test_other_keys_do_not_acknowledge(digits):
    """Any other key (or none) is not an acknowledgement."""
    assert gather_event("k", {"CallSid": CALL_SID, "Digits": digits}) is None


@pytest.mark.parametrize(
    ("digits", "eta"), [("130", 30), ("1120#", 120), ("1#", None), ("10", None)]
)
def test_cell_members_type_their_arrival_delay_after_the_1(digits, eta):
    """ "1" then the minutes (then "#") is an acknowledgement with the arrival delay; a delay of
    0 is no delay at all."""
    event = gather_event("k-4", {"CallSid": CALL_SID, "Digits": digits})
    assert event is not None
    assert event.eta_minutes == eta


# --- SMS replies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["1", "OK", "ok", "Ok !", "reçu", "Recu", "bien reçu", "REÇU.", " 1 ", "Oui merci"]
)
def test_acknowledging_replies(body):
    """The usual ways to say "received" count."""
    assert is_acknowledgement_text(body)


@pytest.mark.parametrize("body", ["non", "2", "stop", "", "pas reçu", "merci", "12", "?"])
def test_replies_that_do_not_acknowledge(body):
    """A refusal, STOP, an empty text or "pas reçu" never count as an acknowledgement."""
    assert not is_acknowledgement_text(body)


@pytest.mark.parametrize(
    ("body", "eta"),
    [
        ("1 20", 20),
        ("OK 30 min", 30),
        ("reçu, j'arrive dans 45 minutes", 45),
        ("Reçu. J\u2019arrive dans 20 min.", 20),
        ("1 1h30", 90),
        ("oui 2h", 120),
        ("1", None),
        ("bien reçu", None),
    ],
)
def test_replies_may_give_the_arrival_delay(body, eta):
    """A cell member says when they arrive after the acknowledging word."""
    reply = reply_acknowledgement(body)
    assert reply is not None
    assert reply.eta_minutes == eta


@pytest.mark.parametrize("body", ["20", "pas reçu 20", "non 1h", "1 demain", "20 ok"])
def test_a_delay_without_an_acknowledgement_is_nothing(body):
    """A number alone, or after a refusal, acknowledges nothing."""
    assert reply_acknowledgement(body) is None


# --- TwiML -------------------------------------------------------------------------------------


def _parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def test_person_asked_to_acknowledge_hears_message_and_prompt_twice_in_gathers():
    """Human + acknowledgement: two Gathers (numDigits 1, POST to the gather URL, 8 s), each
    with the message then "tapez 1", in French; then a goodbye and hang-up."""
    root = _parse(
        voice_twiml(BODY, answered_by="human", gather_url=GATHER_URL, ask_acknowledgement=True)
    )
    gathers = root.findall("Gather")
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.attrib == {
            "numDigits": "1",
            "action": GATHER_URL,
            "method": "POST",
            "timeout": "8",
        }
        says = [s.text for s in gather.findall("Say")]
        assert says[-2:] == [BODY, ACK_PROMPT_VOICE]
    assert all(s.attrib["language"] == "fr-FR" for s in root.iter("Say"))
    assert [child.tag for child in root][-2:] == ["Say", "Hangup"]


def test_cell_member_is_asked_for_the_arrival_delay_ending_with_hash():
    """A member of the cell types 1, then the minutes, then #: the Gather ends on "#" instead
    of after one key, and the prompt says so in French."""
    root = _parse(
        voice_twiml(
            BODY,
            answered_by="human",
            gather_url=GATHER_URL,
            ask_acknowledgement=True,
            ask_eta=True,
        )
    )
    gathers = root.findall("Gather")
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.attrib["finishOnKey"] == "#"
        assert "numDigits" not in gather.attrib
        assert [s.text for s in gather.findall("Say")][-1] == ACK_PROMPT_ETA
    assert "délai d'arrivée en minutes" in ACK_PROMPT_ETA


def test_unknown_answerer_is_treated_as_a_person():
    """Without AnsweredBy (detection off or undecided) the recipient may press 1."""
    root = _parse(
        voice_twiml(BODY, answered_by=None, gather_url=GATHER_URL, ask_acknowledgement=True)
    )
    assert len(root.findall("Gather")) == 2


@pytest.mark.parametrize(
    "machine", ["machine_end_beep", "machine_end_silence", "machine_end_other"]
)
def test_answering_machine_gets_the_message_once_without_gather(machine):
    """After the beep, the message is left once; nobody can press 1 on a voicemail."""
    root = _parse(
        voice_twiml(BODY, answered_by=machine, gather_url=GATHER_URL, ask_acknowledgement=True)
    )
    assert root.find(".//Gather") is None
    assert [s.text for s in root.iter("Say")] == [BODY]
    assert root.find("Say").attrib["language"] == "fr-FR"


def test_fax_is_hung_up_on():
    """A fax machine cannot hear: hang up at once."""
    root = _parse(
        voice_twiml(BODY, answered_by="fax", gather_url=GATHER_URL, ask_acknowledgement=True)
    )
    assert [child.tag for child in root] == ["Hangup"]


def test_person_not_asked_to_acknowledge_hears_message_twice_without_gather():
    """No acknowledgement asked: the message is said twice, with no key to press."""
    root = _parse(
        voice_twiml(BODY, answered_by="human", gather_url=GATHER_URL, ask_acknowledgement=False)
    )
    assert root.find(".//Gather") is None
    assert [s.text for s in root.iter("Say")].count(BODY) == 2


def test_message_text_is_escaped_not_interpreted():
    """A body with XML characters stays text: the TwiML keeps its structure."""
    body = "Crue <Loire> & Furan : n'approchez pas"
    root = _parse(
        voice_twiml(
            body, answered_by="machine_end_beep", gather_url=GATHER_URL, ask_acknowledgement=False
        )
    )
    assert root.find("Say").text == body


def test_gather_answer_thanks_or_says_goodbye():
    """Pressing 1 is thanked; anything else gets a short goodbye; both hang up."""
    thanks = _parse(gather_twiml(True))
    assert thanks.find("Say").text == "Merci, votre confirmation est enregistrée. Au revoir."
    assert thanks.find("Say").attrib["language"] == "fr-FR"
    assert thanks.find("Hangup") is not None
    assert _parse(gather_twiml(False)).find("Say").text == "Aucune confirmation reçue. Au revoir."


def test_sms_reply_confirms_only_an_acknowledgement():
    """An acknowledging reply gets "Réception confirmée, merci."; anything else no SMS."""
    confirmed = _parse(sms_reply_twiml(True))
    assert [m.text for m in confirmed.findall("Message")] == ["Réception confirmée, merci."]
    assert list(_parse(sms_reply_twiml(False))) == []

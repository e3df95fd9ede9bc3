"""The CIP line's TwiML (parsed back, verb by verb, spoken in French), the routing decision
for a new call, the [cip] settings and the stored number configuration."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from channels.twilio_hotline import (
    SAY_LIMIT,
    CallRoute,
    HotlineSettings,
    OpeningHours,
    QueueDecision,
    after_queue_twiml,
    agent_dial_twiml,
    connected_twiml,
    greeting_twiml,
    hotline_urls,
    out_of_hours_twiml,
    overflow_twiml,
    position_text,
    voicemail_saved_twiml,
    wait_twiml,
)
from channels.twilio_numbers import NumberConfig

BASE = "https://crise.example.fr"
URLS = hotline_urls(BASE)
INFO = "Crue de la Loire : ne vous approchez pas des berges, suivez les consignes des secours."
# Words that would betray English speech in a <Say> (none of them is French).
ENGLISH = {"the", "please", "you", "your", "queue", "hold", "wait", "message is", "thank", "call"}


def _parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml.encode())
    assert root.tag == "Response"
    return root


def _verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def _spoken(root: ET.Element) -> str:
    says = list(root.iter("Say"))
    assert says, "nothing is spoken"
    for say in says:
        assert say.get("language") == "fr-FR"
        assert say.get("voice") == "Polly.Lea"
    return " ".join(say.text or "" for say in says)


def _assert_french(text: str) -> None:
    words = set(re.findall(r"[a-zà-ÿ']+", text.lower()))
    assert not (words & ENGLISH), words & ENGLISH
    assert words & {"vous", "la", "de", "le", "les", "un", "une"}


def test_greeting_reads_the_information_then_enqueues_with_wait_url():
    """Open line: welcome, 112, the approved information, then <Enqueue waitUrl> into the queue."""
    root = _parse(greeting_twiml(INFO, "cip", URLS.wait, URLS.after_queue, open_now=True))
    assert _verbs(root) == ["Say", "Say", "Say", "Say", "Pause", "Say", "Enqueue"]
    spoken = _spoken(root)
    _assert_french(spoken)
    assert INFO in spoken and "112" in spoken
    assert "cellule d'information du public" in spoken
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "cip"
    assert enqueue.get("waitUrl") == f"{BASE}/webhooks/twilio/cip/wait"
    assert enqueue.get("waitUrlMethod") == "POST"
    assert enqueue.get("action") == f"{BASE}/webhooks/twilio/cip/after-queue"
    assert enqueue.get("method") == "POST"


def test_greeting_without_information_goes_straight_to_the_queue():
    """No approved message yet: no empty <Say>, the caller is still queued."""
    root = _parse(greeting_twiml("  ", "cip", URLS.wait, URLS.after_queue, open_now=True))
    assert _verbs(root) == ["Say", "Say", "Say", "Enqueue"]
    assert all((say.text or "").strip() for say in root.iter("Say"))


def test_greeting_when_closed_is_the_out_of_hours_message():
    """open_now=False: no queue; the information and the voicemail instead."""
    twiml = greeting_twiml(
        INFO, "cip", URLS.wait, URLS.after_queue, open_now=False, voicemail_url=URLS.voicemail
    )
    root = _parse(twiml)
    assert root.find("Enqueue") is None
    assert root.find("Record") is not None
    assert "fermée" in _spoken(root)


def test_long_information_is_split_into_several_says():
    """Twilio refuses a <Say> over 4,096 characters: the text is cut between sentences."""
    sentence = "La préfecture demande aux habitants de rester chez eux. "
    long_info = sentence * 120
    root = _parse(greeting_twiml(long_info, "cip", URLS.wait, URLS.after_queue, open_now=True))
    pieces = [say.text or "" for say in root.iter("Say")]
    assert all(len(piece) <= SAY_LIMIT for piece in pieces)
    info = [p for p in pieces if p.startswith("La préfecture")]
    assert len(info) == 3 and all(p.endswith("chez eux.") for p in info)  # cut between sentences
    assert " ".join(info) == long_info.strip()


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, "Vous êtes le premier correspondant en attente."),
        (2, "Vous êtes le deuxième correspondant en attente."),
        (17, "Vous êtes le dix-septième correspondant en attente."),
        (20, "Vous êtes le vingtième correspondant en attente."),
        (34, "Vous êtes le correspondant numéro 34 dans la file d'attente."),
    ],
)
def test_position_is_announced_in_words(position, expected):
    """Positions up to 20 are ordinal words (read naturally by the voice), then digits."""
    assert position_text(position) == expected


def test_wait_announces_position_and_wait_then_plays_hold_music_once():
    """waitUrl TwiML: position, average wait in minutes, then <Play> once (fetched again)."""
    music = "https://crise.example.fr/static/attente.mp3"
    root = _parse(wait_twiml(3, 150, music))
    assert _verbs(root) == ["Say", "Say", "Say", "Play"]
    spoken = _spoken(root)
    _assert_french(spoken)
    assert "troisième correspondant en attente" in spoken
    assert "environ 2 minutes" in spoken
    play = root.find("Play")
    assert play is not None and play.text == music and play.get("loop") == "1"


def test_wait_without_music_pauses_and_skips_unknown_wait():
    """No hold music configured: a pause; no average yet: no wait announcement."""
    root = _parse(wait_twiml(1, None, None))
    assert _verbs(root) == ["Say", "Say", "Pause"]
    assert "attente moyen" not in _spoken(root)
    short = _spoken(_parse(wait_twiml(1, 40, None)))
    assert "inférieur à une minute" in short


def test_wait_too_long_leaves_the_queue():
    """Waited max_wait_s: <Leave>, so the Enqueue action offers the voicemail."""
    root = _parse(wait_twiml(4, 300, None, queue_time_s=600, max_wait_s=600))
    assert _verbs(root) == ["Say", "Leave"]
    still = _parse(wait_twiml(4, 300, None, queue_time_s=599, max_wait_s=600))
    assert still.find("Leave") is None


def test_overflow_records_a_voicemail_without_transcription():
    """Nobody free: a French message then <Record> (maxLength, transcribe off, action URL)."""
    root = _parse(overflow_twiml(URLS.voicemail, max_length_s=90))
    assert _verbs(root) == ["Say", "Say", "Record", "Say", "Hangup"]
    spoken = _spoken(root)
    _assert_french(spoken)
    assert "occupés" in spoken and "après le bip" in spoken
    record = root.find("Record")
    assert record is not None
    assert record.get("action") == f"{BASE}/webhooks/twilio/cip/voicemail"
    assert record.get("method") == "POST"
    assert record.get("maxLength") == "90"
    assert record.get("transcribe") == "false"
    assert record.get("playBeep") == "true"
    assert record.get("finishOnKey") == "#"


def test_out_of_hours_reads_information_and_hangs_up_without_voicemail():
    """Closed, no voicemail configured: the information, 112, and goodbye."""
    root = _parse(out_of_hours_twiml(INFO))
    assert root.find("Record") is None and root.find("Enqueue") is None
    assert _verbs(root)[-1] == "Hangup"
    spoken = _spoken(root)
    _assert_french(spoken)
    assert "fermée" in spoken and INFO in spoken and "112" in spoken


def test_out_of_hours_with_voicemail_records():
    """Closed with a voicemail URL: the caller may leave a message."""
    root = _parse(out_of_hours_twiml(INFO, voicemail_url=URLS.voicemail, voicemail_max_s=60))
    record = root.find("Record")
    assert record is not None and record.get("maxLength") == "60"
    assert "réouverture" in _spoken(root)


@pytest.mark.parametrize("result", ["leave", "queue-full", "error", "system-error"])
def test_after_queue_without_an_agent_offers_the_voicemail(result):
    """The caller left the queue unanswered: voicemail."""
    root = _parse(after_queue_twiml(result, URLS.voicemail))
    assert root.find("Record") is not None


def test_after_queue_once_answered_says_goodbye_and_a_hangup_needs_nothing():
    """Bridged: thanks and hang up; the caller hung up: no speech at all."""
    bridged = _parse(after_queue_twiml("bridged", URLS.voicemail))
    assert _verbs(bridged) == ["Say", "Hangup"]
    assert "Merci de votre appel" in _spoken(bridged)
    gone = _parse(after_queue_twiml("hangup", URLS.voicemail))
    assert _verbs(gone) == ["Hangup"]


def test_agent_dial_takes_the_next_caller_from_the_queue():
    """An agent's phone: <Dial><Queue>cip</Queue></Dial> with the caller's connect message."""
    root = _parse(
        agent_dial_twiml("cip", caller_url=f"{BASE}/connected", action_url=f"{BASE}/agent-done")
    )
    assert _verbs(root) == ["Say", "Dial", "Say", "Hangup"]
    _assert_french(_spoken(root))
    dial = root.find("Dial")
    assert dial is not None and dial.get("action") == f"{BASE}/agent-done"
    queue = dial.find("Queue")
    assert queue is not None and queue.text == "cip"
    assert queue.get("url") == f"{BASE}/connected"
    plain = _parse(agent_dial_twiml("cip")).find("Dial/Queue")
    assert plain is not None and plain.get("url") is None


def test_connected_and_voicemail_saved_are_french():
    """The short confirmations are French speech."""
    _assert_french(_spoken(_parse(connected_twiml())))
    saved = _parse(voicemail_saved_twiml())
    assert _verbs(saved) == ["Say", "Hangup"]
    assert "bien été enregistré" in _spoken(saved)


# --- routing decision ---------------------------------------------------------------------


def test_decision_rings_the_free_agents_and_enqueues():
    """Agents on duty and not in a call are rung at once; the caller is queued."""
    decision = QueueDecision.decide(
        on_duty=["a-3", "a-1", "a-2"], busy=["a-2"], queue_length=0, max_queue=5, open_now=True
    )
    assert decision.route is CallRoute.ENQUEUE
    assert decision.ring == ("a-1", "a-3")


def test_decision_queues_when_everyone_is_busy_until_the_queue_is_full():
    """All busy: queued while places remain; the max_queue-th waiting caller fills it."""
    args = {"on_duty": ["a-1"], "busy": ["a-1"], "max_queue": 3, "open_now": True}
    queued = QueueDecision.decide(queue_length=2, **args)
    assert queued.route is CallRoute.ENQUEUE and queued.ring == ()
    full = QueueDecision.decide(queue_length=3, **args)
    assert full.route is CallRoute.OVERFLOW
    assert "file d'attente pleine" in full.reason


def test_decision_without_agents_on_duty_overflows():
    """CIP activated but nobody rostered yet: voicemail rather than an endless queue."""
    decision = QueueDecision.decide(on_duty=[], busy=[], queue_length=0, max_queue=5, open_now=True)
    assert decision.route is CallRoute.OVERFLOW
    assert "aucun agent" in decision.reason


def test_decision_out_of_hours_wins():
    """Closed: out of hours even with free agents."""
    decision = QueueDecision.decide(
        on_duty=["a-1"], busy=[], queue_length=0, max_queue=5, open_now=False
    )
    assert decision.route is CallRoute.OUT_OF_HOURS and decision.ring == ()


# --- settings -------------------------------------------------------------------------------


def test_opening_hours_in_paris_time_including_overnight():
    """Hours are local (Europe/Paris); a range may span midnight."""
    day = OpeningHours(opens=time(8), closes=time(20))
    assert day.is_open(datetime(2026, 11, 23, 7, 30, tzinfo=UTC))  # 08:30 in Paris
    assert not day.is_open(datetime(2026, 11, 23, 19, 0, tzinfo=UTC))  # 20:00 in Paris
    night = OpeningHours(opens=time(20), closes=time(8))
    assert night.is_open(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))
    assert not night.is_open(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="fuseau"):
        day.is_open(datetime(2026, 11, 23, 12, 0))  # a naive time is refused


def test_hotline_settings_defaults_and_french_validation():
    """Round the clock by default; a bad number, URL or zone is refused in French."""
    settings = HotlineSettings(number="+33199000042")
    assert settings.queue_name == "cip" and settings.is_open(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match=r"cip\.number"):
        HotlineSettings(number="0199000042")
    with pytest.raises(ValidationError, match="https obligatoire"):
        HotlineSettings(hold_music_url="http://musique.example.fr/a.mp3")
    with pytest.raises(ValidationError, match="fuseau inconnu"):
        OpeningHours(opens=time(8), closes=time(20), timezone="Europe/Lutece")
    with pytest.raises(ValidationError, match="24 h/24"):
        OpeningHours(opens=time(8), closes=time(8))
    with pytest.raises(ValidationError, match="queue_name"):
        HotlineSettings(queue_name="file CIP")


def test_number_config_round_trips_and_hides_the_number_in_repr():
    """The stored configuration reads back equal; its repr shows no phone number."""
    config = NumberConfig(
        sid="PN" + "b" * 32,
        phone_number="+33199000042",
        voice_url="https://standard.example.fr/voix",
        voice_method="GET",
        voice_application_sid=None,
    )
    assert NumberConfig.model_validate(config.model_dump(mode="json")) == config
    assert "199000042" not in repr(config)
    assert not config.points_to("https://crise.example.fr/webhooks/twilio/cip/voice")
    pointed = config.model_copy(update={"voice_url": URLS.voice, "voice_method": "POST"})
    assert pointed.points_to(URLS.voice)

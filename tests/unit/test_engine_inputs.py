"""The engine refuses free texts that would falsify or leak into the main courante, whatever
the interface (CLI, dashboard and API all reach it through the same stimuli)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisis.engine import Close, InvalidStimulus, Note, Record, decide
from crisis.model import LessonsRecorded, MediaRequestAnswered, NoteAdded
from tests.conftest import T0
from tests.unit.test_engine_drafting import AGENT, CONFIG, _state

NOW = T0 + timedelta(minutes=5)


def test_a_note_with_a_phone_number_is_refused_and_nothing_is_recorded():
    """A note giving a number (any written form) is refused naming the field; no fact."""
    with pytest.raises(InvalidStimulus, match=r"^note : le texte contient un numéro") as refused:
        decide(_state(), Note(text="joindre le maire au 06 39 98 00 01", actor=AGENT), NOW, CONFIG)
    assert "06 39 98" not in str(refused.value)


def test_a_note_with_an_email_address_is_refused():
    """A note giving an e-mail address is refused: it would escape `contacts erase`."""
    with pytest.raises(InvalidStimulus, match="adresse électronique"):
        decide(_state(), Note(text="écrire à a.b@mairie.example", actor=AGENT), NOW, CONFIG)


def test_a_note_is_stripped_and_bounded():
    """A note is journaled stripped; an empty or 2,001-character note is refused."""
    decision = decide(_state(), Note(text="  RD 1082 coupée  ", actor=AGENT), NOW, CONFIG)
    assert [f for f, _ in decision.facts] == [NoteAdded(text="RD 1082 coupée")]
    for text in ("  ", "x" * 2001):
        with pytest.raises(InvalidStimulus, match=r"^note : "):
            decide(_state(), Note(text=text, actor=AGENT), NOW, CONFIG)


def test_the_crisis_cip_number_may_be_noted():
    """The numéro unique of the crisis is public: a note may give it."""
    state = _state()
    state = type(state)(
        crisis=state.crisis.model_copy(update={"cip_number": "+33199001234"}),
        steps=state.steps,
        acknowledged={},
    )
    decide(state, Note(text="NU annoncé : 01 99 00 12 34", actor=AGENT), NOW, CONFIG)


def test_media_answers_lessons_and_closing_reasons_are_checked_too():
    """A media answer, the REX lessons and a closing reason carry no phone number either."""
    number = "rappelez le 06 39 98 00 01"
    stimuli = [
        Record(facts=(MediaRequestAnswered(request_id="P-001", answer=number),), actor=AGENT),
        Record(facts=(LessonsRecorded(text=number),), actor=AGENT),
        Close(actor=AGENT, reason=number),
    ]
    for stimulus in stimuli:
        with pytest.raises(InvalidStimulus, match="numéro de téléphone"):
            decide(_state(), stimulus, NOW, CONFIG)
    too_long = MediaRequestAnswered(request_id="P-001", answer="x" * 4001)
    with pytest.raises(InvalidStimulus, match="4001 caractères"):
        decide(_state(), Record(facts=(too_long,), actor=AGENT), NOW, CONFIG)

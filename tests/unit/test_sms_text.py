"""SMS encoding and segment arithmetic, and the GSM-7 folding proposed to template authors."""

from __future__ import annotations

import pytest

from channels.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    describe_segments,
    encoding_of,
    fold_to_gsm,
    is_gsm7,
    non_gsm_chars,
    sms_advice,
)


def test_gsm_tables_have_the_sizes_of_gsm_03_38():
    """127 printable basic characters (128 minus escape) and 10 extension characters."""
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("ch", list("éèùàÉÇìòÄÖÑÜäöñüß€[]{}^~|\\"))
def test_these_characters_are_gsm7(ch):
    """é, è, ù, à, É and Ç are in the GSM-7 basic set; € and brackets in the extension."""
    assert is_gsm7(ch)


@pytest.mark.parametrize("ch", list("êâîôûëïÿçœŒÀÂÈÊËÎÏÔÙÛ«»’…–°\u00a0"))
def test_these_french_characters_force_ucs2(ch):
    """Circumflexes, ç, œ, capital accents (except É), guillemets and curly apostrophes are not GSM-7."""
    assert not is_gsm7(ch)
    assert encoding_of(f"Alerte {ch}") == "UCS-2"


def test_pure_gsm_160_characters_is_one_segment_161_is_two():
    """A GSM-7 SMS holds 160 characters alone, 153 per segment when concatenated."""
    assert count_segments("a" * 160) == 1
    assert count_segments("a" * 161) == 2
    assert count_segments("a" * 306) == 2
    assert count_segments("a" * 307) == 3


def test_one_circumflex_switches_to_ucs2_limits():
    """One ê turns the message into UCS-2: 70 characters alone, 67 per concatenated segment."""
    assert count_segments("ê" + "a" * 69) == 1
    assert count_segments("ê" + "a" * 70) == 2
    assert count_segments("ê" + "a" * 133) == 2
    assert count_segments("ê" + "a" * 134) == 3


def test_extension_characters_count_twice():
    """The euro sign takes two septets: 80 fit in one SMS, 81 do not."""
    assert count_segments("€" * 80) == 1
    assert count_segments("€" * 81) == 2


def test_an_escape_sequence_is_not_split_between_segments():
    """152 septets then a euro: the euro moves to the second segment (153 + 2 > 153)."""
    text = "a" * 152 + "€" + "a" * 152
    # 152 | € + 151 | 1  -> three segments, where a naive 306/153 count says two
    assert sum(2 if c == "€" else 1 for c in text) == 306
    assert count_segments(text) == 3


def test_empty_text_costs_no_segment():
    """Nothing to send: zero segments, and the advice says so."""
    assert count_segments("") == 0
    assert "vide" in describe_segments("")


def test_fold_replaces_what_gsm7_lacks_and_keeps_what_it_has():
    """ê, â, î, ô, û, œ, ç and typography are folded; é, è, à, ù stay as they are."""
    text = "Fenêtres fermées, château, île, hôpital, sûr, cœur, français, « abri » l’été…"
    folded = fold_to_gsm(text)
    assert folded == (
        'Fenetres fermées, chateau, ile, hopital, sur, coeur, francais, " abri " l\'été...'
    )
    assert is_gsm7(folded)


def test_fold_handles_no_break_spaces_and_degrees():
    """French typography's no-break spaces become spaces; "40 °C" reads "40 degrés C"."""
    assert fold_to_gsm("Attention\u00a0: 40\u202f°C") == "Attention : 40 degrés C"


def test_fold_of_gsm_text_is_identity():
    """A GSM-7 text is left untouched."""
    text = "Crue : évacuez les berges, à pied. Prix 0 €, 50 % (voir §2)."
    assert fold_to_gsm(text) == text


def test_non_gsm_chars_lists_each_once_in_order():
    """The offending characters are reported once each, as they first appear."""
    assert non_gsm_chars("être à l’hôtel, être") == ("ê", "’", "ô")


def test_advice_for_a_ucs2_text_proposes_a_cheaper_gsm_version():
    """A 90-character text with one ê costs 2 UCS-2 segments; its GSM-7 version costs 1."""
    text = "Alerte : fenêtres fermées. " + "x" * 63
    advice = sms_advice(text)
    assert advice.encoding == "UCS-2"
    assert advice.segments == 2
    assert advice.offending == ("ê",)
    assert advice.gsm_version == text.replace("ê", "e")
    assert advice.gsm_segments == 1
    assert advice.saves_segments


def test_advice_for_a_gsm_text_has_no_proposal():
    """A GSM-7 text needs no other version."""
    advice = sms_advice("Crue de la Loire : évacuation.")
    assert advice.encoding == "GSM-7"
    assert advice.offending == ()
    assert advice.gsm_version is None
    assert not advice.saves_segments


def test_description_names_the_culprit_and_the_proposal_in_french():
    """The author reads which character costs a segment and the GSM-7 text to use instead."""
    text = "Alerte : fenêtres fermées. " + "x" * 63
    description = describe_segments(text)
    assert description.startswith("texte en UCS-2 à cause de « ê », 2 segments ;")
    assert "version GSM-7 proposée (1 segment) : Alerte : fenetres fermées." in description
    assert describe_segments("Bonjour") == "texte en GSM-7, 1 segment"

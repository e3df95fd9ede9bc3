"""The one E.164 normaliser (contacts.phone) and the strictness each of its callers asks for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from channels.base import ChannelName, DeliveryFailed
from channels.exercise import AllowList
from channels.switchboard import SwitchboardSettings
from channels.twilio_common import TwilioSettings, valid_e164
from channels.twilio_errors import check_recipient
from channels.twilio_numbers import check_hotline_number
from contacts.phone import InvalidPhoneNumber, is_e164, possible_e164, to_e164

FICTION_MOBILE = "+33639981234"  # ARCEP fiction block: possible, not "valid" for phonenumbers
FICTION_FIXED = "+33465714242"  # 04 65 71: fiction block inside an assigned range
UNASSIGNED = "07 00 00 00 00"  # the right length, in no assigned range
TOO_SHORT = "06 39 98"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 39 98 12 34", FICTION_MOBILE),
        ("+33 6 39 98 12 34", FICTION_MOBILE),
        ("0033639981234", FICTION_MOBILE),
        ("04.65.71.42.42", FICTION_FIXED),
        ("+33 0 4 65 71 42 42", FICTION_FIXED),  # the national 0 after +33 is dropped
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_every_written_form_gives_the_same_e164(raw: str, expected: str) -> None:
    """National, international and 00 forms all normalise to E.164, strict or lenient."""
    assert to_e164(raw) == expected
    assert possible_e164(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("abc", "unreadable"), ("", "unreadable"), (TOO_SHORT, "length"), (UNASSIGNED, "unassigned")],
)
def test_directory_form_refuses_with_the_reason_and_never_the_number(
    raw: str, problem: str
) -> None:
    """The directory's reading (the default) names why a number is refused, not the number."""
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164(raw)
    assert info.value.problem == problem
    assert "00 00" not in str(info.value) and "39 98" not in str(info.value)


def test_fiction_numbers_count_as_assigned_unless_told_otherwise() -> None:
    """The 06 39 98 block passes the directory's check; a Twilio setting refuses it."""
    assert to_e164(FICTION_MOBILE) == FICTION_MOBILE
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164(FICTION_MOBILE, None, fiction_is_valid=False)
    assert info.value.problem == "unassigned"


def test_without_region_only_international_forms_are_readable() -> None:
    """region=None reads "+..." numbers only."""
    assert to_e164("+33 4 65 71 42 42", None) == FICTION_FIXED
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164("04 65 71 42 42", None)
    assert info.value.problem == "unreadable"


def test_lenient_reading_keeps_unassigned_numbers_and_drops_impossible_ones() -> None:
    """possible_e164 (the exercise allow-list) checks the length only."""
    assert possible_e164(UNASSIGNED) == "+33700000000"
    assert to_e164(UNASSIGNED, require_valid=False) == "+33700000000"
    assert possible_e164(TOO_SHORT) is None
    assert possible_e164("abc") is None
    assert possible_e164("+999123456789") is None  # no such country code


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("+33465714242", True),
        ("+12025550123", True),
        ("+3312345", True),  # the form only: 7 digits after "+" is E.164-shaped
        ("+33 4 65 71 42 42", False),
        ("0465714242", False),
        ("+0465714242", False),
        ("+3346571424212345", False),  # 16 digits
        ("", False),
    ],
)
def test_is_e164_checks_the_written_form_only(value: str, written: bool) -> None:
    """The Twilio adapters' "is this an E.164 address" check: no parsing, no range."""
    assert is_e164(value) is written


def test_twilio_setting_wants_an_e164_number_of_the_numbering_plan() -> None:
    """valid_e164: the written form, then a real range (fiction numbers refused), value kept."""
    assert valid_e164(FICTION_FIXED, "cip.number") == FICTION_FIXED
    assert valid_e164("+330465714242", "x") == "+330465714242"  # returned as written
    with pytest.raises(ValueError, match=r"^standard\.number : numéro au format international"):
        valid_e164("04 65 71 42 42", "standard.number")
    with pytest.raises(ValueError, match=r"^x : attendu$"):
        valid_e164("+999123456789", "x", expected="attendu")  # unreadable: the expected form
    for value in (FICTION_MOBILE, "+3312345", "+33700000000"):
        with pytest.raises(ValueError, match="numéro inexistant dans le plan de numérotation"):
            valid_e164(value, "x")


def test_switchboard_and_twilio_settings_use_the_same_check() -> None:
    """[standard] and [twilio] numbers go through valid_e164; an absent number stays None."""
    assert SwitchboardSettings(number=FICTION_FIXED).number == FICTION_FIXED
    assert SwitchboardSettings().forward_to is None
    with pytest.raises(ValidationError, match=r"standard\.forward_to : numéro inexistant"):
        SwitchboardSettings(forward_to=FICTION_MOBILE)
    with pytest.raises(ValidationError, match=r"twilio\.voice_from : numéro au format"):
        TwilioSettings(voice_from="04 65 71 42 42")


def test_allow_list_matches_numbers_whatever_their_written_form() -> None:
    """The exercise allow-list reads numbers leniently and compares them in E.164."""
    allowed = AllowList.of(phones=["06 39 98 12 34", UNASSIGNED])
    assert allowed.phones == frozenset({FICTION_MOBILE, "+33700000000"})
    assert allowed.allows(ChannelName.SMS, "+33 6 39 98 12 34")
    assert allowed.allows(ChannelName.VOICE, "+33700000000")
    assert not allowed.allows(ChannelName.SMS, TOO_SHORT)


def test_twilio_adapters_refuse_addresses_not_written_in_e164() -> None:
    """Recipients and the CIP number are checked on their form before any request."""
    check_recipient(FICTION_MOBILE, manual="envoyer à la main")
    with pytest.raises(DeliveryFailed):
        check_recipient("06 39 98 12 34", manual="envoyer à la main")
    settings = TwilioSettings()
    problems = check_hotline_number(settings, "04 65 71 42 42", {})
    assert "numéro unique de la CIP mal formé (format international E.164 attendu)" in problems
    assert not any("mal formé" in p for p in check_hotline_number(settings, FICTION_FIXED, {}))

"""Bounds and checks of typed input (crisis.inputs), and the author rule of the model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crisis import inputs
from crisis.inputs import InvalidInput
from crisis.model import Actor, Interface


@pytest.mark.parametrize(
    "ref", ["42-2026-0113", "SYN-2025-000412", "EXERCICE-42-FURAN", "S", "42/2026_0113.a"]
)
def test_synergi_references_of_the_forms_in_use_are_accepted(ref: str):
    """The SYNERGI forms used in the project and its scenarios pass, stripped."""
    assert inputs.synergi_ref(f"  {ref} ") == ref


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("", "est obligatoire"),
        ("   ", "est obligatoire"),
        ("A" * 5000, "5000 caractères, 40 au plus"),
        ("42 2026 0113", "sans espace"),
        ("42-2026\x000113", "contrôle"),
        ("<script>", "lettres, chiffres"),
    ],
)
def test_absurd_synergi_references_are_refused_naming_the_field(ref: str, why: str):
    """An empty, 5,000-character, spaced or control-character reference is refused in French."""
    with pytest.raises(InvalidInput, match="référence SYNERGI") as caught:
        inputs.synergi_ref(ref)
    assert why in str(caught.value)


def test_an_empty_or_overlong_author_is_refused():
    """A blank author, or one longer than 120 characters, is refused; a name is stripped."""
    assert inputs.actor_name("  Agent, astreinte ") == "Agent, astreinte"
    for bad in ("", "   ", "A" * 121, "Agent\nX"):
        with pytest.raises(InvalidInput, match="auteur"):
            inputs.actor_name(bad)


def test_the_model_never_holds_an_actor_without_a_name():
    """Actor refuses an empty name at the deepest level: no journal entry without an author."""
    with pytest.raises(ValidationError, match="obligatoire"):
        Actor(name="  ", interface=Interface.CLI)
    assert Actor(name=" Agent ", interface=Interface.CLI).name == "Agent"


@pytest.mark.parametrize(
    "text",
    [
        "rappeler le maire au 06 39 98 00 01",
        "mobile 0639980001",
        "fixe 04.65.71.00.12",
        "+33 6 39 98 00 01",
        "0033639980001",
        "écrire à maire@commune.example",
    ],
)
def test_a_journal_text_with_a_phone_number_or_an_address_is_refused(text: str):
    """Any written form of a phone number, or an e-mail address, is refused from the journal."""
    with pytest.raises(InvalidInput, match="note : le texte contient") as caught:
        inputs.journal_text(text, "note", inputs.NOTE_MAX)
    assert "annuaire" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "RD 1082 coupée à 02h10, 53 communes concernées",
        "point de situation le 15/01/2027 à 14:30, PK 12+500",
        "SYN-2025-000412 : 3 000 sinistrés, appeler le 112",
        "la mairie de 42218 confirme",
    ],
)
def test_ordinary_notes_with_figures_are_not_taken_for_phone_numbers(text: str):
    """Road numbers, times, dates, INSEE codes and counts pass the personal-data check."""
    assert inputs.journal_text(text, "note", inputs.NOTE_MAX) == text


def test_the_crisis_public_numbers_may_be_written():
    """A number given as allowed (the CIP numéro unique) is not personal data."""
    text = "numéro unique annoncé : 01 99 00 12 34"
    assert inputs.journal_text(text, "note", 100, allowed_numbers=["+33199001234"]) == text
    with pytest.raises(InvalidInput):
        inputs.journal_text(text, "note", 100)


def test_free_text_is_bounded_and_refuses_control_characters():
    """A text over its bound, empty when required, or with a control character is refused."""
    assert inputs.free_text(" a\nb\t", "réponse", 10) == "a\nb"
    assert inputs.free_text("", "réponse", 10, required=False) == ""
    with pytest.raises(InvalidInput, match="réponse : 11 caractères, 10 au plus"):
        inputs.free_text("x" * 11, "réponse", 10)
    with pytest.raises(InvalidInput, match="réponse : le texte est vide"):
        inputs.free_text(" ", "réponse", 10)
    with pytest.raises(InvalidInput, match="contrôle"):
        inputs.free_text("a\x07b", "réponse", 10)

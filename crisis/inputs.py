"""Bounds and checks of everything a person types (pure): one place, so the CLI, the dashboard
and the API accept and refuse the same input with the same French reason.

Each check returns the cleaned value or raises `InvalidInput`, whose message names the field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

__all__ = [
    "ACTOR_NAME_MAX",
    "ACTOR_RECORD_MAX",
    "ASSIGNEE_MAX",
    "CLOSE_REASON_MAX",
    "DRAFT_TEXT_MAX",
    "LESSONS_MAX",
    "MEDIA_ANSWER_MAX",
    "NOTE_MAX",
    "SYNERGI_MAX",
    "InvalidInput",
    "actor_name",
    "contact_details",
    "free_text",
    "journal_text",
    "phone_numbers",
    "synergi_ref",
]

SYNERGI_MAX = 40
ACTOR_NAME_MAX = 120  # a name typed with --by or in a form ("Nom, fonction")
ACTOR_RECORD_MAX = 200  # a journaled author ("Nom (login)", "Nom (compte x)"): its column
ASSIGNEE_MAX = ACTOR_NAME_MAX
NOTE_MAX = 2000
CLOSE_REASON_MAX = 500
MEDIA_ANSWER_MAX = 4000
LESSONS_MAX = 50_000
DRAFT_TEXT_MAX = 10_000  # per part of a drafted message: far above any real message

_SYNERGI = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_LINE_BREAKS = "\n\r\t"


class InvalidInput(ValueError):
    """Input refused; the French message names the field and says why."""


def _control(text: str, *, multiline: bool) -> bool:
    allowed = _LINE_BREAKS if multiline else ""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


def _bounded(value: str, field: str, max_len: int, *, multiline: bool) -> str:
    """`value`, refused if it holds control characters or is longer than `max_len`."""
    if _control(value, multiline=multiline):
        raise InvalidInput(f"{field} : caractères de contrôle interdits")
    if len(value) > max_len:
        raise InvalidInput(f"{field} : {len(value)} caractères, {max_len} au plus")
    return value


def synergi_ref(text: str) -> str:
    """A SYNERGI reference ("42-2026-0113", "SYN-2025-000412", "EXERCICE-42-FURAN"), stripped:
    letters, digits, '-', '/', '_' and '.', 1 to SYNERGI_MAX characters."""
    value = text.strip()
    if not value:
        raise InvalidInput("la référence SYNERGI est obligatoire")
    if _control(value, multiline=False):
        raise InvalidInput("référence SYNERGI : caractères de contrôle interdits")
    if len(value) > SYNERGI_MAX:
        raise InvalidInput(
            f"référence SYNERGI : {len(value)} caractères, {SYNERGI_MAX} au plus (ex. 42-2026-0113)"
        )
    if not _SYNERGI.match(value):
        raise InvalidInput(
            "référence SYNERGI : lettres, chiffres et « - / _ . » seulement, sans espace "
            "(ex. 42-2026-0113)"
        )
    return value


def actor_name(text: str, *, field: str = "auteur", max_len: int = ACTOR_NAME_MAX) -> str:
    """Who acts, as the main courante names them ("Nom, fonction"), stripped: never empty."""
    value = text.strip()
    if not value:
        raise InvalidInput(f"{field} : obligatoire (qui agit : « Nom, fonction »)")
    return _bounded(value, field, max_len, multiline=False)


def free_text(text: str, field: str, max_len: int, *, required: bool = True) -> str:
    """A free text (line breaks and tabs allowed), stripped; `required`: not empty."""
    value = text.strip()
    if required and not value:
        raise InvalidInput(f"{field} : le texte est vide")
    return _bounded(value, field, max_len, multiline=True)


def phone_numbers(text: str) -> set[str]:
    """Every phone number written in `text`, in E.164, whatever its written form
    (06 39 98 00 01, 06.39.98.00.01, +33 6 39 98 00 01, 0033639980001; French by default)."""
    return {
        phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        for match in phonenumbers.PhoneNumberMatcher(
            text, "FR", leniency=phonenumbers.Leniency.POSSIBLE
        )
    }


def contact_details(text: str, *, allowed_numbers: Iterable[str] = ()) -> str | None:
    """What personal contact detail `text` carries ("un numéro de téléphone", "une adresse
    électronique"), or None. Any written form of a number counts; `allowed_numbers` (E.164:
    the crisis's own public numbers) are not personal."""
    if phone_numbers(text) - set(allowed_numbers):
        return "un numéro de téléphone"
    if _EMAIL.search(text):
        return "une adresse électronique"
    return None


def journal_text(
    text: str,
    field: str,
    max_len: int,
    *,
    required: bool = True,
    allowed_numbers: Iterable[str] = (),
) -> str:
    """A free text that stays in the chained main courante: bounded, and without a phone
    number or an e-mail address (they belong in the directory, which `crisis contacts
    erase` can reach; the journal cannot be edited)."""
    value = free_text(text, field, max_len, required=required)
    found = contact_details(value, allowed_numbers=allowed_numbers)
    if found:
        raise InvalidInput(
            f"{field} : le texte contient {found} ; les coordonnées des personnes restent dans "
            "l'annuaire (désignez la personne par son nom ou son identifiant)"
        )
    return value

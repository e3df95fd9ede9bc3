"""Telephone numbers: E.164 normalisation, French mobiles, ARCEP fiction numbers, masking.

`to_e164` is the one E.164 normaliser of the product; its keywords say how strict a caller is
(the directory wants assigned ranges, an exercise allow-list only a possible number, a Twilio
setting a number of the numbering plan written in E.164). Error messages and masks never show a
full number (personal data).
"""

from __future__ import annotations

import re
from typing import Literal

import phonenumbers

# ARCEP, décision n° 2018-0881, art. 2.5.12: blocks reserved for fiction (they ring nobody).
FICTION_REGEX = re.compile(r"^\+33(19900|26191|35301|46571|53649|63998)\d{4}$")
FICTION_MOBILE_PREFIX = "+3363998"
FICTION_FIXED_PREFIXES = ("+3319900", "+3326191", "+3335301", "+3346571", "+3353649")
BLOCK_SIZE = 10_000
_FRENCH_MOBILE = re.compile(r"^\+33[67]\d{8}$")
_FRENCH = re.compile(r"^\+33(\d)(\d{8})$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")  # the written E.164 form: "+", then 7 to 15 digits

# Why a number was refused: not a number at all, a length no number has, no assigned range.
PhoneProblem = Literal["unreadable", "length", "unassigned"]


class InvalidPhoneNumber(ValueError):
    """A number that cannot be called; the message says why, never the number."""

    def __init__(self, message: str, *, problem: PhoneProblem) -> None:
        super().__init__(message)
        self.problem: PhoneProblem = problem


def to_e164(
    raw: str,
    region: str | None = "FR",
    *,
    require_valid: bool = True,
    fiction_is_valid: bool = True,
) -> str:
    """The number in E.164 ("+33639981234"), or InvalidPhoneNumber saying why not.

    Accepts national and international written forms ("06 39 98 12 34", "06.39.98.12.34",
    "+33 6 39 98 12 34", "0033639981234"); `region` reads the national forms (None: only
    "+..." forms are readable). The number must have a possible length; with `require_valid`
    it must also belong to an assigned range, where the ARCEP fiction numbers count as assigned
    (phonenumbers does not call the 06 39 98 block valid) unless `fiction_is_valid` is False.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(
            "numéro de téléphone invalide : illisible", problem="unreadable"
        ) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber(
            "numéro de téléphone invalide : longueur incorrecte "
            "(dix chiffres attendus pour un numéro français)",
            problem="length",
        )
    if not require_valid or (fiction_is_valid and FICTION_REGEX.match(e164)):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            "numéro de téléphone invalide : ce numéro n'appartient à aucune plage attribuée",
            problem="unassigned",
        )
    return e164


def possible_e164(raw: str, region: str = "FR") -> str | None:
    """The number in E.164 when its length is possible (no range check), else None."""
    try:
        return to_e164(raw, region, require_valid=False)
    except InvalidPhoneNumber:
        return None


def is_e164(value: str) -> bool:
    """Whether the text is written in E.164 ("+" and 7 to 15 digits, nothing else): form only."""
    return bool(E164.match(value))


def is_mobile(e164: str) -> bool:
    """Whether this is a French mobile (+336, +337), the fiction block 06 39 98 included."""
    return bool(_FRENCH_MOBILE.match(e164))


def is_fiction(e164: str) -> bool:
    """Whether this number lies in an ARCEP fiction block."""
    return bool(FICTION_REGEX.match(e164))


def fiction_number(index: int, *, mobile: bool) -> str:
    """The index-th fiction number, deterministic.

    Mobile: "+3363998NNNN", index 0..9999. Landline: the five fixed blocks one after the other
    (01 99 00, 02 61 91, 03 53 01, 04 65 71, 05 36 49), index 0..49999.
    """
    if mobile:
        if not 0 <= index < BLOCK_SIZE:
            raise ValueError(f"index de numéro de fiction mobile hors plage (0 à {BLOCK_SIZE - 1})")
        return f"{FICTION_MOBILE_PREFIX}{index:04d}"
    limit = BLOCK_SIZE * len(FICTION_FIXED_PREFIXES)
    if not 0 <= index < limit:
        raise ValueError(f"index de numéro de fiction fixe hors plage (0 à {limit - 1})")
    block, rest = divmod(index, BLOCK_SIZE)
    return f"{FICTION_FIXED_PREFIXES[block]}{rest:04d}"


def mask(e164: str) -> str:
    """The number for display and logs: "+33 6 •• •• •• 01"."""
    french = _FRENCH.match(e164)
    if french:
        return f"+33 {french.group(1)} •• •• •• {french.group(2)[-2:]}"
    digits = "".join(ch for ch in e164 if ch.isdigit())
    try:
        country = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        country = None
    tail = digits[-2:] if len(digits) >= 6 else ""
    head = f"+{country} " if country else ""
    return f"{head}•• •• {tail}".rstrip()

"""SMS text arithmetic: GSM-7 or UCS-2 encoding, segment counts, and a GSM-7 folding that
authors can accept to keep an alert in one segment (pure functions, no I/O)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsAdvice",
    "count_segments",
    "describe_segments",
    "encoding_of",
    "fold_to_gsm",
    "is_gsm7",
    "non_gsm_chars",
    "sms_advice",
]

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), in code order; 0x1B (escape) left out.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table (escape + one septet: each counts 2 in a segment).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets per segment: alone, in a concatenated message
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units per segment

# Typographic characters French texts are full of, and their closest GSM-7 spelling.
_FOLDS = {
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‹": "'",
    "›": "'",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "ʼ": "'",
    "´": "'",
    "`": "'",
    "–": "-",
    "—": "-",
    "‑": "-",
    "‐": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": ".",
    "\u00a0": " ",  # no-break space, before « : ; ! ? » in French typography
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",
    "\t": " ",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",  # GSM-7 has only the capital Ç; "c" reads better than "Ç" inside a word
    "°": "o",  # "n°" -> "no"; temperatures are handled before
    "×": "x",
    "₂": "2",
}
_DEGREES = re.compile(r"(\d)\s*°\s*C\b")


def is_gsm7(text: str) -> bool:
    """Whether the whole text fits the GSM-7 alphabet (basic set or extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding_of(text: str) -> Encoding:
    """The encoding a phone network uses for this text: one non-GSM char means UCS-2."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def non_gsm_chars(text: str) -> tuple[str, ...]:
    """The characters that force UCS-2, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch, None)
    return tuple(seen)


def _units(text: str, encoding: Encoding) -> list[int]:
    """Size of each character in its encoding (septets or UTF-16 code units)."""
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count_segments(text: str) -> int:
    """How many SMS segments the text costs (0 for an empty text).

    A concatenated message never splits an escape sequence or a surrogate pair across two
    segments, so segments are filled character by character.
    """
    encoding = encoding_of(text)
    units = _units(text, encoding)
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments += 1
            used = 0
        used += size
    return segments


def _fold_char(ch: str) -> str:
    if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
        return ch
    if ch in _FOLDS:
        return _FOLDS[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base  # ê -> e, â -> a, î -> i, ô -> o, û -> u, À -> A, È -> E...
    if unicodedata.category(ch) in {"So", "Sk", "Cf", "Mn", "Cs"}:
        return ""  # emoji, zero-width and combining marks carry no words
    return "?"


def fold_to_gsm(text: str) -> str:
    """The text rewritten with GSM-7 characters only (é, è, à, ù stay: they are GSM-7)."""
    text = unicodedata.normalize("NFC", text)
    text = _DEGREES.sub(r"\1 degrés C", text)
    return "".join(_fold_char(ch) for ch in text)


@dataclass(frozen=True)
class SmsAdvice:
    """What an SMS text costs, why, and the GSM-7 version that would cost less."""

    encoding: Encoding
    segments: int
    offending: tuple[str, ...]  # characters that force UCS-2
    gsm_version: str | None  # None when the text already is GSM-7
    gsm_segments: int

    @property
    def saves_segments(self) -> bool:
        """Whether accepting the GSM-7 version makes the message cheaper and faster to send."""
        return self.gsm_version is not None and self.gsm_segments < self.segments


def sms_advice(text: str) -> SmsAdvice:
    """Encoding, segment count and GSM-7 proposal for one SMS text."""
    segments = count_segments(text)
    if is_gsm7(text):
        return SmsAdvice("GSM-7", segments, (), None, segments)
    folded = fold_to_gsm(text)
    return SmsAdvice("UCS-2", segments, non_gsm_chars(text), folded, count_segments(folded))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count <= 1 else f"{count} {word}s"


def describe_segments(text: str) -> str:
    """French advice for the author of an SMS template."""
    advice = sms_advice(text)
    if advice.segments == 0:
        return "texte vide : aucun SMS ne peut partir"
    if advice.encoding == "GSM-7":
        return f"texte en GSM-7, {_plural(advice.segments, 'segment')}"
    shown = ", ".join(f"« {_visible(ch)} »" for ch in advice.offending[:8])
    more = " ..." if len(advice.offending) > 8 else ""
    return (
        f"texte en UCS-2 à cause de {shown}{more}, {_plural(advice.segments, 'segment')} ; "
        f"version GSM-7 proposée ({_plural(advice.gsm_segments, 'segment')}) : "
        f"{advice.gsm_version}"
    )


def _visible(ch: str) -> str:
    """A readable name for invisible characters (no-break spaces, tabs)."""
    names = {"\u00a0": "espace insécable", "\u202f": "espace fine insécable", "\t": "tabulation"}
    return names.get(ch, ch)

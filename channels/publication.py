"""Text of public posts (X, Facebook): length as X counts it, threads, and update stamps.

Pure functions, shared by the X and Facebook channels. A stamp ends every post,
e.g. " (màj 02:45 · réf. K7QD)": the time is the prefecture's local time of the first attempt,
the reference comes from the outbox idempotency key. So two updates are never the same text
(X refuses duplicates with 403), a resend of the same message is the same text (X's duplicate
check then protects the public from a double post), and a look-up after a restart finds the
post by its reference whatever minute it was first tried.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from channels.base import is_loopback_host

__all__ = [
    "MAX_WEIGHT",
    "URL_WEIGHT",
    "Stamp",
    "https_problem",
    "parse_stamp",
    "reference",
    "same_publication",
    "stamp_at",
    "stamped",
    "thread",
    "valid_base_url",
    "valid_timezone",
    "weighted_length",
]

MAX_WEIGHT = 280  # X: weighted characters per post
URL_WEIGHT = 23  # X: every URL counts as a t.co link

# twitter-text v3 configuration: code points in these ranges weigh 1, all others 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# Explicit URLs always count 23. A bare domain may or may not be a URL for X (it depends on
# its TLD and path): count it max(23, its length), which is never less than X's count.
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'»]", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@/.])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:fr|com|org|net|eu|info|gouv|re|yt|gp|mq|gf|pm|nc|pf|wf|bl|mf|be|ch|lu|io|co|tv|me)"
    r"(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]'»])?(?![\w-])",
    re.IGNORECASE,
)

_STAMP = re.compile(r" \(màj (\d{2}:\d{2}) · réf\. ([A-Z2-7]{4})\)$")
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])(\s+)")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Stamp:
    """The end of every post: local time of the update and a reference derived from the key."""

    time: str  # "02:45", prefecture's local time
    ref: str  # 4 base32 characters from the idempotency key

    @property
    def text(self) -> str:
        """The suffix appended to the post (same weight whatever the time)."""
        return f" (màj {self.time} · réf. {self.ref})"


def reference(idempotency_key: str) -> str:
    """A short, stable reference for one outbox message."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.b32encode(digest).decode()[:4]


def stamp_at(when: datetime, timezone: ZoneInfo, idempotency_key: str) -> Stamp:
    """The stamp for a message first tried at `when` (an aware datetime)."""
    return Stamp(when.astimezone(timezone).strftime("%H:%M"), reference(idempotency_key))


def parse_stamp(text: str) -> Stamp | None:
    """The stamp at the end of a published text, if it carries one."""
    match = _STAMP.search(_normalize_spaces(text))
    return None if match is None else Stamp(match.group(1), match.group(2))


def stamped(body: str, stamp: Stamp) -> str:
    """One post: the body then the stamp."""
    return _clean(body) + stamp.text


def _char_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _LIGHT_RANGES) else 2


def _is_emoji_modifier(code: int) -> bool:
    return (
        code in (0xFE0E, 0xFE0F, 0x20E3)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag sequences (subdivision flags)
    )


def _is_emoji_base(code: int) -> bool:
    return (
        0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF
    ) or code in (0x2B50, 0x2B55, 0x2B1B, 0x2B1C, 0x3030, 0x303D, 0x3297, 0x3299)


def _text_weight(text: str) -> int:
    """Weight of text without URLs: emoji sequences count 2 as a whole, like twitter-text."""
    total = 0
    index = 0
    while index < len(text):
        code = ord(text[index])
        if _is_emoji_base(code):
            is_flag = 0x1F1E6 <= code <= 0x1F1FF
            index += 1
            if is_flag and index < len(text) and 0x1F1E6 <= ord(text[index]) <= 0x1F1FF:
                index += 1  # a pair of regional indicators is one flag
            while index < len(text):
                nxt = ord(text[index])
                if _is_emoji_modifier(nxt):
                    index += 1
                elif nxt == 0x200D and index + 1 < len(text):  # zero width joiner sequence
                    index += 2
                else:
                    break
            total += 2
            continue
        total += _char_weight(text[index])
        index += 1
    return total


def weighted_length(text: str) -> int:
    """Length of a post as X counts it (twitter-text v3 weighting, URLs 23)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    spans: list[tuple[int, int, int]] = []
    for match in _URL.finditer(text):
        spans.append((match.start(), match.end(), URL_WEIGHT))
    for match in _BARE_DOMAIN.finditer(text):
        if not any(start <= match.start() < end for start, end, _ in spans):
            spans.append((match.start(), match.end(), max(URL_WEIGHT, match.end() - match.start())))
    for start, end, weight in sorted(spans):
        total += _text_weight(text[position:start]) + weight
        position = end
    return total + _text_weight(text[position:])


def _clean(body: str) -> str:
    return unicodedata.normalize("NFC", body).strip()


def _hard_split(word: str, budget: int) -> list[str]:
    """A word longer than a post (never a URL: those weigh 23): cut it by characters."""
    chunks: list[str] = []
    current = ""
    for char in word:
        if current and weighted_length(current + char) > budget:
            chunks.append(current)
            current = ""
        current += char
    return [*chunks, current] if current else chunks


def _units(body: str, budget: int) -> list[tuple[str, str]]:
    """(joiner, text) pieces no heavier than the budget: sentences, else words, else cuts.
    The joiner is what separated the piece from the previous one (paragraph, line, space)."""
    units: list[tuple[str, str]] = []
    for p_index, paragraph in enumerate(_PARAGRAPH.split(body)):
        joiner = "\n\n" if p_index else ""
        pieces = _SENTENCE_END.split(paragraph.strip())
        for s_index in range(0, len(pieces), 2):
            sentence = pieces[s_index]
            if s_index:
                joiner = "\n" if "\n" in pieces[s_index - 1] else " "
            if weighted_length(sentence) <= budget:
                units.append((joiner, sentence))
                joiner = " "
                continue
            for word in sentence.split():
                for chunk in (
                    [word] if weighted_length(word) <= budget else _hard_split(word, budget)
                ):
                    units.append((joiner, chunk))
                    joiner = " "
    return units


def _split(body: str, budget: int) -> list[str]:
    """Greedily fill parts with pieces while the weighted length stays within the budget."""
    parts: list[str] = []
    current = ""
    for joiner, unit in _units(body, budget):
        candidate = f"{current}{joiner}{unit}" if current else unit
        if weighted_length(candidate) <= budget:
            current = candidate
            continue
        parts.append(current)
        current = unit
    if current:
        parts.append(current)
    return parts


def thread(body: str, stamp: Stamp, max_weight: int = MAX_WEIGHT) -> list[str]:
    """The posts for a body: one stamped post if it fits, else numbered parts ("1/3 ...")
    each within `max_weight` and each stamped."""
    body = _clean(body)
    single = stamped(body, stamp)
    if weighted_length(single) <= max_weight:
        return [single]
    digits = 1
    while True:
        numbering = weighted_length(f"{'9' * digits}/{'9' * digits} ")
        budget = max_weight - numbering - weighted_length(stamp.text)
        chunks = _split(body, budget)
        if len(str(len(chunks))) <= digits:
            total = len(chunks)
            return [f"{i}/{total} {chunk}{stamp.text}" for i, chunk in enumerate(chunks, 1)]
        digits += 1


# --- settings shared by the public-post channels -----------------------------------


def valid_base_url(value: str, setting: str) -> str:
    """The base URL without its trailing slash; ValueError (French) if it is not http(s)."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{setting} doit être une adresse http(s) complète, reçu {value!r}")
    return value.rstrip("/")


def https_problem(url: str, setting: str) -> list[str]:
    """A configuration problem if a provider URL is not https (loopback excepted)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        return [
            f"{setting} doit être en https (http réservé à 127.0.0.1/localhost pour les essais)"
        ]
    return []


def valid_timezone(value: str, setting: str) -> str:
    """The IANA time zone name; ValueError (French) if unknown."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{setting} : fuseau horaire inconnu {value!r}") from None
    return value


def _normalize_spaces(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _comparable(text: str) -> str:
    """Text reduced to what survives publication: X rewrites links (t.co), escapes &<>,
    may prefix replies with mentions; the stamp's minute depends on the first attempt."""
    text = _normalize_spaces(html.unescape(text))
    text = _LEADING_MENTIONS.sub("", text)
    text = _BARE_DOMAIN.sub("<lien>", _URL.sub("<lien>", text))
    return _STAMP.sub(lambda m: f" (màj --:-- · réf. {m.group(2)})", text)


def same_publication(published: str, expected: str) -> bool:
    """Whether a text read back from the provider is the expected post, whatever the minute
    written in its stamp."""
    return _comparable(published) == _comparable(expected)

"""How the approval preview measures a message on one channel, read from its catalog row.

The dashboard shows, before the préfet or the cabinet approves a step, the text each channel
would carry and what to check about it: SMS segments, X's weighted length (a longer text goes
out as a thread), a voice message, the alert page, or the e-mail subject. The catalog's
`measure` says which; this module words it, in French.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.catalog import ChannelName, ChannelSpec, Measure, spec
from channels.publication import weighted_length
from channels.sms_text import count_segments, describe_segments

__all__ = ["MEASURES", "measure"]


def _segments(_row: ChannelSpec, body: str, _subject: str) -> str:
    return f"{count_segments(body)} segment(s) — " + describe_segments(body)


def _weighted(row: ChannelSpec, body: str, _subject: str) -> str:
    length = weighted_length(body)
    over = row.max_length is not None and length > row.max_length
    return f"{length} caractères" + (
        " — trop long pour un seul post : publié en fil" if over else ""
    )


def _characters(_row: ChannelSpec, body: str, _subject: str) -> str:
    return f"{len(body)} caractères"


def _voice(_row: ChannelSpec, _body: str, _subject: str) -> str:
    return "message vocal"


def _page(_row: ChannelSpec, _body: str, _subject: str) -> str:
    return "page d'alerte, bandeau et flux CAP (même texte)"


def _subject(_row: ChannelSpec, _body: str, subject: str) -> str:
    return f"objet : {subject}"


# One wording per catalog measure: a new measure without its wording fails the catalog test.
MEASURES: dict[Measure, Callable[[ChannelSpec, str, str], str]] = {
    "segments": _segments,
    "weighted": _weighted,
    "characters": _characters,
    "voice": _voice,
    "page": _page,
    "subject": _subject,
}


def measure(channel: ChannelName, body: str, subject: str) -> str:
    """What the preview says about `body` (the channel's form of the message) on `channel`."""
    row = spec(channel)
    return MEASURES[row.measure](row, body, subject)

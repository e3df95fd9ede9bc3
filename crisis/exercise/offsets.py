"""Times after T0 as scenarios and the REX write them: "T0", "T0+12", "T0+1h05"."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_OFFSET = re.compile(
    r"^T0\s*(?:\+\s*(?:(?P<h>\d+)\s*h\s*(?P<hm>\d{1,2})?|(?P<m>\d+))\s*(?:min|mn|m)?)?$",
    re.IGNORECASE,
)
_OFFSET_HELP = 'attendu "T0", "T0+12" (minutes) ou "T0+1h05"'


def parse_offset(value: object) -> int:
    """Minutes after T0 from "T0+12", "T0+1h05", "T0+1h" or "T0" (an integer is minutes)."""
    if isinstance(value, bool):
        raise ValueError(f"heure d'injection invalide ({_OFFSET_HELP})")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("une heure avant T0 n'est pas possible")
        return value
    if not isinstance(value, str):
        raise ValueError(f"heure d'injection invalide ({_OFFSET_HELP})")
    match = _OFFSET.match(value.strip())
    if match is None:
        raise ValueError(f"heure invalide « {value} » ({_OFFSET_HELP})")
    if match["h"] is not None:
        minutes = int(match["hm"] or 0)
        if minutes >= 60:
            raise ValueError(f"heure invalide « {value} » : minutes entre 00 et 59 après « h »")
        return int(match["h"]) * 60 + minutes
    return int(match["m"] or 0)


def format_offset(minutes: int) -> str:
    """ "T0+12", "T0+1h05": the way scenarios and the REX write a time after T0."""
    if minutes < 60:
        return f"T0+{minutes}"
    hours, rest = divmod(minutes, 60)
    return f"T0+{hours}h{rest:02d}"


Offset = Annotated[int, BeforeValidator(parse_offset)]

"""The labelled enum: a StrEnum whose members carry their French label.

It lives in contacts, the lowest product package, so that contacts, playbooks and crisis can
all build on it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A StrEnum declared as `MAIRE = "maire", "maire"`: the value, then the French label.

    The members behave as plain StrEnum members (value, `str()`, comparisons, `Role("maire")`
    lookups, serialisation); `member.label` is the French label.
    """

    _value_: str
    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        # Only called to build the members; `Role("maire")` looks a member up by value.
        # The default only keeps that lookup's signature for the type checker.
        if not label:
            raise TypeError(f"{cls.__name__} member {value!r} needs its French label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

"""Reusable field validators of the channels' settings models: one line per checked setting.

A check takes the value and the setting's name (`[x] timezone`, `smtp.timeout_s`) and returns
the value to keep, or raises ValueError in French naming the setting; `setting_check` turns it
into the model's validator of one field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import field_validator

__all__ = ["optional", "seconds_up_to", "setting_check"]

V = TypeVar("V")


def setting_check(field: str, check: Callable[[V, str], V], setting: str) -> Callable[[V], V]:
    """The validator of `field` in a settings model: `check(value, setting)`."""

    def run(value: V) -> V:
        return check(value, setting)

    return field_validator(field)(run)


def optional(check: Callable[[V, str], V]) -> Callable[[V | None, str], V | None]:
    """`check` for a setting that may be left out (None passes unchecked)."""

    def run(value: V | None, setting: str) -> V | None:
        return None if value is None else check(value, setting)

    return run


def seconds_up_to(limit: int) -> Callable[[float, str], float]:
    """The check of a delay in seconds: more than 0, at most `limit`."""

    def run(value: float, setting: str) -> float:
        if not 0 < value <= limit:
            raise ValueError(f"{setting} : délai en secondes, entre 0 et {limit}")
        return value

    return run

"""Scenario errors in French, with the file and the location in it (`injects[2].at`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["Located", "ScenarioError", "translate"]


class Located(ValueError):
    """A cross-field problem that knows where it is in the file (e.g. injects[2].at)."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(message)
        self.location = location


class ScenarioError(ValueError):
    """A scenario file that cannot be used; French message with the file and the location."""

    def __init__(self, path: Path, location: str, reason: str) -> None:
        self.path = path
        self.location = location
        self.reason = reason
        where = f", {location}" if location else ""
        super().__init__(f"scénario {path}{where} : {reason}")


_REASONS = {
    "missing": "clé obligatoire manquante",
    "string_type": "texte attendu (entre guillemets)",
    "string_too_short": "texte vide",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "tuple_type": "liste attendue",
    "list_type": "liste attendue",
    "dict_type": "table attendue",
    "model_type": "table attendue",
    "datetime_type": 'date et heure attendues (2026-03-12T09:00:00+01:00) ou "now"',
    "datetime_parsing": 'date et heure attendues (2026-03-12T09:00:00+01:00) ou "now"',
    "too_short": "liste vide",
}


def _location(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith(("function-", "literal[", "datetime")):
            continue  # pydantic's name for a union branch, not a key of the file
        else:
            text += f".{part}" if text else part
    return text


def _fields(root: type[BaseModel], loc: Sequence[int | str]) -> Collection[str]:
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None) if field else None
        inner = next(
            (a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)), annotation
        )
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
        else:
            return ()
    return model.model_fields


def _reason(root: type[BaseModel], error: Mapping[str, Any]) -> tuple[str, str]:
    """(extra location, French reason) for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error" and isinstance(ctx.get("error"), Located):
        located: Located = ctx["error"]
        return located.location, str(located)
    if kind == "extra_forbidden":
        unknown = str(error["loc"][-1])
        close = difflib.get_close_matches(
            unknown, list(_fields(root, error["loc"])), n=1, cutoff=0.6
        )
        hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
        return "", f"clé inconnue « {unknown} »{hint}"
    if kind in {"enum", "literal_error"}:
        expected = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return "", f"valeur inconnue « {error['input']} » (attendu : {expected})"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = next(iter(ctx.values()), "")
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤"}
        return "", f"nombre {sign.get(kind, '<')} {bound} attendu (« {error['input']} »)"
    if kind == "value_error":
        return "", str(error["msg"]).removeprefix("Value error, ")
    return "", _REASONS.get(kind, str(error["msg"]))


def translate(path: Path, exc: ValidationError, root: type[BaseModel]) -> ScenarioError:
    """The first validation error of a scenario file, located and said in French."""
    errors = exc.errors(include_url=False)
    # A union ("now" or a datetime) reports one error per branch: keep the most telling one.
    error = next((e for e in errors if "literal_error" not in e["type"]), errors[0])
    extra, reason = _reason(root, error)
    location = extra or _location(error["loc"])
    return ScenarioError(path, location, reason)

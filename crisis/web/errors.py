"""French answers to invalid requests, for the API, the dashboard and the webhooks alike.

FastAPI's own answer to a validation error is English ("Field required") and echoes the input
back, which breaks on a NaN (Starlette's JSON refuses it: a 500) and repeats what was typed (a
phone number). Here every error is a 422 naming the field, in French, without the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from crisis.store.database import StoreRefused, StoreUnavailable

__all__ = ["french_error", "install_french_errors", "location"]

_ISO = "date et heure ISO 8601 attendues (ex. 2026-11-23T02:10:00+01:00)"
_FIXED = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "string_unicode": "texte attendu",
    "string_pattern_mismatch": "format invalide",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre invalide",
    "finite_number": "nombre invalide (NaN et infini refusés)",
    "bool_type": "vrai ou faux attendu (true ou false)",
    "bool_parsing": "vrai ou faux attendu (true ou false)",
    "datetime_type": _ISO,
    "datetime_parsing": _ISO,
    "datetime_from_date_parsing": _ISO,
    "timezone_aware": "l'heure doit préciser son décalage horaire (ex. +01:00)",
    "list_type": "liste attendue",
    "dict_type": "objet JSON attendu",
    "model_type": "objet JSON attendu",
    "model_attributes_type": "objet JSON attendu",
    "json_invalid": "JSON illisible",
    "json_type": "JSON attendu",
    "none_required": "aucune valeur attendue",
}
_PLACES = {"body": "corps", "query": "paramètre", "path": "adresse", "header": "en-tête"}


def french_error(error: Mapping[str, Any]) -> str:
    """One pydantic error in French (never the value that was sent)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "texte vide" if least == 1 else f"texte trop court ({least} caractères au moins)"
    if kind == "string_too_long":
        return f"texte trop long ({ctx.get('max_length')} caractères au plus)"
    if kind == "too_short":
        return f"pas assez d'éléments ({ctx.get('min_length')} au moins)"
    if kind == "too_long":
        return f"trop d'éléments ({ctx.get('max_length')} au plus)"
    if kind in ("enum", "literal_error"):
        return f"valeur inconnue (valeurs possibles : {ctx.get('expected', '')})"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "")
        word = {"greater_than": "supérieur à", "greater_than_equal": "au moins"}.get(
            kind, "inférieur à" if kind == "less_than" else "au plus"
        )
        return f"nombre hors limites ({word} {bound})"
    if kind in ("value_error", "assertion_error"):  # our validators' French messages
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return "valeur invalide"


def location(loc: Sequence[Any]) -> str:
    """Where the error is: "corps › synergi_ref", "en-tête › Idempotency-Key"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _PLACES:
        parts[0] = _PLACES[parts[0]]
    return " › ".join(parts) if parts else "requête"


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": f"{location(e.get('loc', ()))} : {french_error(e)}",
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused (too long for its column...): nothing was written."""
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached: say so, the client may retry."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


def install_french_errors(web: FastAPI) -> None:
    """Answer every invalid request of `web` in French (422, the field named, no echo), and a
    value the database refuses (422) or a database out of reach (503) likewise."""
    web.add_exception_handler(RequestValidationError, _invalid)
    web.add_exception_handler(StoreRefused, _refused)
    web.add_exception_handler(StoreUnavailable, _unavailable)

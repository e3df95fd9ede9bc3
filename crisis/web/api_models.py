"""The JSON API's request and response models (documented in its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from crisis import inputs
from crisis.model import Mode
from playbooks.model import EventKind

__all__ = [
    "ActivationIn",
    "CrisisId",
    "CrisisOut",
    "ErrorOut",
    "InvalidOut",
    "NoteIn",
    "NoteOut",
    "ReachOut",
    "StepOut",
    "VerdictOut",
]

_INSEE = frozenset("0123456789AB")
CrisisId = Annotated[
    str,
    Path(
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Identifiant de l'événement (ex. 20261123-0210-inondation).",
    ),
]


class ErrorOut(BaseModel):
    """An error, in French."""

    detail: str


class InvalidOut(BaseModel):
    """Input refused: a French reason, or the list of fields in error."""

    detail: str | list[dict[str, Any]]


class ConfirmationIn(BaseModel):
    """The préfet's or directeur de cabinet's go (the token's account must hold it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    other_event: bool = Field(
        default=False,
        description="Un autre événement que celui déjà enregistré sous cette référence SYNERGI.",
    )
    old_t0: bool = Field(
        default=False, description="Un temps 0 plus ancien que la limite (24 h par défaut)."
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Motif, inscrit dans la main courante."
    )


class ActivationIn(BaseModel):
    """A COD activation (the T0) recorded by another system."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: EventKind = Field(description="Type d'événement majeur (playbook).")
    t0: datetime = Field(
        description="Heure d'activation du COD, ISO 8601 avec décalage horaire "
        "(ex. 2026-11-23T02:10:00+01:00)."
    )
    synergi_ref: str = Field(
        max_length=inputs.SYNERGI_MAX,
        description="Référence de l'événement dans SYNERGI (ex. 42-2026-0113 : lettres, "
        "chiffres, - / _ .).",
    )
    communes: list[str] = Field(max_length=5000, description="Codes INSEE des communes concernées.")
    exercise: bool = Field(default=False, description="Vrai pour un exercice.")
    confirmation: ConfirmationIn | None = Field(
        default=None,
        description="Décision du préfet ou du directeur de cabinet pour une activation que les "
        "règles refusent (même référence SYNERGI, temps 0 ancien).",
    )

    @field_validator("t0")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "l'heure du temps 0 doit préciser son décalage horaire "
                "(ex. 2026-11-23T02:10:00+01:00)"
            )
        return value

    @field_validator("synergi_ref")
    @classmethod
    def _synergi(cls, value: str) -> str:
        return inputs.synergi_ref(value)

    @field_validator("communes")
    @classmethod
    def _communes(cls, value: list[str]) -> list[str]:
        codes = [c.strip().upper() for c in value]
        if not codes:
            raise ValueError("indiquez au moins une commune concernée (code INSEE)")
        bad = [c for c in codes if len(c) != 5 or not set(c) <= _INSEE]
        if bad:
            shown = ", ".join(repr(c[:10]) for c in bad[:5])
            raise ValueError(f"codes INSEE invalides (5 caractères, ex. 42218) : {shown}")
        return codes


class NoteIn(BaseModel):
    """A note for the main courante."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=inputs.NOTE_MAX,
        description=f"Texte de la note (1 à {inputs.NOTE_MAX} caractères ; ni numéro de "
        "téléphone ni adresse électronique : les personnes se désignent par leur nom).",
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return inputs.free_text(value, "note", inputs.NOTE_MAX)


class StepOut(BaseModel):
    """A planned step and where it stands."""

    id: str
    title: str
    engagement: str
    status: str = Field(description="planned, held, approval ou done.")
    due: datetime


class VerdictOut(BaseModel):
    """One engagement judged from the main courante, with its proof (journal entry numbers)."""

    engagement: str
    status: str = Field(description="met, late, missed, not_applicable, pending ou at_risk.")
    status_label: str
    detail: str
    evidence: list[int]


class ReachOut(BaseModel):
    """How many communes concerned had an official reached (engagement 48.1)."""

    joint: int = 0
    en_cours: int = 0
    non_joint: int = 0
    injoignable: int = 0


class CrisisOut(BaseModel):
    """A crisis's state as of now."""

    id: str
    kind: EventKind
    mode: Mode
    t0: datetime
    synergi_ref: str
    elapsed_minutes: float = Field(description="Minutes depuis le T0 (jusqu'à la clôture).")
    closed: bool
    closed_at: datetime | None
    communes_count: int
    steps: list[StepOut]
    verdicts: list[VerdictOut]
    reach: ReachOut


class NoteOut(BaseModel):
    """The note as the main courante recorded it."""

    crisis_id: str
    seq: int
    at: datetime
    author: str
    text: str

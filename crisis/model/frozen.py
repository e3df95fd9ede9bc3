"""The base of every model object: frozen, no extra field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """An immutable model that refuses unknown fields (facts, intents, the crisis)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

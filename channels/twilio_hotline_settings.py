"""The numéro unique's [cip] settings (opening hours, queue, voicemail), the webhook URLs
Twilio calls for it, and the routing decision for a new call. No TwiML here."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from channels.twilio_common import checked, http_url, valid_e164

__all__ = [
    "CallRoute",
    "HotlineSettings",
    "HotlineUrls",
    "OpeningHours",
    "QueueDecision",
    "hotline_urls",
]

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CIP_NUMBER = partial(
    valid_e164, expected="numéro unique au format international E.164 attendu (+33...)"
)


# --- settings ----------------------------------------------------------------------------------


class OpeningHours(BaseModel):
    """When the CIP answers (local time); may span midnight (opens 20:00, closes 08:00)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: time
    closes: time
    timezone: str = "Europe/Paris"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"cip.opening_hours.timezone : fuseau inconnu ({value!r})") from None
        return value

    @model_validator(mode="after")
    def _distinct(self) -> OpeningHours:
        if self.opens == self.closes:
            raise ValueError(
                "cip.opening_hours : ouverture et fermeture identiques (pour une ouverture "
                "24 h/24, ne pas renseigner opening_hours)"
            )
        return self

    def is_open(self, now: datetime) -> bool:
        """Whether the CIP answers at `now` (an aware datetime, from the orchestrator's clock)."""
        if now.tzinfo is None:
            raise ValueError("heure sans fuseau horaire")
        local = now.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        if self.opens < self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes


class HotlineSettings(BaseModel):
    """The [cip] section: the numéro unique and how its calls are handled (non-secret)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # E.164 Twilio number owned by the prefecture (numéro unique)
    number: Annotated[str, checked(_CIP_NUMBER, "cip.number")] | None = None
    queue_name: str = "cip"  # the Twilio queue the CIP agents answer
    max_queue: int = Field(default=20, ge=1, le=1_000)  # callers waiting before overflow
    max_wait_s: int = Field(default=600, ge=60, le=3_600)  # then offered to leave a message
    hold_music_url: str | None = None  # audio played while waiting (https)
    voicemail_max_s: int = Field(default=120, ge=10, le=600)  # longest message left
    opening_hours: OpeningHours | None = None  # None: the CIP answers round the clock

    @field_validator("queue_name")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not _QUEUE_NAME.match(value):
            raise ValueError("cip.queue_name : 1 à 64 lettres sans accent, chiffres, - ou _")
        return value

    @field_validator("hold_music_url")
    @classmethod
    def _music(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "cip.hold_music_url")

    def is_open(self, now: datetime) -> bool:
        """Whether the CIP answers at `now`."""
        return self.opening_hours is None or self.opening_hours.is_open(now)


@dataclass(frozen=True)
class HotlineUrls:
    """The webhooks Twilio calls for the numéro unique (all POST, signed)."""

    voice: str  # the number's voice_url: a new call
    wait: str  # Enqueue waitUrl: position and hold music, fetched again and again
    after_queue: str  # Enqueue action: the caller left the queue (QueueResult)
    voicemail: str  # Record action: a message was left
    agent: str  # an agent's phone: take the next caller


def hotline_urls(public_base_url: str) -> HotlineUrls:
    """The suggested webhook URLs under {base}/webhooks/twilio/cip/..."""
    base = f"{public_base_url.rstrip('/')}/webhooks/twilio/cip"
    return HotlineUrls(
        voice=f"{base}/voice",
        wait=f"{base}/wait",
        after_queue=f"{base}/after-queue",
        voicemail=f"{base}/voicemail",
        agent=f"{base}/agent",
    )


# --- routing decision --------------------------------------------------------------------------


class CallRoute(StrEnum):
    """What happens to a new call on the numéro unique."""

    ENQUEUE = "enqueue"  # greeting, information, then the queue
    OVERFLOW = "overflow"  # nobody on duty or queue full: message, then voicemail
    OUT_OF_HOURS = "out_of_hours"  # CIP closed: information, then voicemail


@dataclass(frozen=True)
class QueueDecision:
    """The route for a new call and the free agents to ring at once (simultaneous ring)."""

    route: CallRoute
    ring: tuple[str, ...]  # ids of the agents on duty and not in a call, sorted
    reason: str  # French, for the CIP dashboard

    @classmethod
    def decide(
        cls,
        *,
        on_duty: Collection[str],
        busy: Collection[str],
        queue_length: int,
        max_queue: int,
        open_now: bool,
    ) -> QueueDecision:
        """Closed: out of hours. Nobody on duty, or `queue_length` callers already waiting
        with `max_queue` reached: overflow. Otherwise: queue, ringing the free agents."""
        free = tuple(sorted(set(on_duty) - set(busy)))
        if not open_now:
            return cls(CallRoute.OUT_OF_HOURS, (), "appel reçu en dehors des heures d'ouverture")
        if not on_duty:
            return cls(CallRoute.OVERFLOW, (), "aucun agent de la CIP de permanence")
        if queue_length >= max_queue:
            return cls(
                CallRoute.OVERFLOW,
                (),
                f"file d'attente pleine ({queue_length} appelants pour {max_queue} places)",
            )
        if free:
            return cls(CallRoute.ENQUEUE, free, f"{len(free)} agent(s) libre(s) appelé(s)")
        return cls(
            CallRoute.ENQUEUE, (), f"tous les agents occupés : {queue_length + 1}e en attente"
        )

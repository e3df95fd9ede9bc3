"""The switchboard's recorded message (message du standard téléphonique) as a public channel.

A message on `ChannelName.STANDARD` is what the prefecture's switchboard says to every caller
before putting them through to the usual standard: its body is the spoken form of the
message. Sending it stores the announcement in a JSON state file and points the switchboard's
Twilio number at `{public_base_url}/webhooks/twilio/standard` (served by
crisis/web/providers/cip_line.py), which says the announcement then dials `forward_to`. The
number's own configuration, read the first time, is kept in the same file; when the last
crisis with an announcement withdraws it, that configuration is put back exactly
(TwilioNumbers.restore).

Several open crises may each have an announcement: the most recent one is said; withdrawing
one falls back to the others' latest, and the number is restored only when none is left.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource
from channels.errors import ChannelConfigError, DeliveryFailed
from channels.files import read_or_none, write_atomic
from channels.setting_checks import optional, setting_check
from channels.twilio_common import (
    TwilioSettings,
    callback_problems,
    is_loopback_url,
    valid_e164,
)
from channels.twilio_hotline import STANDARD_PATH
from channels.twilio_numbers import NumberConfig, NumberConfigError, TwilioNumbers

__all__ = [
    "STANDARD_PATH",
    "Announcement",
    "SwitchboardChannel",
    "SwitchboardSettings",
    "SwitchboardState",
    "check_switchboard",
    "standard_url",
]

logger = logging.getLogger(__name__)

STATE_FILE = "standard.json"
MAX_KEYS = 500  # idempotency keys remembered for lookup (a crisis sends a handful)
BY_HAND = (
    "le message du standard n'est pas à jour : enregistrer l'annonce à la main sur le standard "
    "téléphonique"
)


class SwitchboardSettings(BaseModel):
    """The [standard] section (non-secret): the switchboard's Twilio number and where its calls
    go after the announcement."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str | None = None  # E.164 Twilio number of the switchboard (owned by the prefecture)
    forward_to: str | None = None  # E.164: the usual standard, dialled after the announcement
    state_dir: Path | None = None  # folder of standard.json (current announcement, old config)
    voice: str = Field(default="Polly.Lea", min_length=1)  # French voice for <Say fr-FR>

    _number = setting_check("number", optional(valid_e164), "standard.number")
    _forward = setting_check("forward_to", optional(valid_e164), "standard.forward_to")


class Announcement(BaseModel):
    """One crisis's announcement on the switchboard."""

    model_config = ConfigDict(extra="forbid")

    text: str
    crisis_id: str
    idempotency_key: str
    sent_at: datetime


class SwitchboardState(BaseModel):
    """standard.json: announcements by crisis, the number's configuration before the first
    one (what closing restores) and the keys already announced (lookup)."""

    model_config = ConfigDict(extra="forbid")

    announcements: dict[str, Announcement] = Field(default_factory=dict)
    previous: NumberConfig | None = None
    sent: dict[str, str] = Field(default_factory=dict)  # idempotency key -> provider id

    def current(self) -> Announcement | None:
        """The announcement said now: the most recent one."""
        if not self.announcements:
            return None
        return max(self.announcements.values(), key=lambda a: a.sent_at)


def standard_url(public_base_url: str) -> str:
    """The switchboard number's voice URL: {base}/webhooks/twilio/standard."""
    return f"{public_base_url.rstrip('/')}{STANDARD_PATH}"


def _provider_id(sid: str, key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{sid}:{digest}"


def _failure(exc: NumberConfigError) -> NumberConfigError:
    """Twilio's refusal, worded for the switchboard (TwilioNumbers speaks of the CIP line)."""
    reason = exc.public_reason.replace("numéro unique", "numéro du standard")
    return NumberConfigError(
        f"standard téléphonique : {reason}",
        retryable=exc.retryable,
        ambiguous=exc.ambiguous,
        previous=exc.previous,
    )


class SwitchboardChannel:
    """ChannelName.STANDARD: the switchboard's announcement, through its Twilio number."""

    name = ChannelName.STANDARD

    def __init__(
        self,
        settings: SwitchboardSettings,
        numbers: TwilioNumbers,
        public_base_url: str,
        clock: TimeSource,
    ) -> None:
        if settings.number is None:
            raise ChannelConfigError(
                "standard.number manquant : numéro Twilio du standard de la préfecture (E.164)"
            )
        if settings.state_dir is None:
            raise ChannelConfigError(
                "standard.state_dir manquant : répertoire où garder l'annonce en cours et la "
                "configuration d'origine du numéro du standard"
            )
        base = public_base_url.strip()
        if not (
            base.startswith("https://") or (base.startswith("http://") and is_loopback_url(base))
        ):
            raise ChannelConfigError(
                "twilio.public_base_url : adresse https publique de l'orchestrateur attendue "
                "(http seulement pour 127.0.0.1)"
            )
        self.settings = settings
        self.number: str = settings.number
        self.voice_url = standard_url(base)
        self.path = settings.state_dir / STATE_FILE
        self._numbers = numbers
        self._clock = clock
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SwitchboardChannel(voice_url={self.voice_url!r})"

    # --- state file ----------------------------------------------------------------------

    def _failure(self, what: str, exc: OSError | None, *, ambiguous: bool) -> DeliveryFailed:
        cause = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
        return DeliveryFailed(
            f"standard téléphonique : {what} {self.path}{cause} ; {BY_HAND}",
            retryable=False,
            ambiguous=ambiguous,
        )

    def _load_sync(self) -> SwitchboardState:
        text = read_or_none(self.path)
        if text is None:
            return SwitchboardState()
        return SwitchboardState.model_validate_json(text)

    async def _load(self, *, ambiguous: bool) -> SwitchboardState:
        try:
            return await asyncio.to_thread(self._load_sync)
        except OSError as exc:
            raise self._failure(
                "lecture impossible du fichier d'état", exc, ambiguous=ambiguous
            ) from None
        except ValidationError:
            raise self._failure("fichier d'état illisible", None, ambiguous=ambiguous) from None

    async def _save(self, state: SwitchboardState, *, ambiguous: bool = False) -> None:
        data = state.model_dump_json(indent=1).encode("utf-8")

        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, data)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            raise self._failure(
                "écriture impossible du fichier d'état", exc, ambiguous=ambiguous
            ) from None

    # --- Channel ------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Store the announcement and point the switchboard number at the orchestrator."""
        text = " ".join(message.body.split())
        if not text:
            raise DeliveryFailed(
                f"standard téléphonique : message vide ; {BY_HAND}", retryable=False
            )
        async with self._lock:
            state = await self._load(ambiguous=False)
            try:
                if state.previous is None:
                    await self._keep_previous(state)
                config = await self._numbers.point_to(self.number, self.voice_url)
            except NumberConfigError as exc:
                raise _failure(exc) from None
            provider_id = _provider_id(config.sid, message.idempotency_key)
            state.announcements[message.crisis_id] = Announcement(
                text=text,
                crisis_id=message.crisis_id,
                idempotency_key=message.idempotency_key,
                sent_at=self._clock.now(),
            )
            state.sent[message.idempotency_key] = provider_id
            while len(state.sent) > MAX_KEYS:
                del state.sent[next(iter(state.sent))]
            await self._save(state)  # else nothing is said: the route only forwards the call
        logger.info("annonce du standard mise à jour (événement %s)", message.crisis_id)
        return Receipt(provider_id=provider_id)

    async def _keep_previous(self, state: SwitchboardState) -> None:
        """Store the number's configuration before the first change: a failure after the
        change must not lose what closing restores."""
        current = await self._numbers.current(self.number)
        if current.points_to(self.voice_url):
            logger.warning(
                "numéro du standard %s déjà dirigé vers l'orchestrateur sans configuration "
                "d'origine connue : elle ne pourra pas être rétablie automatiquement",
                current.sid,
            )
            return
        state.previous = current
        await self._save(state)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """The receipt when the state file holds the key; None when it does not (the number
        may point at us, but without the announcement nothing was said: resending is safe)."""
        state = await self._load(ambiguous=True)
        provider_id = state.sent.get(message.idempotency_key)
        return None if provider_id is None else Receipt(provider_id=provider_id)

    # --- end of the crisis -------------------------------------------------------------------

    async def withdraw(self, crisis_id: str) -> bool:
        """Take the crisis's announcement off; when no other crisis has one, put back the
        number's configuration. Idempotent: calling it again retries a failed restore.
        True when the number was restored by this call. NumberConfigError (French, a
        DeliveryFailed) when Twilio refused: the configuration stays stored for a retry."""
        async with self._lock:
            state = await self._load(ambiguous=False)
            if state.announcements.pop(crisis_id, None) is not None:
                await self._save(state)
                logger.info("annonce du standard retirée (événement %s)", crisis_id)
            if state.announcements or state.previous is None:
                return False
            try:
                restored = await self._numbers.restore(state.previous)
            except NumberConfigError as exc:
                raise _failure(exc) from None
            state.previous = None
            await self._save(state)
            logger.info("numéro du standard rétabli dans sa configuration d'origine")
            return restored

    def current_announcement(self) -> str | None:
        """The text the switchboard says now (None: none, or the state cannot be read)."""
        try:
            state = self._load_sync()
        except (OSError, ValidationError):
            logger.warning("annonce du standard illisible : appel transféré sans annonce")
            return None
        current = state.current()
        return None if current is None else current.text


def check_switchboard(
    settings: SwitchboardSettings, twilio_settings: TwilioSettings, env: Mapping[str, str]
) -> list[str]:
    """Problems, in French and without any request, that would stop the switchboard's
    announcement. Entries starting with ADVICE do not stop it."""
    problems: list[str] = []
    if settings.number is None:
        problems.append("standard.number manquant : numéro Twilio du standard (format E.164)")
    if settings.forward_to is None:
        problems.append(
            "standard.forward_to manquant : numéro du standard habituel vers lequel les appels "
            "sont transférés après l'annonce (sans lui, les appelants n'entendraient que l'annonce)"
        )
    elif settings.forward_to == settings.number:
        problems.append(
            "standard.forward_to identique à standard.number : les appels tourneraient en boucle"
        )
    if settings.state_dir is None:
        problems.append(
            "standard.state_dir manquant : répertoire de l'annonce en cours et de la "
            "configuration d'origine du numéro"
        )
    elif settings.state_dir.exists() and not settings.state_dir.is_dir():
        problems.append(f"standard.state_dir ({settings.state_dir}) n'est pas un répertoire")
    problems += callback_problems(
        twilio_settings,
        env,
        refused="les appels reçus par le standard",
        purpose="l'annonce du standard",
    )
    return problems

"""The CIP's numéro unique at Twilio: read its voice configuration, point it at the
orchestrator when the CIP opens, and put the prefecture's own configuration back when it closes
(IncomingPhoneNumbers list and update, through the SDK, with the [twilio] settings)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from twilio.base.exceptions import TwilioException, TwilioRestException

from channels.errors import DeliveryFailed
from channels.twilio_common import (
    ClientFactory,
    TwilioCredentials,
    TwilioSettings,
    callback_problems,
    is_loopback_url,
    make_client,
)
from channels.twilio_errors import (
    AMBIGUOUS_ADVICE,
    MAPPED_ERRORS,
    RETRY_ADVICE,
    delivery_failure,
)
from contacts.phone import is_e164

__all__ = [
    "NumberConfig",
    "NumberConfigError",
    "TwilioNumbers",
    "check_hotline_number",
]

logger = logging.getLogger(__name__)

MANUAL = "régler le numéro unique à la main dans la console Twilio"
RETRY = "nouvel essai sans risque"
LIST_PAGE = 20  # the PhoneNumber filter matches partial numbers: a few candidates at most
HttpMethod = Literal["GET", "POST"]


class NumberConfigError(DeliveryFailed):
    """The numéro unique could not be read or changed; French reason safe to show.

    `retryable`: trying again is safe (429, connection refused, no answer: a change is
    idempotent). `ambiguous`: a change may have been applied. `previous`: the configuration
    read before a failed change; keep it, it is what closing the CIP must restore (a retried
    point_to would see our own URL as the current configuration).
    """

    def __init__(
        self,
        public_reason: str,
        *,
        retryable: bool,
        ambiguous: bool = False,
        previous: NumberConfig | None = None,
    ) -> None:
        super().__init__(public_reason, retryable=retryable, ambiguous=ambiguous)
        self.previous = previous


def _empty_to_none(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


class NumberConfig(BaseModel):
    """The voice routing of one Twilio number (IncomingPhoneNumber), as stored to restore it.

    Empty values are None. Serialise with `model_dump(mode="json")`, read back with
    `NumberConfig.model_validate(...)`. The number itself is kept out of repr.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sid: str = Field(pattern=r"^PN[0-9a-fA-F]{32}$")
    phone_number: str = Field(repr=False)
    voice_url: str | None = None
    voice_method: HttpMethod | None = None
    voice_fallback_url: str | None = None
    voice_fallback_method: HttpMethod | None = None
    status_callback: str | None = None
    status_callback_method: HttpMethod | None = None
    voice_application_sid: str | None = None  # when set, Twilio ignores the voice URLs
    trunk_sid: str | None = None  # when set, Twilio ignores URLs and application

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not is_e164(value):
            raise ValueError("numéro unique : format international E.164 attendu")
        return value

    @classmethod
    def from_resource(cls, resource: Any) -> NumberConfig:
        """Read an SDK IncomingPhoneNumberInstance (or anything with the same attributes)."""

        def method(name: str) -> str | None:
            value = _empty_to_none(getattr(resource, name, None))
            return value.upper() if value else None

        urls = ("voice_url", "voice_fallback_url", "status_callback")
        sids = ("voice_application_sid", "trunk_sid")
        methods = ("voice_method", "voice_fallback_method", "status_callback_method")
        return cls.model_validate(
            {
                "sid": str(resource.sid),
                "phone_number": str(resource.phone_number),
                **{name: _empty_to_none(getattr(resource, name, None)) for name in urls + sids},
                **{name: method(name) for name in methods},
            }
        )

    def points_to(self, voice_url: str) -> bool:
        """Whether incoming calls already reach `voice_url` (no application or trunk in front)."""
        return (
            self.voice_url == voice_url
            and self.voice_method == "POST"
            and self.voice_application_sid is None
            and self.trunk_sid is None
        )


# NumberConfig field -> the SDK's update() argument; the routing that restore() puts back.
_ROUTING_FIELDS: dict[str, str] = {
    "voice_url": "voice_url",
    "voice_method": "voice_method",
    "voice_fallback_url": "voice_fallback_url",
    "voice_fallback_method": "voice_fallback_method",
    "status_callback": "status_callback",
    "status_callback_method": "status_callback_method",
    "voice_application_sid": "voice_application_sid",
}


def _check_url(url: str, what: str) -> None:
    if not (url.startswith("https://") or (url.startswith("http://") and is_loopback_url(url))):
        raise NumberConfigError(
            f"{what} : adresse https complète attendue (http seulement pour 127.0.0.1)",
            retryable=False,
        )


def _page_error(exc: Exception) -> Exception:
    """The SDK reports a refused list request as a bare TwilioException("Unable to fetch
    page", response): rebuild the TwilioRestException, so that its status and code are mapped
    like any other refusal (401 is an account problem, 429 a retry, not an unreadable answer)."""
    if type(exc) is not TwilioException or len(exc.args) < 2:
        return exc
    response = exc.args[1]
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return exc
    try:
        code = json.loads(getattr(response, "text", "") or "{}").get("code")
    except (ValueError, AttributeError):
        code = None
    rebuilt: Exception = TwilioRestException(
        status, "", code=code if isinstance(code, int) else None
    )
    return rebuilt


class TwilioNumbers:
    """Reads and changes the voice routing of the prefecture's numéro unique at Twilio.

    Each operation (current, point_to, restore) goes through the SDK's async client and closes
    its connections when no other operation is under way: they are rare (the CIP opens, the
    switchboard's message changes), and a CLI command runs each in an event loop of its own.
    """

    def __init__(
        self,
        settings: TwilioSettings,
        credentials: TwilioCredentials,
        *,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.settings = settings
        factory = client_factory or (lambda: make_client(settings, credentials))
        self._client: Any = factory()
        self._operations = 0

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[None]:
        """One operation's use of the client: its session closes when the last one ends."""
        self._operations += 1
        try:
            yield
        finally:
            self._operations -= 1
            if not self._operations:
                await self._client.http_client.close()

    async def current(self, phone_number: str) -> NumberConfig:
        """The number's configuration; NumberConfigError if the account does not own it."""
        async with self._connected():
            return await self._current(phone_number)

    async def _current(self, phone_number: str) -> NumberConfig:
        if not is_e164(phone_number):
            raise NumberConfigError(
                "le numéro unique est mal formé (format international E.164 attendu) : "
                "corriger la configuration de la CIP",
                retryable=False,
            )

        try:
            page = await self._client.incoming_phone_numbers.page_async(
                phone_number=phone_number, page_size=LIST_PAGE
            )
            found = next((n for n in page if str(n.phone_number) == phone_number), None)
        except MAPPED_ERRORS as exc:
            raise self._failure("lecture du numéro unique impossible", exc) from None
        if found is None:
            raise NumberConfigError(
                "le numéro unique n'appartient pas au compte Twilio de la préfecture : "
                "vérifier le numéro configuré pour la CIP et le compte "
                "(CRISIS_TWILIO_ACCOUNT_SID)",
                retryable=False,
            )
        try:
            return NumberConfig.from_resource(found)
        except ValueError:
            raise NumberConfigError(
                "configuration du numéro unique illisible dans la réponse de Twilio",
                retryable=False,
                ambiguous=True,
            ) from None

    async def point_to(
        self,
        phone_number: str,
        voice_url: str,
        *,
        fallback_url: str | None = None,
        status_callback: str | None = None,
    ) -> NumberConfig:
        """Send the number's calls to `voice_url` (POST); return the configuration it had.

        Already pointed at `voice_url`: nothing is written and the current configuration is
        returned (`result.points_to(voice_url)` is then true): the caller keeps the
        configuration it stored the first time. `fallback_url` and `status_callback` are
        changed only when given. A number routed through a SIP trunk is refused.
        """
        async with self._connected():
            return await self._point_to(phone_number, voice_url, fallback_url, status_callback)

    async def _point_to(
        self,
        phone_number: str,
        voice_url: str,
        fallback_url: str | None,
        status_callback: str | None,
    ) -> NumberConfig:
        _check_url(voice_url, "adresse vocale du numéro unique")
        for extra, what in ((fallback_url, "adresse de secours"), (status_callback, "suivi")):
            if extra is not None:
                _check_url(extra, f"{what} du numéro unique")
        previous = await self._current(phone_number)
        if previous.trunk_sid is not None:
            raise NumberConfigError(
                "le numéro unique est rattaché à un trunk SIP (standard de la préfecture) : "
                f"l'orchestrateur ne le modifie pas ; prévenir l'administrateur, {MANUAL}",
                retryable=False,
            )
        wanted: dict[str, str] = {"voice_url": voice_url, "voice_method": "POST"}
        if previous.voice_application_sid is not None:
            wanted["voice_application_sid"] = ""  # else Twilio keeps ignoring voice_url
        if fallback_url is not None:
            wanted["voice_fallback_url"] = fallback_url
            wanted["voice_fallback_method"] = "POST"
        if status_callback is not None:
            wanted["status_callback"] = status_callback
            wanted["status_callback_method"] = "POST"
        if all((getattr(previous, name) or "") == value for name, value in wanted.items()):
            return previous
        await self._update(previous, wanted, "redirection du numéro unique impossible")
        logger.info("numéro unique %s dirigé vers l'orchestrateur", previous.sid)
        return previous

    async def restore(self, previous: NumberConfig) -> bool:
        """Put back the voice routing `previous` (from point_to); False if it already is."""
        async with self._connected():
            return await self._restore(previous)

    async def _restore(self, previous: NumberConfig) -> bool:
        now = await self._current(previous.phone_number)
        if now.sid != previous.sid:
            raise NumberConfigError(
                "le numéro unique a changé d'identifiant chez Twilio depuis l'ouverture de la "
                f"CIP : prévenir l'administrateur, {MANUAL}",
                retryable=False,
            )
        changes: dict[str, str] = {}
        for name, argument in _ROUTING_FIELDS.items():
            before, current = getattr(previous, name), getattr(now, name)
            if before == current or (before is None and name.endswith("method")):
                continue  # a method cannot be emptied; Twilio always reports one anyway
            changes[argument] = before or ""  # "" clears a URL or an application at Twilio
        if not changes:
            return False
        await self._update(previous, changes, "rétablissement du numéro unique impossible")
        logger.info("numéro unique %s rétabli dans sa configuration d'origine", previous.sid)
        return True

    async def _update(self, previous: NumberConfig, values: dict[str, str], what: str) -> None:
        try:
            await self._client.incoming_phone_numbers(previous.sid).update_async(**values)
        except MAPPED_ERRORS as exc:
            raise self._failure(what, exc, previous) from None

    @staticmethod
    def _failure(
        what: str, exc: Exception, previous: NumberConfig | None = None
    ) -> NumberConfigError:
        """Map like the channels, with one difference: an update is idempotent (the same
        values written twice), so trying again is always safe once the previous
        configuration is kept; a read changes nothing, so it is never ambiguous."""
        # not chained: Twilio's own message may quote the number
        failed = delivery_failure(_page_error(exc), manual=MANUAL)
        write = previous is not None
        reason = failed.public_reason
        if failed.ambiguous:
            cause = reason.removesuffix(f" : {AMBIGUOUS_ADVICE}")
            advice = "la modification a peut-être été faite ; " if write else ""
            reason = f"{cause} : {advice}{RETRY}"
        elif failed.retryable:
            reason = reason.removesuffix(RETRY_ADVICE) + RETRY
        return NumberConfigError(
            f"{what} : {reason}",
            retryable=failed.retryable or failed.ambiguous,
            ambiguous=failed.ambiguous and write,
            previous=previous,
        )


def check_hotline_number(
    settings: TwilioSettings, number: str | None, env: Mapping[str, str]
) -> list[str]:
    """Problems, in French and without any request, that would stop the CIP's numéro unique
    from being pointed at the orchestrator. ADVICE entries do not stop it."""
    problems: list[str] = []
    if not number:
        problems.append("numéro unique de la CIP non configuré (numéro Twilio de la préfecture)")
    elif not is_e164(number):
        problems.append("numéro unique de la CIP mal formé (format international E.164 attendu)")
    problems += callback_problems(
        settings,
        env,
        refused="les appels reçus sur le numéro unique",
        purpose="l'accueil des appels du numéro unique",
    )
    return problems

"""Facebook channel: the prefecture's Page posts to its feed through the Graph API (httpx).

Posts carry the same stamp as on X (channels/publication.py): a resend is the same text, and a
look-up finds the post by it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource
from channels.errors import ChannelConfigError, DeliveryFailed
from channels.publication import (
    Stamp,
    https_problem,
    parse_stamp,
    same_publication,
    stamp_at,
    stamped,
    valid_base_url,
    valid_timezone,
)
from channels.setting_checks import setting_check

__all__ = [
    "PAGE_TOKEN_VARIABLE",
    "FacebookChannel",
    "FacebookCredentials",
    "FacebookSettings",
    "check_facebook",
]

PAGE_TOKEN_VARIABLE = "CRISIS_FACEBOOK_PAGE_TOKEN"  # noqa: S105 (a variable name, not a secret)
MANUAL = "publier à la main sur la page Facebook le texte ci-dessous"
TOKEN_REFUSED = f"page Facebook refusée (jeton expiré ou révoqué) : {MANUAL}"
PERMISSION_REFUSED = f"page Facebook refusée (droits de publication insuffisants) : {MANUAL}"
BLOCKED = (
    "Facebook bloque les publications de la page (mesure anti-abus) : publier par les autres"
    " canaux et prévenir l'administrateur de la page"
)
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
TOKEN_CODES = frozenset({102, 190})
DUPLICATE_CODE = 506
BLOCKED_CODE = 368
_MEMORY = 2000
_VERSION = re.compile(r"^v\d+\.\d+$")


class FacebookSettings(BaseModel):
    """Non-secret settings of the Facebook channel (TOML section [facebook])."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page_id: str = ""  # numeric id of the prefecture's Page; empty = not configured
    graph_base_url: str = "https://graph.facebook.com"  # tests point it at 127.0.0.1
    graph_version: str = "v21.0"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    timezone: str = "Europe/Paris"  # the update stamp "(màj 02:45)" is local time
    lookup_count: int = Field(default=25, ge=1, le=100)  # recent feed posts read by a look-up

    @field_validator("page_id")
    @classmethod
    def _page_id(cls, value: str) -> str:
        value = value.strip()
        if value and not value.isdigit():
            raise ValueError(
                f"[facebook] page_id doit être l'identifiant numérique de la page, reçu {value!r}"
            )
        return value

    _base_url = setting_check("graph_base_url", valid_base_url, "[facebook] graph_base_url")

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(
                f"[facebook] graph_version doit ressembler à « v21.0 », reçu {value!r}"
            )
        return value

    _timezone = setting_check("timezone", valid_timezone, "[facebook] timezone")


@dataclass(frozen=True)
class FacebookCredentials:
    """The Page's long-lived access token."""

    page_token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FacebookCredentials:
        """Read the Page token; ChannelConfigError names the variable if it is missing."""
        token = env.get(PAGE_TOKEN_VARIABLE, "").strip()
        if not token:
            raise ChannelConfigError(
                f"Facebook : variable d'environnement {PAGE_TOKEN_VARIABLE} absente"
                " (jeton longue durée de la page)"
            )
        return cls(page_token=token)


@dataclass(frozen=True)
class _GraphError:
    code: int | None
    subcode: int | None
    transient: bool


def _graph_error(response: httpx.Response) -> _GraphError | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) else None

    return _GraphError(
        number(error.get("code")),
        number(error.get("error_subcode")),
        bool(error.get("is_transient")),
    )


class FacebookChannel:
    """Publishes public messages on the prefecture's Facebook Page."""

    name = ChannelName.FACEBOOK

    def __init__(
        self,
        settings: FacebookSettings,
        credentials: FacebookCredentials,
        clock: TimeSource,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not settings.page_id:
            raise ChannelConfigError(
                "[facebook] page_id absent : identifiant numérique de la page de la préfecture"
            )
        self.settings = settings
        self.clock = clock
        self._token = credentials.page_token
        self._own_http = http is None
        self.http = http if http is not None else httpx.AsyncClient(timeout=settings.timeout_s)
        self._timezone = ZoneInfo(settings.timezone)
        self._stamps: OrderedDict[str, Stamp] = OrderedDict()
        base = settings.graph_base_url.rstrip("/")
        self._feed_url = f"{base}/{settings.graph_version}/{settings.page_id}/feed"

    async def aclose(self) -> None:
        """Close the HTTP client if the channel made it."""
        if self._own_http:
            await self.http.aclose()

    # --- protocol ------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Post the stamped message to the Page's feed."""
        if not message.body.strip():
            raise DeliveryFailed("message vide : rien à publier sur Facebook", retryable=False)
        text = stamped(message.body, self._stamp(message))
        try:
            response = await self.http.post(
                self._feed_url,
                data={"message": text, "access_token": self._token},
                timeout=self.settings.timeout_s,
            )
        except httpx.TransportError as exc:
            raise _transport_failure(exc) from None
        if response.is_success:
            post_id = _post_id(response)
            if post_id:
                return Receipt(provider_id=post_id)
            raise DeliveryFailed(
                "réponse de Facebook sans identifiant de publication : vérifier sur la page"
                " avant tout nouvel envoi",
                retryable=False,
                ambiguous=True,
            )
        error = _graph_error(response)
        if error is not None and error.code == DUPLICATE_CODE:
            receipt = await self.lookup(message)
            if receipt is not None:
                return receipt
            raise DeliveryFailed(
                "Facebook indique que ce texte est déjà publié mais la publication est"
                " introuvable : vérifier sur la page",
                retryable=False,
                ambiguous=True,
            )
        raise _response_failure(response.status_code, error)

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Find the stamped message among the Page's latest feed posts."""
        expected = stamped(message.body, self._stamp(message))
        try:
            response = await self.http.get(
                self._feed_url,
                params={"fields": "id,message,created_time", "limit": self.settings.lookup_count},
                headers={"Authorization": f"Bearer {self._token}"},  # keeps the token out of URLs
                timeout=self.settings.timeout_s,
            )
        except httpx.TransportError as exc:
            raise _unverifiable(_transport_failure(exc).public_reason) from None
        if not response.is_success:
            cause = _response_failure(response.status_code, _graph_error(response)).public_reason
            raise _unverifiable(cause)
        try:
            posts = response.json().get("data", [])
        except (ValueError, AttributeError):
            raise _unverifiable("réponse illisible") from None
        for post in reversed(posts if isinstance(posts, list) else []):  # oldest first
            text = str(post.get("message", "")) if isinstance(post, dict) else ""
            if text and same_publication(text, expected):
                learned = parse_stamp(text)
                if learned is not None:
                    self._stamps[message.idempotency_key] = learned
                return Receipt(provider_id=str(post.get("id", "")))
        return None

    # --- internals -----------------------------------------------------------------------

    def _stamp(self, message: OutgoingMessage) -> Stamp:
        """The stamp of the first attempt, so every resend is the same text."""
        key = message.idempotency_key
        if key not in self._stamps:
            self._stamps[key] = stamp_at(self.clock.now(), self._timezone, key)
            while len(self._stamps) > _MEMORY:
                self._stamps.popitem(last=False)
        return self._stamps[key]


def _post_id(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("id", "")) if isinstance(payload, dict) else ""


def _transport_failure(exc: httpx.TransportError) -> DeliveryFailed:
    """Before the request left (connect, pool): safe to retry. After: ambiguous."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return DeliveryFailed(
            "Facebook injoignable (connexion impossible) : nouvel essai automatique",
            retryable=True,
        )
    return DeliveryFailed(
        "Facebook n'a pas répondu après l'envoi : la publication est peut-être en ligne,"
        " vérifier avant tout nouvel envoi",
        retryable=False,
        ambiguous=True,
    )


def _response_failure(status: int, error: _GraphError | None) -> DeliveryFailed:
    """Map a Graph API error (HTTP status, error.code, is_transient) to the dispatcher's terms."""
    code = error.code if error is not None else None
    if code in TOKEN_CODES:
        return DeliveryFailed(TOKEN_REFUSED, retryable=False)
    if code is not None and (code == 10 or 200 <= code <= 299):
        return DeliveryFailed(PERMISSION_REFUSED, retryable=False)
    if code in RATE_LIMIT_CODES or status == 429:
        return DeliveryFailed(
            "limite d'appels Facebook atteinte : nouvel essai automatique", retryable=True
        )
    if code == BLOCKED_CODE:
        return DeliveryFailed(BLOCKED, retryable=False)
    if error is not None and error.transient:  # Graph says nothing was done: try again
        return DeliveryFailed(
            f"Facebook momentanément indisponible (code {code}) : nouvel essai automatique",
            retryable=True,
        )
    if status >= 500:
        return DeliveryFailed(
            f"Facebook en erreur (HTTP {status}) : la publication est peut-être en ligne,"
            " vérifier avant tout nouvel envoi",
            retryable=False,
            ambiguous=True,
        )
    detail = f"code {code}" if code is not None else f"HTTP {status}"
    return DeliveryFailed(
        f"Facebook a refusé la publication ({detail}) : {MANUAL}", retryable=False
    )


def _unverifiable(cause: str) -> DeliveryFailed:
    return DeliveryFailed(
        f"vérification impossible sur Facebook ({cause}) : la publication reste à vérifier",
        retryable=False,
        ambiguous=True,
    )


def check_facebook(settings: FacebookSettings, env: Mapping[str, str]) -> list[str]:
    """Configuration problems of the Facebook channel, in French, without calling Facebook."""
    problems: list[str] = []
    if not env.get(PAGE_TOKEN_VARIABLE, "").strip():
        problems.append(f"Facebook : variable d'environnement {PAGE_TOKEN_VARIABLE} absente")
    if not settings.page_id:
        problems.append("[facebook] page_id absent : identifiant numérique de la page")
    elif not settings.page_id.isdigit():
        problems.append("[facebook] page_id doit être l'identifiant numérique de la page")
    return problems + https_problem(settings.graph_base_url, "[facebook] graph_base_url")

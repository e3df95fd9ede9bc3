"""Mobile application channel: a signed JSON webhook to the app vendor's server (httpx).

The contract vendors implement is docs/app-webhook.md: HMAC-SHA256 signature over
"{timestamp}.{raw body}", idempotency by message id (409 when already received), and an
optional lookup endpoint used to reconcile ambiguous sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, field_validator

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource, is_loopback_host
from channels.errors import ChannelConfigError, DeliveryFailed, is_tls_failure
from channels.setting_checks import seconds_up_to, setting_check

__all__ = [
    "ENV_SECRET",
    "MIN_SECRET_BYTES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AppChannel",
    "AppCredentials",
    "AppSettings",
    "check_app",
    "sign",
    "verify_signature",
]

ENV_SECRET = "CRISIS_APP_HMAC_SECRET"  # noqa: S105 (a variable name, not a secret)
MIN_SECRET_BYTES = 32
SIGNATURE_HEADER = "X-Crisis-Signature"
TIMESTAMP_HEADER = "X-Crisis-Timestamp"
# Header values must be ASCII: other characters (and "%", space) are percent-encoded.
_HEADER_SAFE = string.punctuation.replace("%", "")

UNCERTAIN = "envoi incertain : vérifier auprès de l'éditeur de l'application avant de renvoyer"
CHANNEL_DOWN = "canal application mobile hors service : publier l'alerte par un autre moyen"


def url_problem(url: str) -> str | None:
    """French description of what is wrong with the webhook URL, or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "app.url : adresse mal formée"
    if parts.scheme not in {"https", "http"} or not host:
        return "app.url : adresse https://... attendue"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "app.url : https obligatoire (http seulement pour 127.0.0.1 ou localhost, en test)"
    if parts.username is not None or parts.password is not None:
        return "app.url : pas d'identifiants dans l'adresse (le secret est CRISIS_APP_HMAC_SECRET)"
    if parts.query or parts.fragment:
        return "app.url : pas de paramètres (?...) ni d'ancre (#...) dans l'adresse"
    return None


class AppSettings(BaseModel):
    """Non-secret settings of the `[app]` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str  # the vendor's endpoint; POST here, GET {url}/{id} for the lookup
    timeout_s: float = 10.0
    app_name: str = "application mobile"  # the name agents know the app by
    lookup_enabled: bool = False  # turn on once the vendor confirms GET {url}/{id} exists

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.rstrip("/")

    _timeout = setting_check("timeout_s", seconds_up_to(120), "app.timeout_s")


@dataclass(frozen=True)
class AppCredentials:
    """The HMAC secret shared with the app vendor (CRISIS_APP_HMAC_SECRET, 32 bytes or more)."""

    hmac_secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.hmac_secret) < MIN_SECRET_BYTES:
            raise ChannelConfigError(
                f"{ENV_SECRET} trop court : {MIN_SECRET_BYTES} octets au moins "
                "(par exemple : openssl rand -hex 32)"
            )

    def __repr__(self) -> str:
        return "AppCredentials(hmac_secret=***)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AppCredentials:
        """Read the secret from the environment."""
        secret = env.get(ENV_SECRET, "")
        if not secret:
            raise ChannelConfigError(
                f"variable d'environnement {ENV_SECRET} absente : secret partagé avec "
                "l'éditeur de l'application mobile"
            )
        return cls(hmac_secret=secret.encode("utf-8"))


def _secret_bytes(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: bytes | str, timestamp: int | str, body: bytes) -> str:
    """The X-Crisis-Signature value: "sha256=" + hex HMAC-SHA256 of "{timestamp}.{body}"."""
    mac = hmac.new(_secret_bytes(secret), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes | str,
    timestamp: str | int,
    body: bytes,
    header: str,
    *,
    now: datetime | float,
    tolerance_s: float = 300,
) -> bool:
    """Check a request's signature (for vendors and tests): right secret, intact body, fresh.

    `now` is the receiver's time (a datetime or unix seconds); a timestamp more than
    `tolerance_s` away from it, in either direction, is rejected to stop replays.
    """
    text = str(timestamp).strip()
    if not text.isdigit() or not text.isascii():
        return False
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(now_s - int(text)) > tolerance_s:
        return False
    expected = sign(secret, text, body).encode("ascii")
    given = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


def _provider_id(response: httpx.Response, fallback: str) -> str:
    try:
        data = response.json()
    except ValueError:
        return fallback
    if isinstance(data, dict) and isinstance(data.get("id"), (str, int)) and data["id"] != "":
        return str(data["id"])
    return fallback


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def _uncertain() -> DeliveryFailed:
    return DeliveryFailed(UNCERTAIN, retryable=False, ambiguous=True)


class AppChannel:
    """Publishes alerts to the mobile application through the vendor's signed webhook."""

    name = ChannelName.APP

    def __init__(
        self,
        settings: AppSettings,
        credentials: AppCredentials,
        clock: TimeSource,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(follow_redirects=False)
        self._timeout = httpx.Timeout(settings.timeout_s)

    async def aclose(self) -> None:
        """Close the HTTP client if this channel created it."""
        if self._owns_http:
            await self._http.aclose()

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        """The JSON document sent for one message (schema in docs/app-webhook.md)."""
        title = message.subject.strip() or next(
            (line.strip() for line in message.body.splitlines() if line.strip()), ""
        )
        return {
            "id": message.idempotency_key,
            "type": "exercice" if message.exercise else "alerte",
            "crisis": message.crisis_id,
            "title": title,
            "body": message.body,
            "valid_until": _iso(message.valid_until) if message.valid_until else None,
            "sent_at": _iso(self.clock.now()),
        }

    def _headers(self, key: str, body: bytes) -> dict[str, str]:
        timestamp = int(self.clock.now().timestamp())
        return {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.credentials.hmac_secret, timestamp, body),
            "Idempotency-Key": quote(key, safe=_HEADER_SAFE),
            "Accept": "application/json",
            "User-Agent": "crisis-orchestrator (prefecture)",
        }

    def _name(self) -> str:
        return self.settings.app_name

    async def send(self, message: OutgoingMessage) -> Receipt:
        """POST the signed alert; 2xx or 409 (already received) give a receipt."""
        key = message.idempotency_key
        body = json.dumps(self.payload(message), ensure_ascii=False, separators=(",", ":"))
        raw = body.encode("utf-8")
        headers = self._headers(key, raw) | {"Content-Type": "application/json; charset=utf-8"}
        try:
            response = await self._http.post(
                self.settings.url, content=raw, headers=headers, timeout=self._timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            if is_tls_failure(exc):
                raise DeliveryFailed(
                    f"{self._name()} : certificat du serveur de l'éditeur refusé : {CHANNEL_DOWN}",
                    retryable=False,
                ) from exc
            raise DeliveryFailed(
                f"{self._name()} : serveur de l'éditeur injoignable, nouvel essai prévu",
                retryable=True,
            ) from exc
        except httpx.TransportError as exc:
            # the request left: the vendor may have recorded the alert
            raise _uncertain() from exc
        return self._receipt(response, key)

    def _receipt(self, response: httpx.Response, key: str) -> Receipt:
        status = response.status_code
        name = self._name()
        if 200 <= status < 300 or status == 409:  # 409: this id was already received
            return Receipt(provider_id=_provider_id(response, key), status="sent")
        if status in {429, 503}:
            raise DeliveryFailed(
                f"{name} : l'éditeur demande de patienter (code {status}), nouvel essai prévu",
                retryable=True,
            )
        if status in {401, 403}:
            raise DeliveryFailed(
                f"{name} : signature refusée par l'éditeur (code {status}) : {CHANNEL_DOWN}, "
                f"vérifier {ENV_SECRET} et l'heure du serveur",
                retryable=False,
            )
        if 300 <= status < 400:
            raise DeliveryFailed(
                f"{name} : redirection inattendue (code {status}) : vérifier app.url ; "
                f"{CHANNEL_DOWN}",
                retryable=False,
            )
        if 400 <= status < 500:
            raise DeliveryFailed(
                f"{name} : alerte refusée par l'éditeur (code {status}) : {CHANNEL_DOWN}",
                retryable=False,
            )
        # 500, 502, 504...: the vendor may have recorded it before failing
        raise _uncertain()

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """GET {url}/{id}: 200 known, 404 unknown; anything else stays for a human."""
        if not self.settings.lookup_enabled:
            raise _uncertain()
        key = message.idempotency_key
        url = f"{self.settings.url}/{quote(key, safe='')}"
        try:
            response = await self._http.get(
                url, headers=self._headers(key, b""), timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise _uncertain() from exc
        if response.status_code == 200:
            return Receipt(provider_id=_provider_id(response, key), status="sent")
        if response.status_code == 404:
            return None
        raise _uncertain()


def check_app(settings: AppSettings, env: Mapping[str, str]) -> list[str]:
    """Configuration problems of the mobile app channel, in French, without sending anything."""
    problems: list[str] = []
    try:
        AppCredentials.from_env(env)
    except ChannelConfigError as exc:
        problems.append(str(exc))
    problem = url_problem(settings.url)
    if problem:
        problems.append(problem)
    if not settings.app_name.strip():
        problems.append("app.app_name : nom de l'application vide")
    return problems

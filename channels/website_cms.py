"""The CMS webhook of the website channel: a signed JSON POST per publication, a GET per key.

Signature: `X-Crisis-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>` with
`X-Crisis-Timestamp` (Unix seconds, from the channel's clock); a GET signs an empty body.
`GET {webhook}/{url-encoded idempotency key}` answers 200 when the CMS has the publication,
404 when it has not (the same contract as the mobile app vendor's).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from channels.base import TimeSource
from channels.errors import DeliveryFailed

__all__ = ["BY_HAND", "HMAC_SECRET_ENV", "CmsWebhook", "check_status"]

HMAC_SECRET_ENV = "CRISIS_WEBSITE_HMAC_SECRET"  # noqa: S105 (a variable name)
BY_HAND = "publiez l'alerte à la main sur le site internet de la préfecture"
_MAYBE_ONLINE = "vérifiez la page d'alerte du site avant toute nouvelle publication"


def check_status(status: int) -> None:
    """Map the CMS's answer to a DeliveryFailed (nothing when it accepted the publication)."""
    if 200 <= status < 300:
        return
    if status in (429, 503):  # not processed: safe to try again
        raise DeliveryFailed(
            f"site internet : CMS momentanément indisponible (HTTP {status}), nouvel essai "
            "automatique",
            retryable=True,
        )
    if status >= 500:  # may have been processed before failing
        raise DeliveryFailed(
            f"site internet : erreur du CMS (HTTP {status}), l'alerte est peut-être en ligne ; "
            f"{_MAYBE_ONLINE}",
            retryable=False,
            ambiguous=True,
        )
    if status in (401, 403):
        raise DeliveryFailed(
            f"site internet : le CMS refuse la signature (HTTP {status}, secret "
            f"{HMAC_SECRET_ENV} ?) ; canal hors service, {BY_HAND}",
            retryable=False,
        )
    raise DeliveryFailed(
        f"site internet : le CMS refuse la publication (HTTP {status}) ; {BY_HAND}",
        retryable=False,
    )


class CmsWebhook:
    """Talks to the CMS: publishes one payload, or tells whether it has one."""

    def __init__(
        self,
        url: str,
        secret: str,
        clock: TimeSource,
        *,
        timeout_s: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.clock = clock
        self.timeout_s = timeout_s
        self._secret = secret.encode("utf-8")
        self._http = http
        self._owns_http = http is None

    def signed_headers(self, body: bytes, key: str) -> dict[str, str]:
        """Timestamp and HMAC-SHA256 signature of `{timestamp}.{body}`."""
        timestamp = str(int(self.clock.now().timestamp()))
        signed = timestamp.encode() + b"." + body
        digest = hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        return {
            "X-Crisis-Timestamp": timestamp,
            "X-Crisis-Signature": f"sha256={digest}",
            "Idempotency-Key": quote(key, safe=""),
        }

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        return self._http

    async def publish(self, payload: Mapping[str, Any], key: str) -> None:
        """POST the payload, or raise DeliveryFailed (retryable / ambiguous / for good)."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **self.signed_headers(body, key)}
        try:
            response = await self._client().post(
                self.url, content=body, headers=headers, timeout=self.timeout_s
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise DeliveryFailed(
                "site internet : CMS injoignable, nouvel essai automatique", retryable=True
            ) from exc
        except httpx.HTTPError as exc:  # the request left: it may have been processed
            raise DeliveryFailed(
                "site internet : le CMS n'a pas répondu à temps, l'alerte est peut-être en "
                f"ligne ; {_MAYBE_ONLINE}",
                retryable=False,
                ambiguous=True,
            ) from exc
        check_status(response.status_code)

    async def has(self, key: str) -> bool:
        """Whether the CMS has the publication: 200 yes, 404 no, anything else unknown."""
        url = self.url.rstrip("/") + "/" + quote(key, safe="")
        unknown = (
            f"site internet : impossible de savoir si le CMS a publié l'alerte ; {_MAYBE_ONLINE}"
        )
        try:
            response = await self._client().get(
                url, headers=self.signed_headers(b"", key), timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(unknown, retryable=False, ambiguous=True) from exc
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise DeliveryFailed(unknown, retryable=False, ambiguous=True)

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

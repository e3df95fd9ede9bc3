"""X (Twitter) channel: the prefecture's account posts through tweepy's API v2 `Client`.

Every post is stamped (channels/publication.py), so a resend of the same message is the same
text and X's duplicate check (403) stops a double post; long bodies become numbered threads.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import tweepy
import urllib3.exceptions

from channels.base import ChannelName, OutgoingMessage, Receipt, TimeSource
from channels.errors import DeliveryFailed
from channels.publication import (
    Stamp,
    parse_stamp,
    same_publication,
    stamp_at,
    thread,
)
from channels.x_client import (
    ENV_VARIABLES,
    XClient,
    XCredentials,
    XSettings,
    build_client,
    check_x,
)

__all__ = [
    "ENV_VARIABLES",
    "RateLimited",
    "XChannel",
    "XCredentials",
    "XSettings",
    "build_client",
    "check_x",
]

MANUAL = "publier à la main sur X le texte ci-dessous"
REFUSED = f"compte X refusé (jeton expiré ou droits insuffisants) : {MANUAL}"
_MEMORY = 2000  # messages whose stamp and posted parts are remembered


class RateLimited(DeliveryFailed):
    """X said 429: retry after `retry_after_s` seconds (None if X did not say)."""

    def __init__(self, public_reason: str, *, retry_after_s: float | None) -> None:
        super().__init__(public_reason, retryable=True, retry_after_s=retry_after_s)


class _Duplicate(Exception):
    """X refused the text as a duplicate: it is already on the account."""


T = TypeVar("T")


def _data(result: Any) -> Any:
    return result.get("data") if isinstance(result, dict) else getattr(result, "data", None)


def _field(item: Any, name: str) -> str:
    value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
    return "" if value is None else str(value)


def _refused_connection(exc: requests.ConnectionError) -> bool:
    """The request never left: connection refused, name not resolved, TLS handshake failed."""
    if isinstance(exc, requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _is_duplicate(exc: Any) -> bool:
    messages = [str(m).lower() for m in getattr(exc, "api_messages", [])]
    return any("duplicate" in message for message in messages)


class XChannel:
    """Posts public messages on the prefecture's X account; threads for long bodies."""

    name = ChannelName.X
    max_weight = 280  # weighted characters per post (URLs 23, CJK and emoji 2)
    rate = "100 posts / 15 min par compte"  # X's current tiers

    def __init__(
        self,
        settings: XSettings,
        credentials: XCredentials,
        clock: TimeSource,
        *,
        client: XClient | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.client: XClient = client if client is not None else build_client(settings, credentials)
        self._timezone = ZoneInfo(settings.timezone)
        self._stamps: OrderedDict[str, Stamp] = OrderedDict()
        self._posted: OrderedDict[str, list[str]] = OrderedDict()  # ids of public parts
        self._user_id: str | None = None

    # --- protocol ------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Post the message (a thread if needed); resumes a thread whose first parts are online."""
        if not message.body.strip():
            raise DeliveryFailed("message vide : rien à publier sur X", retryable=False)
        key = message.idempotency_key
        parts = thread(message.body, self._stamp(message))
        posted = self._remember(self._posted, key, [])
        for index in range(len(posted), len(parts)):
            reply_to = posted[-1] if posted else None
            try:
                try:
                    post_id = await self._create(parts[index], reply_to)
                except _Duplicate:
                    post_id = await self._find_duplicate(parts[index])
            except DeliveryFailed as exc:
                raise self._partial(exc, len(posted), len(parts)) from exc
            posted.append(post_id)
        return Receipt(provider_id=posted[0])

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Find the stamped first post among the account's recent posts. If a thread is only
        partly online, remember its parts and answer None: the resend completes the thread."""
        key = message.idempotency_key
        posts = await self._recent_posts()
        parts = thread(message.body, self._stamp(message))
        first = next((p for p in reversed(posts) if same_publication(p[1], parts[0])), None)
        if first is None:
            return None
        learned = parse_stamp(first[1])
        if learned is not None:  # resend with the minute already online, not a new one
            self._stamps[key] = learned
            parts = thread(message.body, learned)
        found = [first[0]]
        for part in parts[1:]:
            match = next((p for p in reversed(posts) if same_publication(p[1], part)), None)
            if match is None:
                break
            found.append(match[0])
        self._remember(self._posted, key, [])[:] = found
        if len(found) < len(parts):
            return None
        return Receipt(provider_id=found[0])

    # --- internals -----------------------------------------------------------------------

    def _remember(self, memory: OrderedDict[str, T], key: str, default: T) -> T:
        if key not in memory:
            memory[key] = default
            while len(memory) > _MEMORY:
                memory.popitem(last=False)
        memory.move_to_end(key)
        return memory[key]

    def _stamp(self, message: OutgoingMessage) -> Stamp:
        """The stamp of the first attempt, so every resend is the same text."""
        key = message.idempotency_key
        return self._remember(self._stamps, key, stamp_at(self.clock.now(), self._timezone, key))

    async def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def _create(self, text: str, reply_to: str | None) -> str:
        try:
            result = await self._call(
                self.client.create_tweet, text=text, in_reply_to_tweet_id=reply_to, user_auth=True
            )
        except tweepy.Forbidden as exc:
            if _is_duplicate(exc):
                raise _Duplicate from None
            raise DeliveryFailed(REFUSED, retryable=False) from None
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._failure(exc) from None
        post_id = _field(_data(result) or {}, "id")
        if not post_id:
            raise DeliveryFailed(
                "réponse de X sans identifiant de publication : vérifier sur X avant tout"
                " nouvel envoi",
                retryable=False,
                ambiguous=True,
            )
        return post_id

    async def _find_duplicate(self, text: str) -> str:
        """X says the text is already online: find its id."""
        posts = await self._recent_posts()
        match = next((p for p in reversed(posts) if same_publication(p[1], text)), None)
        if match is None:
            raise DeliveryFailed(
                "X indique que ce texte est déjà publié mais la publication est introuvable"
                " : vérifier sur X",
                retryable=False,
                ambiguous=True,
            )
        return match[0]

    async def _recent_posts(self) -> list[tuple[str, str]]:
        """(id, text) of the account's latest posts, newest first."""
        try:
            if self._user_id is None:
                me = await self._call(self.client.get_me, user_auth=True)
                self._user_id = _field(_data(me) or {}, "id") or None
            if self._user_id is None:
                raise DeliveryFailed(
                    "vérification impossible sur X (compte non identifié) : la publication reste"
                    " à vérifier",
                    retryable=False,
                    ambiguous=True,
                )
            result = await self._call(
                self.client.get_users_tweets,
                self._user_id,
                max_results=self.settings.lookup_count,
                user_auth=True,
            )
        except (tweepy.TweepyException, requests.RequestException) as exc:
            cause = self._failure(exc).public_reason
            raise DeliveryFailed(
                f"vérification impossible sur X ({cause}) : la publication reste à vérifier",
                retryable=False,
                ambiguous=True,
            ) from None
        return [(_field(item, "id"), _field(item, "text")) for item in _data(result) or []]

    def _failure(self, exc: Exception) -> DeliveryFailed:
        """Map a tweepy or requests error to the dispatcher's terms (French reason)."""
        if isinstance(exc, tweepy.TooManyRequests):
            return self._rate_limited(exc)
        if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
            return DeliveryFailed(REFUSED, retryable=False)
        if isinstance(exc, tweepy.BadRequest | tweepy.NotFound):
            return DeliveryFailed(
                f"X a refusé la requête (texte ou fil invalide) : {MANUAL}", retryable=False
            )
        if isinstance(exc, tweepy.TwitterServerError):
            status = exc.response.status_code
            if status == 503:  # X overloaded: the request was not taken
                return DeliveryFailed(
                    f"X indisponible (HTTP {status}) : nouvel essai automatique", retryable=True
                )
            return DeliveryFailed(
                f"X en erreur (HTTP {status}) : la publication est peut-être en ligne, vérifier"
                " avant tout nouvel envoi",
                retryable=False,
                ambiguous=True,
            )
        if isinstance(exc, requests.ConnectTimeout) or (
            isinstance(exc, requests.ConnectionError) and _refused_connection(exc)
        ):
            return DeliveryFailed(
                "X injoignable (connexion impossible) : nouvel essai automatique", retryable=True
            )
        if isinstance(exc, requests.RequestException):  # read timeout, connection cut
            return DeliveryFailed(
                "X n'a pas répondu après l'envoi : la publication est peut-être en ligne,"
                " vérifier avant tout nouvel envoi",
                retryable=False,
                ambiguous=True,
            )
        return DeliveryFailed(f"X a refusé la publication : {MANUAL}", retryable=False)

    def _rate_limited(self, exc: Any) -> RateLimited:
        headers = getattr(exc.response, "headers", {}) or {}
        reset = headers.get("x-rate-limit-reset")
        if headers.get("x-user-limit-24hour-remaining") == "0":  # daily cap of the account
            reset = headers.get("x-user-limit-24hour-reset", reset)
        wait: float | None = None
        if reset is not None and str(reset).isdigit():
            wait = max(0.0, int(reset) - self.clock.now().timestamp())
        later = "" if wait is None else f" (dans {max(1, round(wait / 60))} min)"
        return RateLimited(
            f"limite de publications X atteinte : nouvel essai automatique{later}",
            retry_after_s=wait,
        )

    def _partial(self, exc: DeliveryFailed, online: int, total: int) -> DeliveryFailed:
        """Say that a thread is partly online when a later part fails."""
        if online == 0:
            return exc
        reason = f"{exc.public_reason} (fil publié en partie : {online}/{total} en ligne)"
        if isinstance(exc, RateLimited):
            return RateLimited(reason, retry_after_s=exc.retry_after_s)
        return DeliveryFailed(reason, retryable=exc.retryable, ambiguous=exc.ambiguous)

"""X (Twitter) account access: the [x] settings, the OAuth credentials, the tweepy client
pointed at the configured base URL, and the configuration check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import tweepy
from pydantic import BaseModel, ConfigDict, Field

from channels.errors import ChannelConfigError
from channels.publication import https_problem, valid_base_url, valid_timezone
from channels.setting_checks import setting_check

__all__ = [
    "ENV_VARIABLES",
    "X_HOSTS",
    "XClient",
    "XCredentials",
    "XSettings",
    "build_client",
    "check_x",
]

X_HOSTS = frozenset({"api.twitter.com", "api.x.com"})  # tweepy hard-codes api.twitter.com
ENV_VARIABLES = {
    "api_key": "CRISIS_X_API_KEY",
    "api_secret": "CRISIS_X_API_SECRET",
    "access_token": "CRISIS_X_ACCESS_TOKEN",
    "access_secret": "CRISIS_X_ACCESS_SECRET",
}


class XSettings(BaseModel):
    """Non-secret settings of the X channel (TOML section [x])."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_base_url: str = "https://api.x.com"  # tests point it at Prism on 127.0.0.1
    timeout_s: float = Field(default=10.0, gt=0, le=120)  # per HTTP request
    timezone: str = "Europe/Paris"  # the update stamp "(màj 02:45)" is local time
    lookup_count: int = Field(default=100, ge=5, le=100)  # recent posts read by a look-up

    _base_url = setting_check("api_base_url", valid_base_url, "[x] api_base_url")
    _timezone = setting_check("timezone", valid_timezone, "[x] timezone")


@dataclass(frozen=True)
class XCredentials:
    """OAuth 1.0a user context of the prefecture's account (app key + account token)."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> XCredentials:
        """Read the four secrets; ChannelConfigError names the missing variables."""
        missing = [name for name in ENV_VARIABLES.values() if not env.get(name, "").strip()]
        if missing:
            raise ChannelConfigError(
                "X : variable(s) d'environnement absente(s) : " + ", ".join(missing)
            )
        return cls(**{attr: env[name].strip() for attr, name in ENV_VARIABLES.items()})


class _XSession(requests.Session):
    """tweepy's session with a default timeout, sending X's hosts to the configured base URL."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:  # tweepy never passes one
            kwargs["timeout"] = self.timeout_s
        url = url.decode() if isinstance(url, bytes) else url
        parts = urlsplit(url)
        if parts.hostname in X_HOSTS:
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


def build_client(settings: XSettings, credentials: XCredentials) -> Any:
    """A tweepy Client for the account: dict results, no sleeping on rate limits, timeouts."""
    client = tweepy.Client(
        consumer_key=credentials.api_key,
        consumer_secret=credentials.api_secret,
        access_token=credentials.access_token,
        access_token_secret=credentials.access_secret,
        return_type=dict,
        wait_on_rate_limit=False,  # True would sleep up to 15 minutes inside the call
    )
    client.session = _XSession(settings.api_base_url, settings.timeout_s)
    return client


class XClient(Protocol):
    """The part of tweepy.Client the channel uses (return_type=dict or the default Response)."""

    def create_tweet(self, **kwargs: Any) -> Any: ...

    def get_me(self, **kwargs: Any) -> Any: ...

    def get_users_tweets(self, id: str, **kwargs: Any) -> Any: ...


def check_x(settings: XSettings, env: Mapping[str, str]) -> list[str]:
    """Configuration problems of the X channel, in French, without calling X."""
    problems = [
        f"X : variable d'environnement {name} absente"
        for name in ENV_VARIABLES.values()
        if not env.get(name, "").strip()
    ]
    return problems + https_problem(settings.api_base_url, "[x] api_base_url")

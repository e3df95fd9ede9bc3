"""What the Twilio voice and SMS channels share: settings, credentials, the SDK's async client
(with a timeout, a pool sized for the channel and an overridable API host), webhook URLs and the
configuration check (errors are mapped in channels.twilio_errors)."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.base import is_loopback_host
from channels.errors import ChannelConfigError
from channels.twilio_http import DEFAULT_CONNECTIONS, LoopSession
from contacts.phone import E164, InvalidPhoneNumber, is_e164, to_e164

__all__ = [
    "ADVICE",
    "E164",
    "ENV_ACCOUNT_SID",
    "ENV_API_KEY_SECRET",
    "ENV_API_KEY_SID",
    "ENV_AUTH_TOKEN",
    "ClientFactory",
    "IssuedSids",
    "TwilioCredentials",
    "TwilioSettings",
    "check_twilio",
    "is_loopback_url",
    "make_client",
    "webhook_url",
]

ENV_ACCOUNT_SID = "CRISIS_TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "CRISIS_TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_API_KEY_SID = "CRISIS_TWILIO_API_KEY_SID"
ENV_API_KEY_SECRET = "CRISIS_TWILIO_API_KEY_SECRET"  # noqa: S105

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
# Twilio's alphanumeric sender ids: letters, digits, space, - + _ & ; not digits only.
ALPHA_SENDER = re.compile(r"^[A-Za-z0-9 +\-_&]{1,11}$")

# Twilio's SDK logs every request's URL and query string (a recipient's number on look-ups)
# at INFO. Its HTTP client gets this logger, outside the logging tree and quiet below WARNING.
_SDK_LOGGER = logging.Logger("channels.twilio.sdk", level=logging.WARNING)

# returns a twilio.rest.Client with an async http_client (or a test double with the same
# *_async methods and an http_client that closes)
ClientFactory = Callable[[], Any]


def is_loopback_url(url: str) -> bool:
    """Whether the URL points at this machine (tests, Prism, a local fake)."""
    return is_loopback_host(urlsplit(url).hostname)


def http_url(value: str, setting: str) -> str:
    """A URL setting, stripped: http(s) with a host, https unless on this machine;
    ValueError (French) naming the setting otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{setting} : adresse http(s) complète attendue (ex. https://...)")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"{setting} : https obligatoire (http seulement pour 127.0.0.1)")
    return value.strip()


def _base_url(value: str, setting: str) -> str:
    parts = urlsplit(http_url(value, setting))
    if parts.query or parts.fragment:
        raise ValueError(f"{setting} : ni paramètres (?) ni ancre (#) dans l'adresse de base")
    return value.strip().rstrip("/")


def valid_e164(
    value: str,
    setting: str,
    *,
    expected: str = "numéro au format international E.164 attendu (+33...)",
) -> str:
    """A phone number setting in E.164 that exists in the numbering plan; ValueError (French)
    naming the setting otherwise."""
    if not is_e164(value):
        raise ValueError(f"{setting} : {expected}")
    try:
        to_e164(value, None, fiction_is_valid=False)
    except InvalidPhoneNumber as exc:
        if exc.problem == "unreadable":
            raise ValueError(f"{setting} : {expected}") from None
        raise ValueError(f"{setting} : numéro inexistant dans le plan de numérotation") from None
    return value


def checked(check: Callable[[str, str], str], setting: str) -> AfterValidator:
    """A setting's check as its field's annotation, `Annotated[str, checked(check, "x.key")]`:
    `check(value, "x.key")` returns the value or raises ValueError in French naming the key
    (under `| None`, None is not checked)."""
    return AfterValidator(lambda value: check(value, setting))


def _caller_id(value: str, setting: str) -> str:
    expected = f"numéro au format international E.164 attendu ({value!r})"
    return valid_e164(value, setting, expected=expected)


class TwilioSettings(BaseModel):
    """The [twilio] section: non-secret settings shared by the voice and SMS channels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # tests point it at Prism or a fake
    api_base_url: Annotated[str, checked(_base_url, "twilio.api_base_url")] = (
        "https://api.twilio.com"
    )
    # The orchestrator's public address: Twilio calls back {public_base_url}/webhooks/twilio/...
    public_base_url: Annotated[str, checked(_base_url, "twilio.public_base_url")] | None = None
    # E.164 number owned by the prefecture (caller id)
    voice_from: Annotated[str, checked(_caller_id, "twilio.voice_from")] | None = None
    sms_sender: str | None = None  # alphanumeric sender id, e.g. "PREF42" (no replies possible)
    messaging_service_sid: str | None = None  # MG..., for a sender pool that can receive replies
    timeout_s: float = Field(default=10.0, gt=0, le=120)  # every HTTP request to Twilio
    ring_timeout_s: int = Field(default=30, ge=5, le=600)  # how long a phone rings
    tts_voice: str = "Polly.Lea"  # a French voice for <Say language="fr-FR">
    # How far back a look-up searches after an ambiguous send. A call cannot be matched to its
    # message (Twilio keeps no trace of our key), so the voice window is short; an SMS is
    # matched on its text, so its window can be long.
    voice_lookup_window_s: int = Field(default=900, ge=60, le=86_400)
    sms_lookup_window_s: int = Field(default=86_400, ge=60, le=7 * 86_400)

    @field_validator("sms_sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not ALPHA_SENDER.match(value) or value != value.strip():
            raise ValueError(
                "twilio.sms_sender : 1 à 11 caractères parmi lettres sans accent, chiffres, "
                "espace, - + _ & (ex. PREF42)"
            )
        if not any(ch.isalpha() for ch in value):
            raise ValueError("twilio.sms_sender : au moins une lettre (pas seulement des chiffres)")
        return value

    @field_validator("messaging_service_sid")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        if value is not None and not MESSAGING_SERVICE_SID.match(value):
            raise ValueError(
                "twilio.messaging_service_sid : identifiant MG suivi de 32 hexadécimaux"
            )
        return value

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioSettings:
        if self.sms_sender and self.messaging_service_sid:
            raise ValueError(
                "twilio : choisir sms_sender (expéditeur alphanumérique) OU messaging_service_sid, "
                "pas les deux"
            )
        return self

    def require_public_base_url(self) -> str:
        """The public base URL, or ChannelConfigError: without it Twilio cannot call us back."""
        if not self.public_base_url:
            raise ChannelConfigError(
                "twilio.public_base_url manquant : adresse https publique de l'orchestrateur, "
                "indispensable aux rappels de Twilio"
            )
        return self.public_base_url


@dataclass(frozen=True)
class TwilioCredentials:
    """Twilio secrets, read from the environment; repr shows the account only."""

    account_sid: str
    auth_token: str | None = field(default=None, repr=False)
    api_key_sid: str | None = field(default=None, repr=False)
    api_key_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioCredentials:
        """Read CRISIS_TWILIO_ACCOUNT_SID and an auth token or an API key pair."""

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        sid = get(ENV_ACCOUNT_SID)
        if sid is None:
            raise ChannelConfigError(f"{ENV_ACCOUNT_SID} manquant (identifiant de compte AC...)")
        if not ACCOUNT_SID.match(sid):
            raise ChannelConfigError(
                f"{ENV_ACCOUNT_SID} mal formé : AC suivi de 32 caractères hexadécimaux attendu"
            )
        token, key_sid, key_secret = (
            get(ENV_AUTH_TOKEN),
            get(ENV_API_KEY_SID),
            get(ENV_API_KEY_SECRET),
        )
        if (key_sid is None) != (key_secret is None):
            missing = ENV_API_KEY_SECRET if key_secret is None else ENV_API_KEY_SID
            raise ChannelConfigError(f"{missing} manquant : la clé d'API va par paire")
        if key_sid is not None and not API_KEY_SID.match(key_sid):
            raise ChannelConfigError(
                f"{ENV_API_KEY_SID} mal formé : SK suivi de 32 caractères hexadécimaux attendu"
            )
        if token is None and key_sid is None:
            raise ChannelConfigError(
                f"{ENV_AUTH_TOKEN} manquant (ou {ENV_API_KEY_SID} et {ENV_API_KEY_SECRET})"
            )
        return cls(sid, token, key_sid, key_secret)

    @property
    def webhook_token(self) -> str | None:
        """The token Twilio signs its webhooks with (X-Twilio-Signature): the auth token."""
        return self.auth_token

    def basic_auth(self) -> tuple[str, str]:
        """User and password for the REST API: the API key pair when given, else the token."""
        if self.api_key_sid is not None and self.api_key_secret is not None:
            return self.api_key_sid, self.api_key_secret
        assert self.auth_token is not None  # from_env guarantees one of the two
        return self.account_sid, self.auth_token


def make_client(
    settings: TwilioSettings,
    credentials: TwilioCredentials,
    *,
    connections: int = DEFAULT_CONNECTIONS,
) -> Any:
    """A twilio.rest.Client for the SDK's *_async methods, talking to `settings.api_base_url`:
    its AsyncTwilioHttpClient sends through a LoopSession (timeout_s on every request, at least
    `connections` connections, no retries); `await client.http_client.close()` closes it."""
    user, password = credentials.basic_auth()
    http = AsyncTwilioHttpClient(
        pool_connections=False, timeout=settings.timeout_s, logger=_SDK_LOGGER
    )
    http.session = LoopSession(settings.timeout_s, connections)
    client = Client(
        username=user,
        password=password,
        account_sid=credentials.account_sid,
        http_client=http,
    )
    # The SDK reads TWILIO_EDGE/TWILIO_REGION from os.environ and would rewrite the host;
    # here only api_base_url decides where requests go (Messages and Calls share this domain).
    client.edge = None
    client.region = None
    client.api.base_url = settings.api_base_url
    return client


def webhook_url(base: str, kind: str, key: str) -> str:
    """{base}/webhooks/twilio/{kind}?k=KEY, the key URL-encoded."""
    return f"{base}/webhooks/twilio/{kind}?k={quote(key, safe='')}"


class IssuedSids:
    """Provider ids this process received for each idempotency key (bounded memory).

    A call cannot be matched to its message at Twilio; knowing which calls were issued for
    other keys keeps a look-up from taking another message's call for this one.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._keys: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, sid: str, key: str) -> None:
        """Record that `sid` was issued for `key`."""
        self._keys[sid] = key
        self._keys.move_to_end(sid)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def belongs_elsewhere(self, sid: str, key: str) -> bool:
        """Whether `sid` is known to belong to another message."""
        owner = self._keys.get(sid)
        return owner is not None and owner != key


# --- configuration check ---------------------------------------------------------------------

ADVICE = "avertissement : "


def callback_problems(
    settings: TwilioSettings, env: Mapping[str, str], *, refused: str, purpose: str
) -> list[str]:
    """What stops Twilio from calling the orchestrator back (French): credentials, the auth
    token that checks signatures, a public address reachable from the internet. `refused`:
    what would be refused without the token; `purpose`: what Twilio fetches there."""
    problems: list[str] = []
    try:
        credentials = TwilioCredentials.from_env(env)
    except ChannelConfigError as exc:
        problems.append(str(exc))
    else:
        if credentials.webhook_token is None:
            problems.append(
                f"{ENV_AUTH_TOKEN} absent : {refused} ne peuvent pas être authentifiés et "
                "seront refusés"
            )
    if not settings.public_base_url:
        problems.append(
            "twilio.public_base_url manquant : adresse https publique de l'orchestrateur, "
            f"que Twilio appelle pour {purpose}"
        )
    elif is_loopback_url(settings.public_base_url):
        problems.append(
            f"{ADVICE}twilio.public_base_url ({settings.public_base_url}) n'est joignable "
            f"que depuis cette machine : Twilio ne pourra pas appeler l'orchestrateur pour "
            f"{purpose} (adresse de test uniquement)"
        )
    return problems


def check_twilio(
    settings: TwilioSettings, env: Mapping[str, str], *, uses_voice: bool, uses_sms: bool
) -> list[str]:
    """Configuration problems in French, found without sending anything. Entries starting
    with ADVICE ("avertissement : ") do not stop a channel from working as configured."""
    if not uses_voice and not uses_sms:
        return []
    problems = callback_problems(
        settings,
        env,
        refused="les rappels de Twilio (accusés de réception, « tapez 1 »)",
        purpose="le message vocal et les accusés de réception",
    )
    if is_loopback_url(settings.api_base_url):
        problems.append(
            f"{ADVICE}twilio.api_base_url ({settings.api_base_url}) désigne un simulateur local : "
            "aucun appel ni SMS réel ne partira"
        )
    if uses_voice and not settings.voice_from:
        problems.append(
            "twilio.voice_from manquant : numéro de la préfecture (format E.164, ex. +33...) "
            "présenté lors des appels"
        )
    if uses_sms:
        if not settings.sms_sender and not settings.messaging_service_sid:
            problems.append(
                "twilio : ni sms_sender (expéditeur alphanumérique) ni messaging_service_sid : "
                "aucun SMS ne peut partir"
            )
        elif settings.sms_sender:
            problems.append(
                f"{ADVICE}twilio.sms_sender ({settings.sms_sender}) : un expéditeur "
                "alphanumérique ne peut pas recevoir de réponse ; les SMS ne demanderont pas "
                "« Répondez 1 » (utiliser messaging_service_sid avec un numéro pour recueillir "
                "les accusés)"
            )
    return problems

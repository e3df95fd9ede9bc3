"""Settings of the website channel ([website] section), its secret, and the config check."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from channels.base import is_loopback_host
from channels.cap import Certainty, Severity, Urgency
from channels.errors import ChannelConfigError
from channels.publication import valid_timezone
from channels.setting_checks import setting_check
from channels.website_cms import HMAC_SECRET_ENV
from channels.website_pages import WebsiteState

__all__ = ["HMAC_SECRET_ENV", "WebsiteCredentials", "WebsiteSettings", "check_website"]

STATE_FILE = "state.json"


def _check_url(value: str | None, setting: str) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting} doit être une adresse http(s) complète : {value!r}")
    return value


class WebsiteSettings(BaseModel):
    """Section [website]: where the alert is published and how the CAP alerts are signed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    output_dir: Path | None = None  # static files (alerte.html, bandeau.html, atom.xml, cap.xml)
    cms_webhook_url: str | None = None  # POST of each publication, signed HMAC-SHA256
    public_url: str  # the public alert page, e.g. https://www.loire.gouv.fr/alerte
    feed_url: str | None = None  # public URL of the folder serving output_dir (default public_url/)
    cap_sender: str  # CAP <sender>, e.g. pref-loire@interieur.gouv.fr
    prefecture_name: str = "Préfecture de la Loire"
    prefecture_code: str = "42"  # in CAP identifiers urn:crisis:<code>:<hash>
    area_desc: str = "Département de la Loire"  # CAP <areaDesc> when the crisis gives none
    timezone: str = "Europe/Paris"
    urgency: Urgency = "Immediate"
    severity: Severity = "Severe"
    certainty: Certainty = "Observed"
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    feed_entries: int = Field(default=50, ge=1, le=1000)
    state_dir: Path | None = None  # where state.json lives (default output_dir)

    @field_validator("cms_webhook_url", "public_url", "feed_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_url(value, f"[website] {info.field_name}")

    @field_validator("cap_sender")
    @classmethod
    def _cap_sender(cls, value: str) -> str:
        if not value or any(c in value for c in " \t\n,<&"):
            raise ValueError(
                "[website] cap_sender ne doit contenir ni espace, ni virgule, ni < ni &"
            )
        return value

    _zone = setting_check("timezone", valid_timezone, "[website] timezone")

    @model_validator(mode="after")
    def _somewhere(self) -> WebsiteSettings:
        if self.output_dir is None and self.cms_webhook_url is None:
            raise ValueError(
                "[website] indiquez output_dir (fichiers statiques) ou cms_webhook_url "
                "(webhook du CMS), ou les deux"
            )
        return self

    @property
    def files_url(self) -> str:
        """Public URL of the folder serving output_dir, ending with '/'."""
        return (self.feed_url or self.public_url).rstrip("/") + "/"

    @property
    def state_path(self) -> Path | None:
        """The channel's memory (None: kept in memory only, lost on restart)."""
        folder = self.state_dir or self.output_dir
        return None if folder is None else folder / STATE_FILE


@dataclass(frozen=True)
class WebsiteCredentials:
    """The secret shared with the CMS to sign webhook calls (env CRISIS_WEBSITE_HMAC_SECRET)."""

    hmac_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, require_secret: bool = False
    ) -> WebsiteCredentials:
        """Read the secret; required only when a CMS webhook is configured."""
        secret = env.get(HMAC_SECRET_ENV, "").strip() or None
        if require_secret and secret is None:
            raise ChannelConfigError(
                f"site internet : la variable d'environnement {HMAC_SECRET_ENV} est requise "
                "quand [website] cms_webhook_url est configuré"
            )
        return cls(hmac_secret=secret)


def _folder_problems(folder: Path, setting: str) -> list[str]:
    if not folder.exists():
        return [f"[website] {setting} : le répertoire {folder} n'existe pas"]
    if not folder.is_dir():
        return [f"[website] {setting} : {folder} n'est pas un répertoire"]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [f"[website] {setting} : pas de droit d'écriture dans le répertoire {folder}"]
    cap = folder / "cap"
    if setting == "output_dir" and cap.exists() and not os.access(cap, os.W_OK | os.X_OK):
        return [f"[website] {setting} : pas de droit d'écriture dans le répertoire {cap}"]
    return []


def _url_problems(value: str | None, setting: str) -> list[str]:
    if value is None:
        return []
    parts = urlsplit(value)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        return [f"[website] {setting} doit être une adresse https : {value}"]
    return []


def check_website(settings: WebsiteSettings, env: Mapping[str, str]) -> list[str]:
    """Configuration problems of the website channel, in French, without publishing anything."""
    problems: list[str] = []
    if settings.output_dir is not None:
        problems += _folder_problems(settings.output_dir, "output_dir")
    if settings.state_dir is not None:
        problems += _folder_problems(settings.state_dir, "state_dir")
    state_path = settings.state_path
    if state_path is not None and state_path.is_file():
        try:
            WebsiteState.model_validate_json(state_path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            problems.append(f"[website] le fichier d'état {state_path} est illisible")
    for setting in ("public_url", "feed_url", "cms_webhook_url"):
        problems += _url_problems(getattr(settings, setting), setting)
    if settings.cms_webhook_url is not None:
        secret = env.get(HMAC_SECRET_ENV, "").strip()
        if not secret:
            problems.append(
                f"[website] la variable d'environnement {HMAC_SECRET_ENV} manque (elle signe "
                "les appels au webhook du CMS)"
            )
        elif len(secret) < 32:
            problems.append(
                f"[website] la variable d'environnement {HMAC_SECRET_ENV} est trop courte "
                "(32 caractères au moins)"
            )
        if state_path is None:
            problems.append(
                "[website] sans output_dir ni state_dir, l'état des publications est perdu au "
                "redémarrage : les mises à jour ne référenceront plus les alertes précédentes"
            )
    return problems

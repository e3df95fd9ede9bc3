"""Configuration: pydantic models for the TOML file; the environment overrides it."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from channels.base import ChannelName, is_loopback_host
from channels.catalog import CATALOG, PROVIDER_SECTIONS
from channels.publication import valid_timezone
from crisis.model import Authority


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PrefectureSettings(_Section):
    """Who we are."""

    name: str = "Préfecture de la Loire"
    departement: str = "42"
    timezone: str = "Europe/Paris"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return valid_timezone(value, "[prefecture] timezone")

    @property
    def zone(self) -> ZoneInfo:
        """The prefecture's time zone: times shown to people are local, with the zone."""
        return ZoneInfo(self.timezone)


DATABASE_URL_EXAMPLES = "sqlite:///var/crisis.db ou postgresql+psycopg://utilisateur@hote/base"


class DatabaseSettings(_Section):
    """Where the truth lives. CRISIS_DATABASE_URL overrides it."""

    url: str = "sqlite:///var/crisis.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        # SQLite or PostgreSQL through psycopg 3 (the only drivers installed); never echo the
        # URL itself in the message: it may carry a password
        scheme, sep, rest = value.strip().partition("://")
        scheme = scheme.lower()
        if not sep or not scheme.replace("+", "").isalnum():
            raise ValueError(
                f"URL de base de données illisible (attendu : {DATABASE_URL_EXAMPLES})"
            )
        if scheme == "postgresql":  # SQLAlchemy's default driver (psycopg2) is not installed
            return f"postgresql+psycopg://{rest}"
        if scheme not in {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}:
            raise ValueError(
                f"base « {scheme} » non prise en charge : SQLite ou PostgreSQL seulement "
                f"(attendu : {DATABASE_URL_EXAMPLES})"
            )
        return value.strip()


class PlaybookSettings(_Section):
    """Where playbooks and templates are read (default: the shipped library)."""

    library_dir: Path | None = None
    templates_dir: Path | None = None


class DirectorySettings(_Section):
    """Who can be reached.

    `demo`: Loire communes, synthetic officials on fiction numbers, training records and
    rosters for the next days. `database`: the directory stored in the database by
    `crisis contacts import` (or `crisis contacts seed-demo`), re-read after each change.
    """

    source: Literal["demo", "database"] = "demo"
    communes_file: Path | None = None
    seed: int = 42


class SimulationSettings(_Section):
    """Behaviour of a simulated channel's recipients."""

    latency_ms: float = Field(default=200, ge=0)
    ack_rate: float = Field(default=0.0, ge=0, le=1)
    ack_delay_s: tuple[float, float] = (60.0, 600.0)
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    seed: int = 1


# "simulated", or a real provider the channel's catalog row names (checked by Settings).
Provider = str


class ChannelSettings(_Section):
    """One channel: its provider and its physical limits."""

    provider: Provider = "simulated"
    rate_per_second: float = Field(default=1.0, gt=0)
    burst: int = Field(default=1, ge=1)
    concurrency: int = Field(default=10, ge=1)
    simulation: SimulationSettings = SimulationSettings()


def _default_channels() -> dict[ChannelName, ChannelSettings]:
    # each channel at its catalog rate (the providers and rates are the channel catalog's)
    return {
        name: ChannelSettings(rate_per_second=row.default_rate) for name, row in CATALOG.items()
    }


class RetrySettings(_Section):
    """Retry policy for sends that failed without risk of duplication."""

    max_attempts: int = Field(default=5, ge=1)
    base_delay_s: float = Field(default=5.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    max_delay_s: float = Field(default=300.0, gt=0)


class EngineSettings(_Section):
    """Decision tuning."""

    late_grace: timedelta = timedelta(minutes=1)  # a step run later than this is journaled late
    # a T0 further back than this is refused unless the préfet or directeur de cabinet confirms
    t0_max_age: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))


class PublicSettings(_Section):
    """The public accounts publications go to."""

    website: str = "https://www.loire.gouv.fr"
    x: str = "@Prefet42"
    facebook: str = "prefet42"
    app: str = "application-mobile"
    standard: str = "standard-prefecture"  # the switchboard whose message is updated


class WebSettings(_Section):
    """The HTTP server for provider callbacks (Twilio) and the acknowledgement links, started
    by `crisis run` when needed."""

    host: str = "127.0.0.1"  # behind the prefecture's reverse proxy (TLS ends there)
    port: int = Field(default=8080, ge=1, le=65535)
    # public https address of this server: with it (and CRISIS_WEB_SECRET in the environment),
    # messages asking for an acknowledgement carry a signed link "Je confirme la réception"
    public_base_url: str | None = None
    ack_links: tuple[ChannelName, ...] = (ChannelName.EMAIL,)

    @field_validator("public_base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value)
        local = parsed.hostname is not None and is_loopback_host(parsed.hostname)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("adresse publique en https attendue (http seulement vers 127.0.0.1)")
        return value.rstrip("/")


class ExerciseSettings(_Section):
    """Exercises: simulated channels by default."""

    # true: the participants of an exercise (its allow-list, frozen at T0) get real messages
    # through the configured providers; everybody else stays simulated, whatever the config
    real_sends: bool = False


class Settings(_Section):
    """The whole configuration."""

    prefecture: PrefectureSettings = PrefectureSettings()
    database: DatabaseSettings = DatabaseSettings()
    data_dir: Path = Path("var")
    playbooks: PlaybookSettings = PlaybookSettings()
    directory: DirectorySettings = DirectorySettings()
    channels: dict[ChannelName, ChannelSettings] = Field(default_factory=_default_channels)
    retry: RetrySettings = RetrySettings()
    engine: EngineSettings = EngineSettings()
    public: PublicSettings = PublicSettings()
    web: WebSettings = WebSettings()
    exercise: ExerciseSettings = ExerciseSettings()
    # system accounts (login) and their authority: agent, sous_prefet, directeur_cabinet, prefet;
    # the CIP's opening and closing are orders of the préfet (directeur_cabinet or above)
    accounts: dict[str, Authority] = Field(default_factory=dict)
    # Real providers' tables ([twilio], [smtp], …, [standard]: the channel catalog's sections),
    # kept raw here: each is checked by its bootstrap builder row when the channel is built.
    sections: dict[str, dict[str, object]] = Field(default_factory=dict)
    cip: dict[str, object] | None = None  # the CIP's numéro unique and its queue (Twilio)

    @model_validator(mode="before")
    @classmethod
    def _provider_sections(cls, value: object) -> object:
        # [twilio], [smtp]… are top-level tables in the TOML; they are gathered in `sections`
        if not isinstance(value, dict):
            return value
        found = {k: v for k, v in value.items() if k in PROVIDER_SECTIONS and v is not None}
        rest = {k: v for k, v in value.items() if k not in PROVIDER_SECTIONS}
        return {**rest, "sections": {**rest.get("sections", {}), **found}} if found else rest

    def section(self, name: str) -> dict[str, object] | None:
        """A real provider's table as written ([twilio], [smtp]…), None when absent."""
        return self.sections.get(name)

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_defaults(cls, value: object) -> object:
        # a [channels.sms] block that omits the rate keeps the SMS rate, not the generic one
        if isinstance(value, dict):
            return {
                name: {"rate_per_second": CATALOG[ChannelName(name)].default_rate, **cfg}
                if isinstance(cfg, dict) and name in set(ChannelName)
                else cfg
                for name, cfg in value.items()
            }
        return value

    @field_validator("channels")
    @classmethod
    def _every_channel(
        cls, value: dict[ChannelName, ChannelSettings]
    ) -> dict[ChannelName, ChannelSettings]:
        for name, cfg in value.items():
            providers = CATALOG[name].providers
            if cfg.provider not in providers:
                allowed = ", ".join(sorted(providers))
                raise ValueError(
                    f"canal {name.value} : fournisseur « {cfg.provider} » impossible "
                    f"(possibles : {allowed})"
                )
        return {**_default_channels(), **value}

    def providers_in_use(self) -> dict[str, list[ChannelName]]:
        """Real providers the channels use, with the channels using each."""
        used: dict[str, list[ChannelName]] = {}
        for name, cfg in self.channels.items():
            if cfg.provider != "simulated":
                used.setdefault(cfg.provider, []).append(name)
        return used


class SettingsError(ValueError):
    """A configuration that cannot be used: file, key and reason (French)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def validation_problems(exc: ValidationError, section: str = "") -> list[str]:
    """pydantic's errors in French, each naming its key (under `section` when given)."""
    prefix = f"{section}." if section else ""
    return [f"clé « {prefix}{_where(e['loc'])} » : {_french(e['msg'])}" for e in exc.errors()]


def _where(loc: tuple[int | str, ...]) -> str:
    if loc[:1] == ("sections",):  # a provider's table is written [twilio], not [sections.twilio]
        loc = loc[1:]
    return ".".join(str(part) for part in loc) or "(racine)"


def _french(message: str) -> str:
    message = message.removeprefix("Value error, ")
    if message == "Extra inputs are not permitted":
        return "clé inconnue"
    return message


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and apply the environment (CRISIS_DATABASE_URL)."""
    env = env or {}
    data: dict[str, object] = {}
    name = str(path) if path else "(configuration par défaut)"
    if path is not None:
        data = _read_toml(path, name)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(
            [f"{name}, {problem}" for problem in validation_problems(exc)]
        ) from None
    url = env.get("CRISIS_DATABASE_URL")
    if url:
        try:
            database = DatabaseSettings(url=url)
        except ValidationError as exc:
            raise SettingsError(
                [
                    f"variable d'environnement CRISIS_DATABASE_URL : {p.partition(' : ')[2]}"
                    for p in validation_problems(exc)
                ]
            ) from None
        settings = settings.model_copy(update={"database": database})
    return settings


def _read_toml(path: Path, name: str) -> dict[str, object]:
    """The TOML table of the configuration file, or a SettingsError naming the file and why."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError([f"{name} : fichier introuvable"]) from None
    except IsADirectoryError:
        raise SettingsError([f"{name} : c'est un dossier, un fichier TOML est attendu"]) from None
    except PermissionError:
        raise SettingsError([f"{name} : lecture refusée (droits du fichier)"]) from None
    except OSError as exc:
        raise SettingsError([f"{name} : fichier illisible ({exc.strerror or exc})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            [
                f"{name} : encodage non UTF-8 (octet n° {exc.start + 1}) ; enregistrer le fichier "
                "en UTF-8"
            ]
        ) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{name} : TOML invalide : {exc}"]) from None

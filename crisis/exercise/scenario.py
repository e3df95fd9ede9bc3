"""Exercise scenarios (49, 49.1, 49.2, 49.3): a TOML file validated into a frozen model.

A scenario gives the event (kind, area, T0, SYNERGI reference), the participants (who the
exercise may reach), the timed injects, the media-pressure profile, the CIP activation with its
simulated callers, and how the simulated cell answers in an unattended run. Every mistake is a
`ScenarioError` naming the file, the location (`injects[2].at`) and why, in French.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contacts.area import AreaError, Geography, ResolvedArea, parse_area, resolve_area
from contacts.phone import InvalidPhoneNumber, to_e164
from crisis.exercise.errors import Located, ScenarioError, translate
from crisis.exercise.offsets import Offset, format_offset, parse_offset
from playbooks.kinds import KnownEventKind

__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_OUTLETS",
    "LIBRARY",
    "Buzz",
    "CallerPoint",
    "CellProfile",
    "CipProfile",
    "Inject",
    "MediaProfile",
    "Participants",
    "Peak",
    "Scenario",
    "ScenarioError",
    "format_offset",
    "load_scenario",
    "parse_offset",
]

LIBRARY = Path(__file__).parent / "library"

# Outlets a Loire prefecture's press office hears from in a crisis. The journalists the
# simulator invents are fictional; the outlets are the real ones, as an exercise needs.
DEFAULT_OUTLETS = (
    "France Bleu Saint-Étienne Loire",
    "Le Progrès",
    "France 3 Auvergne-Rhône-Alpes",
    "BFM Lyon",
    "AFP",
    "L'Essor",
    "TL7 Télévision Loire",
    "Activ Radio",
    "RCF Saint-Étienne",
    "BFMTV",
)
MediaKind = Literal["appel", "courriel", "mention", "question", "interview"]
DEFAULT_MIX: dict[MediaKind, float] = {
    "appel": 0.35,
    "courriel": 0.2,
    "mention": 0.2,
    "question": 0.15,
    "interview": 0.1,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _range(value: tuple[float, float], what: str) -> tuple[float, float]:
    low, high = value
    if low < 0 or high < low:
        raise ValueError(f"{what} : intervalle [min, max] attendu avec 0 ≤ min ≤ max")
    return value


class Participants(_Frozen):
    """Who the exercise may reach: directory contacts by id, plus extra allow-listed addresses
    (a test phone, an exercise mailbox, the exercise accounts on the social networks)."""

    contacts: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()  # normalised to E.164 on load
    emails: tuple[str, ...] = ()  # casefolded on load
    x: tuple[str, ...] = ()  # exercise accounts ("@Pref42_Exercice")
    facebook: tuple[str, ...] = ()
    website: tuple[str, ...] = ()  # an exercise site's address
    app: tuple[str, ...] = ()

    @field_validator("contacts")
    @classmethod
    def _unique_contacts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        doubles = sorted({c for c in value if value.count(c) > 1})
        if doubles:
            raise ValueError(f"contacts en double : {', '.join(doubles)}")
        return value

    @field_validator("phones")
    @classmethod
    def _e164(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        numbers = []
        for index, raw in enumerate(value):
            try:
                numbers.append(to_e164(raw))
            except InvalidPhoneNumber as exc:
                raise Located(f"participants.phones[{index}]", str(exc)) from None
        return tuple(dict.fromkeys(numbers))

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        addresses = []
        for index, raw in enumerate(value):
            address = raw.strip().casefold()
            local, at, domain = address.partition("@")
            if not (local and at and "." in domain) or " " in address:
                raise Located(f"participants.emails[{index}]", "adresse électronique invalide")
            addresses.append(address)
        return tuple(dict.fromkeys(addresses))


class Inject(_Frozen):
    """One timed event the animation team plays to the cell ("T0+12: la RD 1082 est coupée")."""

    id: str = ""  # "inj-01"... given in time order when the file leaves it out
    at: Offset  # minutes after T0
    text: str = Field(min_length=1)
    rumour: bool = False  # a rumour to deny: the media simulator makes a buzz of it


class Peak(_Frozen):
    """The rise of media requests after each publication, decaying exponentially."""

    factor: float = Field(default=2.5, ge=1, le=20)  # rate multiplier right after publishing
    decay_minutes: float = Field(default=20, gt=0, le=240)


class Buzz(_Frozen):
    """The surge of requests while a rumour runs (after a rumour inject)."""

    factor: float = Field(default=3.0, ge=1, le=20)
    minutes: float = Field(default=30, gt=0, le=240)


class MediaProfile(_Frozen):
    """Simulated media pressure (49.2): rate curve, peaks, buzz, outlets, kinds of request."""

    enabled: bool = True
    base_per_hour: float = Field(default=8, ge=0, le=600)
    curve: Literal["calm", "rising"] = "rising"
    rising_factor: float = Field(default=3, ge=1, le=20)  # "rising": rate at the end vs start
    peak: Peak = Peak()
    buzz: Buzz = Buzz()
    outlets: tuple[str, ...] = Field(default=DEFAULT_OUTLETS, min_length=1)
    mix: dict[MediaKind, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))

    @field_validator("mix")
    @classmethod
    def _weights(cls, value: dict[MediaKind, float]) -> dict[MediaKind, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("poids positifs attendus, dont au moins un non nul")
        return value


class CallerPoint(_Frozen):
    """A point of the callers' curve: calls per hour at a time after T0 (linear in between)."""

    at: Offset
    per_hour: float = Field(ge=0, le=3600)


class CipProfile(_Frozen):
    """CIP activation in the exercise (49.3) and its simulated callers."""

    activate: bool = False
    at: Offset | None = None  # T0 CIP as planned
    number: str | None = None  # the exercise number (E.164, a fiction number in tests)
    agents: tuple[str, ...] = ()  # contact ids of the CIP agents on duty
    callers: tuple[CallerPoint, ...] = ()  # empty: 30 calls per hour
    talk_minutes: tuple[float, float] = (2.0, 6.0)
    patience_minutes: tuple[float, float] = (1.0, 6.0)  # before a waiting caller hangs up
    voicemail_after_minutes: float = Field(default=4.0, gt=0)  # everybody busy that long
    queue_limit: int = Field(default=10, ge=0)  # more waiting: overflow message

    @field_validator("number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return to_e164(value)
        except InvalidPhoneNumber as exc:
            raise ValueError(str(exc)) from None

    @field_validator("talk_minutes", "patience_minutes")
    @classmethod
    def _ranges(cls, value: tuple[float, float]) -> tuple[float, float]:
        return _range(value, "durée en minutes")

    @model_validator(mode="after")
    def _activation(self) -> CipProfile:
        if self.activate:
            if self.at is None:
                raise Located("cip.at", 'heure d\'activation du CIP manquante, par ex. "T0+25"')
            if self.number is None:
                raise Located("cip.number", "numéro d'exercice du CIP manquant")
            if not self.agents:
                raise Located("cip.agents", "au moins un agent CIP de permanence attendu")
        return self


class CellProfile(_Frozen):
    """How the simulated cell behaves in an unattended run (no human at the keyboard)."""

    answer_delay_minutes: tuple[float, float] = (3.0, 15.0)  # press office's first answer
    approval_delay_minutes: float = Field(default=4.0, ge=0)  # four-eyes approval of publications
    press_officers: tuple[str, ...] = ()  # contact ids who answer journalists

    @field_validator("answer_delay_minutes")
    @classmethod
    def _ranges(cls, value: tuple[float, float]) -> tuple[float, float]:
        return _range(value, "délai de réponse en minutes")


class Scenario(_Frozen):
    """An exercise as the animation team wrote it. Injects are kept in time order."""

    title: str = Field(min_length=1)
    kind: KnownEventKind  # a kind without its playbooks/kinds.py row: refused at load time
    area: str  # as contacts.area reads it: "42218 42207", "epci:244200770", "arr:421", "dep"
    t0: datetime | Literal["now"] = "now"
    synergi_ref: str = Field(min_length=1)
    duration: int = Field(default=120, ge=60, le=240)  # minutes
    speed: float = Field(default=1, ge=1, le=60)  # default acceleration of the clock
    seed: int = 1
    participants: Participants = Participants()
    injects: tuple[Inject, ...] = ()
    media: MediaProfile = MediaProfile()
    cip: CipProfile = CipProfile()
    cell: CellProfile = CellProfile()

    @field_validator("area")
    @classmethod
    def _area(cls, value: str) -> str:
        parse_area(value.replace(" ", ","))  # AreaError is a ValueError: French, reported
        return value

    @field_validator("t0", mode="before")
    @classmethod
    def _t0_form(cls, value: object) -> object:
        # TOML gives a datetime; refuse numbers (pydantic would read them as Unix timestamps).
        if isinstance(value, datetime) or value == "now":
            return value
        raise ValueError(
            'T0 attendu sous la forme 2026-03-12T09:00:00+01:00 (sans guillemets) ou "now"'
        )

    @field_validator("t0")
    @classmethod
    def _aware(cls, value: datetime | str) -> datetime | str:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(
                'T0 sans fuseau horaire : écrivez par ex. 2026-03-12T09:00:00+01:00, ou "now"'
            )
        return value

    @field_validator("injects")
    @classmethod
    def _timeline(cls, value: tuple[Inject, ...], info: ValidationInfo) -> tuple[Inject, ...]:
        duration = info.data.get("duration")
        for index, inject in enumerate(value):
            if duration is not None and inject.at >= duration:
                raise Located(
                    f"injects[{index}].at",
                    f"injection à {format_offset(inject.at)} après la fin de l'exercice "
                    f"({format_offset(duration)})",
                )
        ordered = sorted(enumerate(value), key=lambda pair: (pair[1].at, pair[0]))
        taken = {inject.id for inject in value if inject.id}
        result: list[Inject] = []
        seen: set[str] = set()
        number = 0
        for index, given in ordered:
            if given.id in seen:
                raise Located(f"injects[{index}].id", f"identifiant en double « {given.id} »")
            inject = given
            if not inject.id:
                number += 1
                while f"inj-{number:02d}" in taken:
                    number += 1
                inject = given.model_copy(update={"id": f"inj-{number:02d}"})
            seen.add(inject.id)
            result.append(inject)
        return tuple(result)

    @model_validator(mode="after")
    def _within(self) -> Scenario:
        for name, offset in (("cip.at", self.cip.at),):
            if offset is not None and offset >= self.duration:
                raise Located(name, f"{format_offset(offset)} est après la fin de l'exercice")
        for index, point in enumerate(self.cip.callers):
            if point.at > self.duration:
                raise Located(
                    f"cip.callers[{index}].at",
                    f"{format_offset(point.at)} est après la fin de l'exercice",
                )
        return self

    def t0_at(self, now: datetime) -> datetime:
        """T0 of a run started at `now` (the scenario's T0 when it fixes one)."""
        return now if self.t0 == "now" else self.t0

    def inject_time(self, inject: Inject, t0: datetime) -> datetime:
        """When an inject is due in a run whose T0 is `t0`."""
        return t0 + timedelta(minutes=inject.at)

    def resolve(self, geography: Geography) -> ResolvedArea:
        """The communes of the scenario's area (AreaError, French, if unknown)."""
        return resolve_area(parse_area(self.area.replace(" ", ",")), geography)

    @property
    def rumours(self) -> tuple[Inject, ...]:
        """The rumour injects, in time order."""
        return tuple(i for i in self.injects if i.rumour)


def load_scenario(
    path: Path,
    *,
    geography: Geography | None = None,
    known_contacts: Collection[str] | None = None,
) -> Scenario:
    """Read and validate a scenario file.

    With `geography`, the area must resolve to known communes; with `known_contacts` (directory
    ids), every participant, CIP agent and press officer must exist. Raises ScenarioError.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ScenarioError(path, "", "fichier illisible ou introuvable") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", f"syntaxe TOML invalide ({exc})") from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise translate(path, exc, Scenario) from None
    if geography is not None:
        try:
            scenario.resolve(geography)
        except AreaError as exc:
            raise ScenarioError(path, "area", str(exc)) from None
    if known_contacts is not None:
        for location, ids in (
            ("participants.contacts", scenario.participants.contacts),
            ("cip.agents", scenario.cip.agents),
            ("cell.press_officers", scenario.cell.press_officers),
        ):
            for index, contact_id in enumerate(ids):
                if contact_id not in known_contacts:
                    raise ScenarioError(
                        path,
                        f"{location}[{index}]",
                        f"contact inconnu de l'annuaire « {contact_id} »",
                    )
    return scenario

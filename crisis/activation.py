"""Pure rules of a COD activation: is its T0 plausible, and is it an event already recorded.

One rule for every interface (CLI, dashboard, API), on top of the idempotency keys: the
same SYNERGI reference (or the same kind and T0) is the same event. Declaring it again returns
the event already recorded; declaring it with another kind, T0 or area is refused with the
reason, unless the préfet or the directeur de cabinet confirms that it is another event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crisis.model import CIP_AUTHORITY, Authority, Crisis, Mode
from crisis.timefmt import local_label
from playbooks.model import EventKind

T0_FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks differ a little between SYNERGI and us
T0_CONFIRMED_LIMIT = timedelta(days=30)  # even confirmed, an older T0 is not an activation
CONFIRMING_AUTHORITY = CIP_AUTHORITY  # the préfet's delegation: directeur de cabinet or above
REASON_MAX = 500

__all__ = [
    "CONFIRMING_AUTHORITY",
    "ActivationConflict",
    "ActivationError",
    "Confirmation",
    "MalformedActivation",
    "Match",
    "T0TooOld",
    "check_confirmation",
    "check_t0",
    "differences",
    "match",
    "same_reference",
]


class ActivationError(ValueError):
    """An activation that cannot be recorded (French reason)."""


class MalformedActivation(ActivationError):
    """A field of the activation that is not of the expected form (a bad argument)."""


class ActivationConflict(ActivationError):
    """The SYNERGI reference (or kind and T0) is an event already recorded with other values."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class T0TooOld(ActivationError):
    """A T0 further back than the configured limit, not confirmed by the préfet's delegation."""


@dataclass(frozen=True)
class Confirmation:
    """The préfet's or directeur de cabinet's explicit go for what the rules would refuse.

    `authority` is the account's, as the interface authenticated it (never typed); `reason`
    is journaled with the activation.
    """

    authority: Authority
    reason: str
    other_event: bool = False  # another event under a SYNERGI reference already recorded
    old_t0: bool = False  # a T0 further back than the configured limit


@dataclass(frozen=True)
class Match:
    """What the crises already recorded make of a new activation."""

    duplicate: Crisis | None = None  # the same event: nothing is created
    overridden: Crisis | None = None  # a conflicting event, confirmed as another one


def check_confirmation(
    confirmation: Confirmation | None,
    what: str = "confirmer une activation que les règles refusent",
) -> None:
    """A confirmation (or a rectification, `what`) needs the préfet's delegation and a reason;
    refused in French otherwise."""
    if confirmation is None:
        return
    if confirmation.authority.rank < CONFIRMING_AUTHORITY.rank:
        raise ActivationError(
            f"{what} est une décision du préfet : seul le directeur de cabinet ou le préfet peut "
            f"l'enregistrer (autorité de votre compte : {confirmation.authority.label})"
        )
    reason = confirmation.reason.strip()
    if not reason:
        raise ActivationError(f"indiquez le motif (pour {what}) : il est inscrit au journal")
    if len(reason) > REASON_MAX:
        raise ActivationError(f"motif trop long ({REASON_MAX} caractères au plus)")


def check_t0(
    t0: datetime,
    now: datetime,
    max_age: timedelta,
    tz: ZoneInfo,
    confirmation: Confirmation | None = None,
) -> bool:
    """Refuse an implausible T0 in French; True when it needed (and had) the old-T0 go."""
    if t0.tzinfo is None or t0.utcoffset() is None:
        raise ActivationError("l'heure du temps 0 doit préciser son fuseau horaire")
    if t0 > now + T0_FUTURE_TOLERANCE:
        raise ActivationError(
            f"le temps 0 ({local_label(t0, tz)}) est dans le futur : indiquez l'heure "
            "d'activation du COD enregistrée dans SYNERGI"
        )
    age = now - t0
    if age > T0_CONFIRMED_LIMIT:
        raise ActivationError(
            f"le temps 0 ({local_label(t0, tz)}) remonte à plus de "
            f"{T0_CONFIRMED_LIMIT.days} jours : ce n'est pas une activation du COD à enregistrer"
        )
    if age <= max_age:
        return False
    if confirmation is None or not confirmation.old_t0:
        raise T0TooOld(
            f"le temps 0 ({local_label(t0, tz)}) remonte à {_duration(age)}, au-delà de la "
            f"limite de {_duration(max_age)} : vérifiez la date ; si elle est juste, le préfet "
            "ou le directeur de cabinet doit confirmer ce temps 0, avec le motif"
        )
    return True


def same_reference(a: str, b: str) -> bool:
    """SYNERGI references compared as people type them: case and surrounding spaces ignored."""
    return a.strip().casefold() == b.strip().casefold()


def differences(
    existing: Crisis, kind: EventKind, t0: datetime, synergi_ref: str, communes: Sequence[str]
) -> list[str]:
    """What an activation changes with respect to an event already recorded (French)."""
    found = []
    if existing.kind != kind:
        found.append(f"type d'événement : « {kind.label} » au lieu de « {existing.kind.label} »")
    if existing.t0 != t0:
        found.append("temps 0")
    if not same_reference(existing.synergi_ref, synergi_ref):
        found.append(f"référence SYNERGI : {synergi_ref.strip()} au lieu de {existing.synergi_ref}")
    if set(existing.communes) != set(communes):
        found.append("communes concernées")
    return found


def match(
    candidates: Sequence[Crisis],
    *,
    kind: EventKind,
    t0: datetime,
    synergi_ref: str,
    communes: Sequence[str],
    mode: Mode,
    tz: ZoneInfo,
    confirmation: Confirmation | None = None,
) -> Match:
    """The event an activation repeats, or ActivationConflict, or a new event (Match())."""
    related = [
        c
        for c in candidates
        if c.mode == mode
        and (same_reference(c.synergi_ref, synergi_ref) or (c.kind == kind and c.t0 == t0))
    ]
    for existing in related:
        if not differences(existing, kind, t0, synergi_ref, communes):
            return Match(duplicate=existing)
    if not related:
        return Match()
    existing = related[0]
    if confirmation is not None and confirmation.other_event:
        return Match(overridden=existing)
    found = differences(existing, kind, t0, synergi_ref, communes)
    if "temps 0" in found:
        found[found.index("temps 0")] = (
            f"temps 0 : {local_label(t0, tz)} au lieu de {local_label(existing.t0, tz)}"
        )
    why = (
        f"la référence SYNERGI {existing.synergi_ref} est déjà celle de l'événement "
        if same_reference(existing.synergi_ref, synergi_ref)
        else "un événement du même type avec le même temps 0 est déjà enregistré : "
    )
    raise ActivationConflict(
        f"{why}{existing.id}, enregistré avec d'autres valeurs ({' ; '.join(found)}). "
        "La zone et le temps 0 d'un événement sont figés : pour corriger un temps 0, le préfet "
        "ou le directeur de cabinet le rectifie ; s'il s'agit bien d'un autre événement, il doit "
        "le confirmer, avec le motif",
        existing.id,
    )


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} jours"
    minutes = int(delta.total_seconds() // 60) % 60
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} heures"

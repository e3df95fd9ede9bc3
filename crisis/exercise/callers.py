"""Simulated callers of the CIP in an exercise (49.3, issue 6 item 6): a seeded flow of calls to
the exercise number, queued for the CIP agents on duty, ending as `CipCallEnded` facts.

Pure and deterministic. Arrivals are drawn per one-minute bucket from an RNG seeded by
(seed, minute index) at the rate of the scenario's callers curve, so they do not depend on how
time is cut. The queue is first come, first served: a call is answered by the agent free the
longest; a caller whose wait would pass their patience hangs up ("abandonne"), or leaves a
voicemail ("message") if the wait reaches `voicemail_after_minutes` first; a call arriving
while `queue_limit` callers already wait gets the overflow message ("debordement").
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from statistics import mean
from typing import NamedTuple

from crisis.exercise.draws import poisson, seeded
from crisis.exercise.scenario import CallerPoint, CipProfile, Scenario
from crisis.model import CipCallEnded
from playbooks.kinds import EventKind, kind_row

__all__ = ["DEFAULT_CALLERS_PER_HOUR", "CallFigures", "CallerSimulator", "TimedCall", "figures"]

BUCKET = timedelta(minutes=1)
DEFAULT_CALLERS_PER_HOUR = 30.0
VOICEMAIL_SECONDS = 45.0  # time a caller takes to leave a message
_QUESTIONS = {
    "proches": (
        "Je n'arrive pas à joindre ma mère qui habite à {commune}, avez-vous des nouvelles ?",
        "Mon fils travaille à {commune}, comment savoir s'il est en sécurité ?",
    ),
    "ecoles": (
        "Mes enfants sont à l'école à {commune}, où puis-je aller les chercher ?",
        "Les écoles de {commune} ouvriront-elles demain ?",
    ),
    "routes": (
        "Puis-je prendre la route pour rentrer à {commune} ?",
        "Quelles routes sont fermées autour de {commune} ?",
    ),
    "evacuation": (
        "Dois-je quitter mon logement à {commune} ?",
        "Où se trouve le centre d'hébergement le plus proche de {commune} ?",
    ),
    "consignes": (
        "L'eau du robinet est-elle potable à {commune} ?",
        "Que dois-je faire pour protéger ma maison à {commune} ?",
    ),
    "rumeur": ("J'ai vu sur internet {that_rumour} : est-ce vrai ?",),
}
_TOPIC_WEIGHTS = {
    "proches": 3.0,
    "ecoles": 2.0,
    "routes": 2.0,
    "evacuation": 2.0,
    "consignes": 1.5,
    "rumeur": 1.0,
}


def _that(clause: str) -> str:
    """The clause after "que", elided before a vowel ("qu'un barrage…", "que le courant…")."""
    return f"qu'{clause}" if clause[:1].lower() in "aeiouéèêàâîô" else f"que {clause}"


class TimedCall(NamedTuple):
    """A simulated call and the time it ended (when the fact is journaled)."""

    ended_at: datetime
    fact: CipCallEnded


@dataclass(frozen=True)
class _Arrival:
    call_id: str
    at: datetime
    patience: float  # seconds
    talk: float  # seconds
    topic: str


def _interpolate(points: Sequence[CallerPoint], minute: float) -> float:
    """Calls per hour at `minute` after T0: linear between the curve's points, flat outside."""
    ordered = sorted(points, key=lambda p: p.at)
    if not ordered:
        return DEFAULT_CALLERS_PER_HOUR
    if minute <= ordered[0].at:
        return ordered[0].per_hour
    for left, right in itertools.pairwise(ordered):
        if minute <= right.at:
            if right.at == left.at:
                return right.per_hour
            share = (minute - left.at) / (right.at - left.at)
            return left.per_hour + share * (right.per_hour - left.per_hour)
    return ordered[-1].per_hour


def _ended(
    arrival: _Arrival, outcome: str, waited: float, talked: float = 0.0, agent: str | None = None
) -> TimedCall:
    fact = CipCallEnded.model_validate(
        {
            "call_id": arrival.call_id,
            "outcome": outcome,
            "started_at": arrival.at,
            "waited_seconds": round(waited, 1),
            "talked_seconds": round(talked, 1),
            "agent_id": agent,
            "topic": arrival.topic,
        }
    )
    end = arrival.at + timedelta(seconds=waited + talked)
    if outcome == "message":
        end += timedelta(seconds=VOICEMAIL_SECONDS)
    return TimedCall(end, fact)


class CallerSimulator:
    """The calls to the CIP's exercise number from its activation to the end of the exercise."""

    def __init__(
        self,
        profile: CipProfile,
        *,
        seed: int,
        t0: datetime,
        duration_minutes: int,
        kind: EventKind,
        communes: Sequence[str],
        activated_at: datetime | None = None,
        agents: Sequence[str] | None = None,
        rumour_from_minute: int | None = None,
    ) -> None:
        """`activated_at`: T0 CIP as it happened (default: the scenario's `cip.at`);
        `agents`: contact ids on duty (default: the scenario's `cip.agents`);
        `rumour_from_minute`: from then on callers ask about the rumour (None: never)."""
        if t0.tzinfo is None:
            raise ValueError("T0 doit porter un fuseau horaire")
        self.profile = profile
        self.seed = seed
        self.t0 = t0
        self.duration_minutes = duration_minutes
        self.kind = kind
        self.flavour = kind_row(kind).flavour  # UnknownEventKind (French) for a kind without row
        self.communes = tuple(communes) or ("ma commune",)
        planned = t0 + timedelta(minutes=profile.at or 0)
        self.activated_at = activated_at or planned
        self.agents = tuple(profile.agents if agents is None else agents)
        self.rumour_from_minute = rumour_from_minute
        if not self.agents:
            raise ValueError("aucun agent CIP de permanence pour répondre aux appels")

    @classmethod
    def for_scenario(
        cls,
        scenario: Scenario,
        *,
        t0: datetime,
        communes: Sequence[str],
        activated_at: datetime | None = None,
        agents: Sequence[str] | None = None,
    ) -> CallerSimulator:
        """The callers of a scenario run from `t0` (communes: names, most populated first)."""
        return cls(
            scenario.cip,
            seed=scenario.seed,
            t0=t0,
            duration_minutes=scenario.duration,
            kind=scenario.kind,
            communes=communes,
            activated_at=activated_at,
            agents=agents,
            rumour_from_minute=scenario.rumours[0].at if scenario.rumours else None,
        )

    def rate_per_hour(self, minute: int) -> float:
        """Calls per hour in the minute bucket `minute` after T0 (0 before T0 CIP)."""
        start = self.t0 + minute * BUCKET
        if not 0 <= minute < self.duration_minutes or start < self.activated_at:
            return 0.0
        return _interpolate(self.profile.callers, minute)

    @cached_property
    def _arrivals(self) -> tuple[_Arrival, ...]:
        arrivals: list[_Arrival] = []
        profile = self.profile
        for minute in range(self.duration_minutes):
            rng = seeded(self.seed, "cip", minute)
            count = poisson(rng, self.rate_per_hour(minute) / 60)
            start = self.t0 + minute * BUCKET
            for second in sorted(rng.uniform(0, 60) for _ in range(count)):
                patience = rng.uniform(*profile.patience_minutes) * 60
                talk = rng.uniform(*profile.talk_minutes) * 60
                topic = self._question(rng, minute)
                number = len(arrivals) + 1
                at = start + timedelta(seconds=second)
                arrivals.append(_Arrival(f"EX-APPEL-{number:03d}", at, patience, talk, topic))
        return tuple(arrivals)

    def _question(self, rng: random.Random, minute: int) -> str:
        weights = dict(_TOPIC_WEIGHTS)
        if self.rumour_from_minute is None or minute < self.rumour_from_minute:
            weights["rumeur"] = 0.0
        topic = rng.choices(list(weights), weights=list(weights.values()))[0]
        commune = self.communes[min(int(rng.expovariate(0.6)), len(self.communes) - 1)]
        text = rng.choice(_QUESTIONS[topic]).format(
            commune=commune, that_rumour=_that(self.flavour.rumour)
        )
        return f"{topic} : {text}"

    @cached_property
    def _calls(self) -> tuple[TimedCall, ...]:
        profile = self.profile
        free_at = dict.fromkeys(self.agents, self.activated_at)
        leaves_queue: list[datetime] = []  # when each queued caller left the queue
        voicemail_after = profile.voicemail_after_minutes * 60
        calls: list[TimedCall] = []
        for arrival in self._arrivals:
            waiting = sum(1 for left in leaves_queue if left > arrival.at)
            # The agent free the longest (ties: roster order) takes the next caller.
            agent = min(self.agents, key=lambda a: free_at[a])
            start = max(arrival.at, free_at[agent])
            wait = (start - arrival.at).total_seconds()

            if wait > 0 and waiting >= profile.queue_limit:
                calls.append(_ended(arrival, "debordement", 0.0))
            elif wait > min(arrival.patience, voicemail_after):
                gave_up = min(arrival.patience, voicemail_after)
                leaves_queue.append(arrival.at + timedelta(seconds=gave_up))
                outcome = "abandonne" if arrival.patience < voicemail_after else "message"
                calls.append(_ended(arrival, outcome, gave_up))
            else:
                if wait > 0:
                    leaves_queue.append(start)
                free_at[agent] = start + timedelta(seconds=arrival.talk)
                calls.append(_ended(arrival, "repondu", wait, arrival.talk, agent))
        return tuple(sorted(calls, key=lambda c: (c.ended_at, c.fact.call_id)))

    def calls_between(self, start: datetime, end: datetime) -> list[TimedCall]:
        """The calls that ENDED in [start, end), in order: journal each at its `ended_at`."""
        return [call for call in self._calls if start <= call.ended_at < end]

    def all_calls(self) -> list[TimedCall]:
        """Every call of the run, in the order they ended."""
        return list(self._calls)


@dataclass(frozen=True)
class CallFigures:
    """The CIP figures of a set of calls (for the runner's summary; the REX recomputes them)."""

    calls: int
    answered: int
    abandoned: int
    messages: int
    overflow: int
    mean_wait_seconds: float  # over answered calls
    max_wait_seconds: float
    answered_by_agent: dict[str, int]


def figures(calls: Sequence[CipCallEnded]) -> CallFigures:
    """Counts per outcome, waiting times of answered calls, answered calls per agent."""
    answered = [c for c in calls if c.outcome == "repondu"]
    by_agent: dict[str, int] = {}
    for call in answered:
        if call.agent_id is not None:
            by_agent[call.agent_id] = by_agent.get(call.agent_id, 0) + 1
    waits = [c.waited_seconds for c in answered]
    return CallFigures(
        calls=len(calls),
        answered=len(answered),
        abandoned=sum(1 for c in calls if c.outcome == "abandonne"),
        messages=sum(1 for c in calls if c.outcome == "message"),
        overflow=sum(1 for c in calls if c.outcome == "debordement"),
        mean_wait_seconds=mean(waits) if waits else 0.0,
        max_wait_seconds=max(waits, default=0.0),
        answered_by_agent=by_agent,
    )

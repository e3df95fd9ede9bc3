"""The media-pressure simulator (49.2): simulated journalists call, write, mention and ask for
interviews at a rate that follows the scenario's curve, with French questions drawn from it.

Pure and deterministic. Time after T0 is cut into fixed one-minute buckets; each bucket draws
its requests from an RNG seeded by (seed, minute index), at the rate the stimuli known BEFORE the
bucket started give (publications raise a peak, rumour injects a buzz). So asking minute by
minute or for the whole hour gives the same requests, and a later stimulus never changes what
earlier minutes produced. Only ask for buckets that have ended (end <= now) with every stimulus
seen so far.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple, TypeVar

from contacts.demo import FIRST_NAMES, SURNAMES
from crisis.exercise.draws import poisson, seeded
from crisis.exercise.scenario import MediaKind, MediaProfile, Scenario
from crisis.journal.view import is_published
from crisis.model import DeliveryAttempted, InjectPlayed, JournalEntry, MediaRequestReceived
from playbooks.kinds import EventKind, kind_row

__all__ = [
    "DEFAULT_ROADS",
    "MediaSimulator",
    "SimulatedAnswer",
    "Stimulus",
    "TimedRequest",
    "simulated_answers",
    "stimuli_from_journal",
]

BUCKET = timedelta(minutes=1)
JOURNALISTS_PER_OUTLET = 3
DEFAULT_ROADS = ("RD 1082", "RN 88", "A72", "RD 8", "RD 1498")  # Loire roads the press knows
_ROAD = re.compile(r"\b(?:RD|RN|D|N|A)\s?\d{1,4}\b")

# (topic, question templates). Placeholders: {event}, {events}, {commune}, {road}, {rumour}.
_QUESTIONS: dict[str, tuple[str, ...]] = {
    "victimes": (
        "Pouvez-vous confirmer un bilan humain ? Y a-t-il des victimes à {commune} ?",
        "Combien de blessés à ce stade, et des personnes sont-elles portées disparues ?",
        "Des personnes sont-elles encore bloquées chez elles à {commune} ?",
    ),
    "evacuations": (
        "Combien de personnes ont été évacuées à {commune}, et quels quartiers sont concernés ?",
        "Une évacuation plus large est-elle envisagée après {event} ?",
        "Les habitants de {commune} doivent-ils quitter leur domicile ?",
    ),
    "routes": (
        "La {road} est-elle toujours coupée ? Quels itinéraires de déviation ?",
        "Quelles routes sont fermées autour de {commune} ?",
        "Peut-on circuler sur la {road} ce soir ?",
    ),
    "ecoles": (
        "Les écoles de {commune} sont-elles fermées demain ?",
        "Les parents peuvent-ils venir chercher leurs enfants à l'école à {commune} ?",
        "Les transports scolaires sont-ils maintenus ?",
    ),
    "hebergement": (
        "Où les personnes évacuées sont-elles hébergées cette nuit ?",
        "Combien de places dans le centre d'hébergement ouvert à {commune} ?",
    ),
    "rumeur": (
        "On lit sur les réseaux sociaux : « {rumour} ». Confirmez-vous ?",
        "Pouvez-vous démentir ou confirmer l'information qui circule : « {rumour} » ?",
        "Nos auditeurs nous signalent : « {rumour} ». Qu'en est-il ?",
    ),
    "mesures": (
        "Quelles mesures la préfecture a-t-elle prises face à {events} ?",
        "Le COD est-il activé et qui le dirige ?",
        "Quels moyens de secours sont engagés à {commune} ?",
        "Quelles consignes donnez-vous à la population de {commune} ?",
    ),
    "retour_normale": (
        "Quand prévoyez-vous un retour à la normale à {commune} ?",
        "La {road} va-t-elle rouvrir et quand les habitants pourront-ils rentrer chez eux ?",
        "Une reconnaissance de l'état de catastrophe naturelle sera-t-elle demandée ?",
    ),
}
_KIND_FORMS: dict[MediaKind, str] = {
    "appel": "{question}",
    "courriel": "Bonjour, dans le cadre de notre couverture de {event} : {question} Cordialement.",
    "mention": "{handle} {question} {hashtag}",
    "question": "Question posée en commentaire de votre publication : {question}",
    "interview": "Demande d'interview du préfet ou du directeur de cabinet : {question}",
}
_ANSWERS = {
    "rumeur": "Démenti : information vérifiée auprès des services, elle est fausse ; "
    "renvoi vers le communiqué de la préfecture.",
    "victimes": "Bilan communiqué selon le dernier point de situation du COD, sans extrapolation.",
}
_DEFAULT_ANSWER = "Réponse apportée à partir du dernier communiqué validé de la préfecture."


@dataclass(frozen=True)
class Stimulus:
    """Something that moves the press: a publication of the prefecture, or a rumour inject."""

    at: datetime
    kind: Literal["publication", "rumeur"]
    text: str = ""  # the rumour as the inject tells it


class TimedRequest(NamedTuple):
    """A simulated request and the time it reaches the press office."""

    at: datetime
    fact: MediaRequestReceived


class SimulatedAnswer(NamedTuple):
    """The simulated press officer's first answer to a request (unattended runs)."""

    at: datetime
    request_id: str
    answerer: str
    answer: str


_K = TypeVar("_K", bound=str)


def _weighted(rng: random.Random, weights: Mapping[_K, float]) -> _K:
    items = [(k, w) for k, w in weights.items() if w > 0]
    point = rng.random() * sum(w for _, w in items)
    for key, weight in items:
        point -= weight
        if point < 0:
            return key
    return items[-1][0]


class MediaSimulator:
    """Simulated journalists for one exercise run (see the module doc for the bucket rule)."""

    def __init__(
        self,
        profile: MediaProfile,
        *,
        seed: int,
        t0: datetime,
        kind: EventKind,
        duration_minutes: int,
        communes: Sequence[str],
        injects: Sequence[str] = (),
        handle: str = "@Prefet42",
    ) -> None:
        if t0.tzinfo is None:
            raise ValueError("T0 doit porter un fuseau horaire")
        self.profile = profile
        self.seed = seed
        self.t0 = t0
        self.kind = kind
        self.flavour = kind_row(kind).flavour  # UnknownEventKind (French) for a kind without row
        self.duration_minutes = duration_minutes
        self.communes = tuple(communes) or ("la commune",)
        found = [" ".join(m.split()) for text in injects for m in _ROAD.findall(text)]
        self.roads = tuple(dict.fromkeys(found)) or DEFAULT_ROADS
        self.handle = handle

    @classmethod
    def for_scenario(
        cls, scenario: Scenario, *, t0: datetime, communes: Sequence[str], handle: str = "@Prefet42"
    ) -> MediaSimulator:
        """The simulator of a scenario run from `t0`; `communes`: names of the area's communes,
        most populated first (they get most of the questions)."""
        return cls(
            scenario.media,
            seed=scenario.seed,
            t0=t0,
            kind=scenario.kind,
            duration_minutes=scenario.duration,
            communes=communes,
            injects=[i.text for i in scenario.injects],
            handle=handle,
        )

    # --- rate --------------------------------------------------------------------------------

    def rate_per_hour(self, minute: int, stimuli: Sequence[Stimulus] = ()) -> float:
        """Requests per hour in the minute bucket `minute` after T0, from the stimuli known at
        its start: base x curve x (1 + publication peaks + rumour buzz)."""
        profile = self.profile
        if not profile.enabled or not 0 <= minute < self.duration_minutes:
            return 0.0
        curve = 1.0
        if profile.curve == "rising":
            curve += (profile.rising_factor - 1) * minute / self.duration_minutes
        start = self.t0 + minute * BUCKET
        extra = 0.0
        for stimulus in stimuli:
            elapsed = (start - stimulus.at).total_seconds() / 60
            if elapsed < 0:
                continue  # not known yet when the bucket started
            if stimulus.kind == "publication":
                extra += (profile.peak.factor - 1) * math.exp(-elapsed / profile.peak.decay_minutes)
            elif elapsed < profile.buzz.minutes:
                extra += profile.buzz.factor - 1
        return profile.base_per_hour * curve * (1 + extra)

    # --- requests ----------------------------------------------------------------------------

    def _count(self, minute: int, stimuli: Sequence[Stimulus]) -> tuple[random.Random, int]:
        rng = seeded(self.seed, "media", minute)
        return rng, poisson(rng, self.rate_per_hour(minute, stimuli) / 60)

    def requests_between(
        self, start: datetime, end: datetime, stimuli: Sequence[Stimulus] = ()
    ) -> list[TimedRequest]:
        """The requests arriving in [start, end), in time order, ids "P-001"... numbered from
        T0 (the same whatever the interval is cut into)."""
        if end <= start:
            return []
        first = max(0, math.floor((start - self.t0) / BUCKET))
        last = min(self.duration_minutes - 1, math.floor((end - self.t0) / BUCKET))
        number = sum(self._count(m, stimuli)[1] for m in range(first))
        found: list[TimedRequest] = []
        for minute in range(first, last + 1):
            rng, count = self._count(minute, stimuli)
            for request in self._bucket(rng, minute, count, number, stimuli):
                if start <= request.at < end:
                    found.append(request)
            number += count
        return found

    def _bucket(
        self,
        rng: random.Random,
        minute: int,
        count: int,
        number: int,
        stimuli: Sequence[Stimulus],
    ) -> list[TimedRequest]:
        bucket_start = self.t0 + minute * BUCKET
        seconds = sorted(rng.uniform(0, 60) for _ in range(count))
        rumour = self._rumour(bucket_start, stimuli)
        return [
            TimedRequest(
                bucket_start + timedelta(seconds=second),
                self._request(rng, minute, number + index + 1, rumour),
            )
            for index, second in enumerate(seconds)
        ]

    def _rumour(self, start: datetime, stimuli: Sequence[Stimulus]) -> tuple[str, bool] | None:
        """The latest rumour known at `start`, and whether it is still buzzing."""
        known = [s for s in stimuli if s.kind == "rumeur" and s.at <= start]
        if not known:
            return None
        latest = max(known, key=lambda s: s.at)
        elapsed = (start - latest.at).total_seconds() / 60
        return latest.text or "une information alarmante", elapsed < self.profile.buzz.minutes

    def _topic_weights(self, minute: int, rumour: tuple[str, bool] | None) -> dict[str, float]:
        progress = minute / self.duration_minutes
        return {
            "victimes": 3.0 - progress,
            "evacuations": 3.0 * (1 - progress) + 0.5,
            "routes": 2.0,
            "ecoles": 1.5,
            "hebergement": 0.5 + 2 * min(progress, 0.5),
            "mesures": 2.5,
            "retour_normale": 4.0 * progress**2,
            "rumeur": 0.0 if rumour is None else (8.0 if rumour[1] else 0.8),
        }

    def _request(
        self, rng: random.Random, minute: int, number: int, rumour: tuple[str, bool] | None
    ) -> MediaRequestReceived:
        profile = self.profile
        kind = _weighted(rng, profile.mix)
        outlet = rng.choice(profile.outlets)
        journalist = self._journalist(outlet, rng.randrange(JOURNALISTS_PER_OUTLET))
        topic = _weighted(rng, self._topic_weights(minute, rumour))
        # Bigger communes get more questions: the first names of the list weigh more.
        commune = self.communes[min(int(rng.expovariate(0.6)), len(self.communes) - 1)]
        flavour = self.flavour
        question = rng.choice(_QUESTIONS[topic]).format(
            event=flavour.event,
            events=flavour.events,
            commune=commune,
            road=rng.choice(self.roads),
            rumour=rumour[0] if rumour else "",
        )
        text = _KIND_FORMS[kind].format(
            question=question, event=flavour.event, handle=self.handle, hashtag=flavour.hashtag
        )
        return MediaRequestReceived(
            request_id=f"P-{number:03d}",
            kind=kind,
            outlet=outlet,
            journalist=journalist,
            topic=topic,
            question=text[0].upper() + text[1:],
            simulated=True,
        )

    def _journalist(self, outlet: str, index: int) -> str:
        """A fictional journalist of the outlet: the same few names recur across the run."""
        rng = seeded(self.seed, "journalist", outlet, index)
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def stimuli_from_journal(entries: Sequence[JournalEntry]) -> list[Stimulus]:
    """The stimuli of a run as its journal shows them: each step published to the public (its
    first public send, whatever the number of public channels: one peak per publication) and
    each rumour inject played."""
    stimuli: list[Stimulus] = []
    published: set[str] = set()
    for entry in entries:
        fact = entry.fact
        if isinstance(fact, InjectPlayed) and fact.rumour:
            stimuli.append(Stimulus(entry.at, "rumeur", fact.text))
        elif (
            isinstance(fact, DeliveryAttempted)
            and fact.channel.is_public
            and is_published(fact)
            and fact.step_id not in published
        ):
            published.add(fact.step_id)
            stimuli.append(Stimulus(entry.at, "publication"))
    return stimuli


def simulated_answers(
    requests: Sequence[TimedRequest],
    *,
    seed: int,
    delay_minutes: tuple[float, float],
    answerers: Sequence[str],
) -> list[SimulatedAnswer]:
    """A simulated press office for unattended runs: each request answered after a delay drawn
    in `delay_minutes`, by one of `answerers` (contact ids). Deterministic per (seed, request)."""
    if not answerers:
        raise ValueError("aucun chargé de relations presse pour répondre aux journalistes")
    low, high = delay_minutes
    answers = []
    for request in requests:
        rng = seeded(seed, "answer", request.fact.request_id)
        delay = timedelta(minutes=rng.uniform(low, high))
        answers.append(
            SimulatedAnswer(
                request.at + delay,
                request.fact.request_id,
                rng.choice(list(answerers)),
                _ANSWERS.get(request.fact.topic, _DEFAULT_ANSWER),
            )
        )
    return sorted(answers, key=lambda a: (a.at, a.request_id))

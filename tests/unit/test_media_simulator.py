"""The media-pressure simulator: seeded, independent of how time is cut, and answering the
scenario's stimuli (a peak after each publication, a buzz after a rumour inject)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from channels.base import ChannelName
from contacts.demo import FIRST_NAMES, SURNAMES
from crisis.exercise.media import (
    MediaSimulator,
    Stimulus,
    TimedRequest,
    simulated_answers,
    stimuli_from_journal,
)
from crisis.exercise.scenario import LIBRARY, MediaProfile, load_scenario
from crisis.model import SYSTEM, DeliveryAttempted, InjectPlayed, JournalEntry
from playbooks.model import Engagement, EventKind

T0 = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
COMMUNES = ("Saint-Étienne", "Saint-Chamond", "Firminy", "Rive-de-Gier")
RUMOUR = "un barrage aurait cédé en amont de Rochetaillée"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def simulator(seed: int = 7, **profile: object) -> MediaSimulator:
    return MediaSimulator(
        MediaProfile.model_validate(profile),
        seed=seed,
        t0=T0,
        kind=EventKind.INONDATION,
        duration_minutes=120,
        communes=COMMUNES,
        injects=["La RD 1082 est coupée", "La RN 88 est inondée"],
    )


def whole(sim: MediaSimulator, stimuli: list[Stimulus] | None = None) -> list[TimedRequest]:
    return sim.requests_between(T0, T0 + minutes(120), stimuli or [])


STIMULI = [
    Stimulus(T0 + minutes(20), "publication"),
    Stimulus(T0 + minutes(33), "rumeur", RUMOUR),
    Stimulus(T0 + minutes(61.5), "publication"),
]


def test_same_seed_gives_the_same_requests():
    """Two simulators with the same seed and stimuli produce identical requests."""
    first = whole(simulator(seed=11), STIMULI)
    assert len(first) > 20
    assert first == whole(simulator(seed=11), STIMULI)


def test_different_seed_gives_different_requests():
    """Another seed is another exercise."""
    assert whole(simulator(seed=11), STIMULI) != whole(simulator(seed=12), STIMULI)


def test_minute_by_minute_equals_the_whole_run_equals_random_cuts():
    """Cutting the run into minutes, or into irregular slices, gives the same list."""
    sim = simulator(seed=3)
    expected = whole(sim, STIMULI)
    by_minute = [
        r
        for m in range(120)
        for r in sim.requests_between(T0 + minutes(m), T0 + minutes(m + 1), STIMULI)
    ]
    assert by_minute == expected
    rng = random.Random(5)
    cuts = sorted({T0, T0 + minutes(120), *(T0 + minutes(rng.uniform(0, 120)) for _ in range(17))})
    sliced = [r for a, b in itertools.pairwise(cuts) for r in sim.requests_between(a, b, STIMULI)]
    assert sliced == expected


def test_a_later_stimulus_does_not_rewrite_earlier_minutes():
    """What was generated before a publication stays as it was once the publication is known."""
    sim = simulator(seed=4)
    before = sim.requests_between(T0, T0 + minutes(60), STIMULI[:2])
    after = sim.requests_between(T0, T0 + minutes(60), STIMULI)  # + publication at T0+61.5
    assert before == after


def test_request_ids_are_numbered_from_t0_in_time_order():
    """ "P-001", "P-002"...: stable ids, in order of arrival, even for a late slice."""
    sim = simulator(seed=5)
    requests = whole(sim, STIMULI)
    assert [r.fact.request_id for r in requests] == [
        f"P-{i:03d}" for i in range(1, len(requests) + 1)
    ]
    assert [r.at for r in requests] == sorted(r.at for r in requests)
    late = sim.requests_between(T0 + minutes(90), T0 + minutes(95), STIMULI)
    assert late == [r for r in requests if T0 + minutes(90) <= r.at < T0 + minutes(95)]


def test_nothing_before_t0_after_the_end_or_when_disabled():
    """The simulator is quiet outside the exercise, and off when the profile says so."""
    sim = simulator(seed=6, base_per_hour=60)
    assert sim.requests_between(T0 - minutes(30), T0, STIMULI) == []
    assert sim.requests_between(T0 + minutes(120), T0 + minutes(200), STIMULI) == []
    assert whole(simulator(seed=6, base_per_hour=60, enabled=False), STIMULI) == []


def _count(sim: MediaSimulator, stimuli: list[Stimulus], start: float, end: float) -> int:
    return len(sim.requests_between(T0 + minutes(start), T0 + minutes(end), stimuli))


def test_a_publication_raises_a_peak_that_decays():
    """After a publication, the rate jumps by the peak factor and decays; counts follow."""
    publication = [Stimulus(T0 + minutes(30), "publication")]
    sim = simulator(seed=8, curve="calm", base_per_hour=30, peak={"factor": 4, "decay_minutes": 15})
    assert sim.rate_per_hour(30, publication) == pytest.approx(120)
    assert sim.rate_per_hour(45, publication) == pytest.approx(30 * (1 + 3 / 2.718281828), rel=1e-3)
    assert sim.rate_per_hour(29, publication) == pytest.approx(30)
    quiet = sum(
        _count(simulator(seed=s, curve="calm", base_per_hour=30), [], 30, 50) for s in range(20)
    )
    loud = sum(
        _count(
            simulator(
                seed=s, curve="calm", base_per_hour=30, peak={"factor": 4, "decay_minutes": 15}
            ),
            publication,
            30,
            50,
        )
        for s in range(20)
    )
    assert loud > 1.8 * quiet  # expected ratio ≈ 2.9 over these 20 minutes


def test_a_rumour_inject_makes_a_buzz_of_questions_about_it():
    """During the buzz the count rises and the rumour is quoted in the questions."""
    rumour = [Stimulus(T0 + minutes(40), "rumeur", RUMOUR)]
    profile = {"curve": "calm", "base_per_hour": 20, "buzz": {"factor": 4, "minutes": 30}}
    assert simulator(**profile).rate_per_hour(55, rumour) == pytest.approx(80)
    assert simulator(**profile).rate_per_hour(70, rumour) == pytest.approx(20)  # buzz over
    quiet = sum(_count(simulator(seed=s, **profile), [], 40, 70) for s in range(20))
    buzz = [
        r
        for s in range(20)
        for r in simulator(seed=s, **profile).requests_between(
            T0 + minutes(40), T0 + minutes(70), rumour
        )
    ]
    assert len(buzz) > 2.5 * quiet  # expected ratio 4
    about = [r for r in buzz if r.fact.topic == "rumeur"]
    assert len(about) > len(buzz) / 3
    assert all(RUMOUR in r.fact.question for r in about)
    assert not any(
        r.fact.topic == "rumeur" for s in range(20) for r in whole(simulator(seed=s, **profile))
    )


def test_rising_curve_ends_higher_than_it_starts():
    """ "rising": the rate grows from the base to base x rising_factor over the exercise."""
    sim = simulator(curve="rising", base_per_hour=10, rising_factor=3)
    assert sim.rate_per_hour(0) == pytest.approx(10)
    assert sim.rate_per_hour(60) == pytest.approx(20)
    assert simulator(curve="calm", base_per_hour=10).rate_per_hour(60) == pytest.approx(10)


def test_content_is_french_and_drawn_from_the_scenario():
    """Outlets from the profile, fictional journalists, communes and roads of the scenario."""
    requests = [r for s in range(5) for r in whole(simulator(seed=s, base_per_hour=40), STIMULI)]
    facts = [r.fact for r in requests]
    profile = MediaProfile()
    assert {f.outlet for f in facts} <= set(profile.outlets)
    assert {f.kind for f in facts} == {"appel", "courriel", "mention", "question", "interview"}
    assert {"victimes", "evacuations", "routes", "ecoles", "rumeur", "mesures"} <= {
        f.topic for f in facts
    }
    for fact in facts:
        first, _, last = fact.journalist.partition(" ")
        assert first in FIRST_NAMES and last in SURNAMES
        assert fact.simulated
    text = " ".join(f.question for f in facts)
    assert "Saint-Étienne" in text and "RD 1082" in text and "RN 88" in text
    assert "?" in text and "@Prefet42" in text and "interview" in text
    # In one run the same journalists recur for an outlet: a small pool per outlet.
    per_outlet: dict[str, set[str]] = {}
    for fact in (r.fact for r in whole(simulator(seed=1, base_per_hour=60), STIMULI)):
        per_outlet.setdefault(fact.outlet, set()).add(fact.journalist)
    assert all(len(names) <= 3 for names in per_outlet.values())


def test_the_flood_exercise_yields_pressure_over_its_ninety_minutes():
    """The shipped scenario, with its rumour injects played on time, gives dozens of requests."""
    scenario = load_scenario(LIBRARY / "inondation_furan.toml")
    sim = MediaSimulator.for_scenario(scenario, t0=T0, communes=COMMUNES)
    stimuli = [Stimulus(scenario.inject_time(i, T0), "rumeur", i.text) for i in scenario.rumours]
    requests = sim.requests_between(T0, T0 + minutes(scenario.duration), stimuli)
    assert 30 <= len(requests) <= 150
    assert requests == MediaSimulator.for_scenario(
        scenario, t0=T0, communes=COMMUNES
    ).requests_between(T0, T0 + minutes(90), stimuli)


def test_simulated_answers_are_seeded_and_within_the_delay_range():
    """The simulated press office answers every request after 3 to 15 minutes, reproducibly."""
    requests = whole(simulator(seed=9), STIMULI)
    answers = simulated_answers(
        requests, seed=9, delay_minutes=(3, 15), answerers=["presse-1", "presse-2"]
    )
    assert answers == simulated_answers(
        requests, seed=9, delay_minutes=(3, 15), answerers=["presse-1", "presse-2"]
    )
    assert answers != simulated_answers(
        requests, seed=10, delay_minutes=(3, 15), answerers=["presse-1", "presse-2"]
    )
    arrived = {r.fact.request_id: r for r in requests}
    assert sorted(a.request_id for a in answers) == sorted(arrived)
    for answer in answers:
        request = arrived[answer.request_id]
        assert minutes(3) <= answer.at - request.at <= minutes(15)
        assert answer.answerer in {"presse-1", "presse-2"}
        if request.fact.topic == "rumeur":
            assert answer.answer.startswith("Démenti")
    assert [a.at for a in answers] == sorted(a.at for a in answers)
    with pytest.raises(ValueError, match="chargé de relations presse"):
        simulated_answers(requests, seed=9, delay_minutes=(3, 15), answerers=[])


def test_stimuli_are_read_from_the_journal():
    """One publication per step (its first public send), every rumour inject; the rest ignored."""

    def entry(seq: int, at: float, fact: object) -> JournalEntry:
        return JournalEntry.model_validate(
            {
                "crisis_id": "EX-1",
                "seq": seq,
                "at": T0 + minutes(at),
                "actor": SYSTEM,
                "fact": fact,
                "text": "…",
                "prev_hash": "",
                "hash": "",
            }
        )

    def attempt(step: str, channel: ChannelName, outcome: str) -> DeliveryAttempted:
        return DeliveryAttempted.model_validate(
            {
                "outbox_key": f"{step}:{channel.value}",
                "step_id": step,
                "engagement": Engagement.E48_1,
                "channel": channel,
                "contact_id": "public",
                "attempt": 1,
                "outcome": outcome,
            }
        )

    entries = [
        entry(1, 10, attempt("alerte", ChannelName.SMS, "sent")),  # not public
        entry(2, 12, attempt("communique", ChannelName.X, "failed")),  # not published
        entry(3, 14, attempt("communique", ChannelName.FACEBOOK, "sent")),
        entry(4, 14.5, attempt("communique", ChannelName.WEBSITE, "sent")),  # same step
        entry(5, 31, InjectPlayed(inject_id="inj-04", text=RUMOUR, rumour=True)),
        entry(6, 32, InjectPlayed(inject_id="inj-05", text="évacuation", rumour=False)),
        entry(7, 40, attempt("point-2", ChannelName.X, "manual")),
    ]
    assert stimuli_from_journal(entries) == [
        Stimulus(T0 + minutes(14), "publication"),
        Stimulus(T0 + minutes(31), "rumeur", RUMOUR),
        Stimulus(T0 + minutes(40), "publication"),
    ]

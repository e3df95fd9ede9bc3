"""Simulated CIP callers: a seeded flow of calls queued for the agents on duty, ending as
answered, abandoned, voicemail or overflow, with consistent figures."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from crisis.exercise.callers import CallerSimulator, TimedCall, figures
from crisis.exercise.scenario import LIBRARY, CipProfile, load_scenario
from playbooks.model import EventKind

T0 = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
COMMUNES = ("Saint-Étienne", "Saint-Chamond", "Firminy")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def simulator(
    seed: int = 1, agents: tuple[str, ...] = ("cip-1", "cip-2"), **profile: object
) -> CallerSimulator:
    data: dict[str, object] = {
        "activate": True,
        "at": "T0+20",
        "number": "+33465714242",
        "agents": list(agents),
        "callers": [{"at": "T0+20", "per_hour": 30}],
    }
    data.update(profile)
    return CallerSimulator(
        CipProfile.model_validate(data),
        seed=seed,
        t0=T0,
        duration_minutes=120,
        kind=EventKind.INONDATION,
        communes=COMMUNES,
        rumour_from_minute=60,
    )


def test_same_seed_same_calls_and_another_seed_other_calls():
    """The caller flow is reproducible per seed."""
    first = simulator(seed=5).all_calls()
    assert len(first) > 20
    assert first == simulator(seed=5).all_calls()
    assert first != simulator(seed=6).all_calls()


def test_asking_minute_by_minute_gives_the_whole_run():
    """calls_between over consecutive minutes gives every call once, in order."""
    sim = simulator(seed=2)
    by_minute = [
        c for m in range(200) for c in sim.calls_between(T0 + minutes(m), T0 + minutes(m + 1))
    ]
    assert by_minute == simulator(seed=2).all_calls()
    assert len({c.fact.call_id for c in by_minute}) == len(by_minute)


def test_no_call_before_the_cip_is_activated():
    """Calls start at T0 CIP; a later activation (as it happened) moves the flow."""
    calls = simulator(seed=3).all_calls()
    assert min(c.fact.started_at for c in calls) >= T0 + minutes(20)
    late = CallerSimulator(
        simulator(seed=3).profile,
        seed=3,
        t0=T0,
        duration_minutes=120,
        kind=EventKind.INONDATION,
        communes=COMMUNES,
        activated_at=T0 + minutes(50),
    ).all_calls()
    assert min(c.fact.started_at for c in late) >= T0 + minutes(50)
    assert max(c.fact.started_at for c in calls) < T0 + minutes(120)


def test_callers_curve_is_linear_between_points():
    """per_hour interpolates between the curve's points and is flat outside them."""
    sim = simulator(callers=[{"at": "T0+20", "per_hour": 20}, {"at": "T0+40", "per_hour": 60}])
    assert sim.rate_per_hour(19) == 0  # CIP not active yet
    assert sim.rate_per_hour(20) == pytest.approx(20)
    assert sim.rate_per_hour(30) == pytest.approx(40)
    assert sim.rate_per_hour(100) == pytest.approx(60)


def _answered_intervals(calls: list[TimedCall]) -> dict[str, list[tuple[datetime, datetime]]]:
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    for call in calls:
        fact = call.fact
        if fact.outcome == "repondu":
            assert fact.agent_id is not None
            start = fact.started_at + timedelta(seconds=fact.waited_seconds)
            busy.setdefault(fact.agent_id, []).append((start, call.ended_at))
    return busy


def test_an_agent_takes_one_call_at_a_time_and_callers_are_served_in_order():
    """No agent talks to two callers at once; service starts in order of arrival (FIFO)."""
    calls = simulator(
        seed=4, agents=("cip-1", "cip-2"), callers=[{"at": 0, "per_hour": 50}]
    ).all_calls()
    for intervals in _answered_intervals(calls).values():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert start >= end - timedelta(seconds=0.2)  # rounding to 0.1 s
    answered = sorted(
        (c.fact for c in calls if c.fact.outcome == "repondu"), key=lambda f: f.started_at
    )
    starts = [f.started_at + timedelta(seconds=f.waited_seconds) for f in answered]
    assert all(b >= a - timedelta(seconds=0.2) for a, b in itertools.pairwise(starts))


def test_one_agent_under_pressure_loses_callers_and_many_agents_answer_all():
    """With one agent and 60 calls/h, some hang up or leave a message; with ten, all answered."""
    busy = figures(
        [
            c.fact
            for c in simulator(
                seed=7, agents=("cip-1",), callers=[{"at": 0, "per_hour": 60}]
            ).all_calls()
        ]
    )
    assert busy.abandoned + busy.messages > 0
    assert busy.answered < busy.calls
    many = [f"cip-{i}" for i in range(1, 11)]
    calm = figures(
        [
            c.fact
            for c in simulator(
                seed=7, agents=tuple(many), callers=[{"at": 0, "per_hour": 60}]
            ).all_calls()
        ]
    )
    assert calm.answered == calm.calls
    assert calm.mean_wait_seconds < busy.mean_wait_seconds / 10


def test_abandon_before_the_voicemail_threshold_message_at_it():
    """A caller who gives up waited their patience (< threshold); a voicemail waited the threshold."""
    calls = simulator(
        seed=8,
        agents=("cip-1",),
        callers=[{"at": 0, "per_hour": 60}],
        patience_minutes=[1, 8],
        voicemail_after_minutes=3,
        queue_limit=50,
    ).all_calls()
    outcomes = Counter(c.fact.outcome for c in calls)
    assert outcomes["abandonne"] > 0 and outcomes["message"] > 0
    for call in calls:
        fact = call.fact
        if fact.outcome == "abandonne":
            assert 60 <= fact.waited_seconds < 180 and fact.agent_id is None
        elif fact.outcome == "message":
            assert fact.waited_seconds == pytest.approx(180) and fact.agent_id is None
        elif fact.outcome == "repondu":
            assert fact.waited_seconds <= 180 and fact.talked_seconds > 0


def test_overflow_when_the_queue_is_full():
    """queue_limit = 0: every caller who would have to wait gets the overflow message."""
    calls = simulator(
        seed=9, agents=("cip-1",), callers=[{"at": 0, "per_hour": 60}], queue_limit=0
    ).all_calls()
    outcomes = Counter(c.fact.outcome for c in calls)
    assert outcomes["debordement"] > 0
    assert outcomes["abandonne"] == outcomes["message"] == 0
    assert all(c.fact.waited_seconds == 0 for c in calls)


def test_figures_are_consistent_with_the_calls():
    """figures() counts each outcome and the answered calls per agent, recomputed by hand here."""
    facts = [
        c.fact
        for c in simulator(
            seed=10, agents=("cip-1", "cip-2"), callers=[{"at": 0, "per_hour": 70}], queue_limit=2
        ).all_calls()
    ]
    result = figures(facts)
    by_outcome = Counter(f.outcome for f in facts)
    assert result.calls == len(facts)
    assert (result.answered, result.abandoned, result.messages, result.overflow) == (
        by_outcome["repondu"],
        by_outcome["abandonne"],
        by_outcome["message"],
        by_outcome["debordement"],
    )
    assert sum(result.answered_by_agent.values()) == result.answered
    waits = [f.waited_seconds for f in facts if f.outcome == "repondu"]
    assert result.max_wait_seconds == max(waits)
    assert result.mean_wait_seconds == pytest.approx(sum(waits) / len(waits))
    assert figures([]).calls == 0 and figures([]).mean_wait_seconds == 0


def test_callers_ask_french_questions_and_the_rumour_only_after_it_lands():
    """Topics name the scenario's communes; nobody asks about the rumour before it is played."""
    calls = simulator(
        seed=11, agents=("cip-1", "cip-2", "cip-3"), callers=[{"at": 0, "per_hour": 80}]
    ).all_calls()
    topics = [c.fact.topic for c in calls]
    assert any("Saint-Étienne" in t for t in topics)
    rumours = [c.fact for c in calls if c.fact.topic.startswith("rumeur")]
    assert rumours and all(f.started_at >= T0 + minutes(60) for f in rumours)
    assert all("barrage" in f.topic for f in rumours)
    assert all(c.fact.call_id.startswith("EX-APPEL-") for c in calls)


def test_the_flood_exercise_fills_the_cip_figures():
    """The shipped scenario's callers: calls after T0+25, answered by its three agents."""
    scenario = load_scenario(LIBRARY / "inondation_furan.toml")
    calls = CallerSimulator.for_scenario(scenario, t0=T0, communes=COMMUNES).all_calls()
    result = figures([c.fact for c in calls])
    assert 15 <= result.calls <= 80
    assert result.answered > 0
    assert set(result.answered_by_agent) <= set(scenario.cip.agents)
    assert min(c.fact.started_at for c in calls) >= T0 + minutes(25)


def test_a_simulator_without_agents_is_refused():
    """Nobody on duty: the run cannot simulate the CIP (French message)."""
    with pytest.raises(ValueError, match="aucun agent CIP"):
        simulator(agents=(), activate=False)  # the profile alone would refuse it already

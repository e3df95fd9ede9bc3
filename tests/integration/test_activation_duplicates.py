"""One content rule for every interface: the same COD activation is one event, a conflicting
one is refused unless the préfet's delegation confirms another event; old T0s and rectified
T0s (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from crisis import compliance
from crisis.activation import ActivationConflict, ActivationError, Confirmation, T0TooOld
from crisis.engine import Refused
from crisis.model import Authority, Mode, StepStatus
from crisis.reports.figures import compliance_figures
from crisis.service import ActivationRequest
from playbooks.model import EventKind
from tests.integration.helpers import AGENT, COMMUNES, DIRCAB, activate, journal, minutes, of_type


def _crisis_ids(app) -> list[str]:
    with app.store.transaction() as tx:
        return tx.crisis_ids(open_only=False)


def test_same_activation_under_another_key_returns_the_event_recorded(app, clock):
    """A second web form or another system's key, same content: no second event, no alert."""
    first = activate(app, clock.now(), idempotency_key="web-form-1")
    again = activate(app, clock.now(), idempotency_key="api-other-system")
    assert first.created and not again.created
    assert again.crisis.id == first.crisis.id
    assert _crisis_ids(app) == [first.crisis.id]


def test_reference_typed_with_other_case_and_spaces_is_the_same_event(app, clock):
    """« syn-42-0001 » typed with a trailing space is the SYNERGI reference already recorded."""
    first = activate(app, clock.now(), idempotency_key="a")
    again = activate(app, clock.now(), idempotency_key="b", synergi_ref=" syn-42-0001 ")
    assert again.crisis.id == first.crisis.id and not again.created


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"kind": EventKind.TEMPETE}, "type d'événement"),
        ({"t0_shift": 20}, "temps 0"),
        ({"communes": ("42218",)}, "communes concernées"),
    ],
)
def test_same_reference_with_other_values_is_refused_with_the_reason(app, clock, change, said):
    """Same SYNERGI reference, another kind, T0 or area: refused, naming the event and why."""
    t0 = clock.now()
    first = activate(app, t0, idempotency_key="a")
    change = dict(change)  # the parameters are shared by the SQLite and PostgreSQL runs
    shift = change.pop("t0_shift", 0)
    with pytest.raises(ActivationConflict, match=said) as refused:
        activate(app, t0 - minutes(shift), idempotency_key="b", **change)
    assert refused.value.existing_id == first.crisis.id
    assert first.crisis.id in str(refused.value)
    assert _crisis_ids(app) == [first.crisis.id]


def test_same_kind_and_t0_under_another_reference_is_refused(app, clock):
    """A mistyped SYNERGI reference for the same kind and T0 is not a second event silently."""
    first = activate(app, clock.now())
    with pytest.raises(ActivationConflict, match="même temps 0"):
        activate(app, clock.now(), synergi_ref="SYN-42-0002")
    assert _crisis_ids(app) == [first.crisis.id]


def test_directeur_de_cabinet_confirms_another_event_and_it_is_journaled(app, clock):
    """The préfet's delegation may confirm another event: created, with who, why and which."""
    first = activate(app, clock.now())
    go = Confirmation(
        authority=Authority.DIRECTEUR_CABINET,
        reason="seconde crue sur le Gier, référence réutilisée par SYNERGI",
        other_event=True,
    )
    second = activate(app, clock.now(), communes=("42218",), recorded_by=DIRCAB, confirmation=go)
    assert second.created and second.crisis.id != first.crisis.id
    confirmed = of_type(journal(app, second.crisis.id), "ActivationConfirmed")
    assert len(confirmed) == 1
    entry = confirmed[0]
    assert entry.fact.rule == "autre_evenement"
    assert entry.fact.related_crisis == first.crisis.id
    assert entry.actor.name == DIRCAB.name
    assert "seconde crue sur le Gier" in entry.text and first.crisis.id in entry.text


def test_an_agent_cannot_confirm_another_event(app, clock):
    """Confirming is the préfet's delegation: an agent's confirmation is refused, nothing made."""
    activate(app, clock.now())
    go = Confirmation(authority=Authority.AGENT, reason="autre", other_event=True)
    with pytest.raises(ActivationError, match="directeur de cabinet ou le préfet"):
        activate(app, clock.now(), communes=("42218",), confirmation=go)
    assert len(_crisis_ids(app)) == 1


def test_exercise_with_the_reference_of_a_real_event_is_not_a_duplicate(app, clock):
    """An exercise and a real event are never merged, whatever their references."""
    real = activate(app, clock.now())
    exercise = activate(app, clock.now(), mode=Mode.EXERCICE)
    assert exercise.created and exercise.crisis.id != real.crisis.id


def test_concurrent_declarations_with_different_keys_make_one_event(app, clock):
    """Two interfaces declaring the same activation at once record one event."""
    results: list[object] = []

    def declare(key: str) -> None:
        results.append(activate(app, clock.now(), idempotency_key=key))

    threads = [threading.Thread(target=declare, args=(f"k{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_crisis_ids(app)) == 1
    assert sum(1 for r in results if r.created) == 1  # type: ignore[attr-defined]


def test_t0_further_back_than_the_limit_needs_the_prefets_confirmation(app, clock):
    """A T0 25 hours back is refused; confirmed by the directeur de cabinet, it is journaled."""
    old = clock.now() - timedelta(hours=25)
    with pytest.raises(T0TooOld, match="limite de 24 heures"):
        activate(app, old)
    assert _crisis_ids(app) == []
    go = Confirmation(
        authority=Authority.DIRECTEUR_CABINET, reason="saisie a posteriori", old_t0=True
    )
    result = activate(app, old, recorded_by=DIRCAB, confirmation=go)
    confirmed = of_type(journal(app, result.crisis.id), "ActivationConfirmed")
    assert [e.fact.rule for e in confirmed] == ["t0_ancien"]


@pytest.mark.parametrize("years_back", [2025, 56, 20])
def test_absurd_t0_is_refused_even_confirmed(app, clock, years_back):
    """Year 1, 1970 or twenty years ago is never an activation to record."""
    t0 = clock.now().replace(year=clock.now().year - years_back)
    go = Confirmation(authority=Authority.PREFET, reason="essai", old_t0=True)
    with pytest.raises(ActivationError, match="30 jours"):
        activate(app, t0, confirmation=go)


def _rectify(app, crisis_id, t0, authority=Authority.PREFET, reason="T0 mal saisi"):
    app.orchestrator.rectify_t0(crisis_id, t0, reason, DIRCAB, authority=authority)


def test_rectified_t0_moves_pending_steps_and_compliance_counts_from_it(app, clock):
    """T0 typed 40 minutes early: rectified, the hour counts from the right T0, both shown."""
    right = clock.now()
    wrong = right - minutes(40)
    crisis = activate(app, wrong).crisis
    with app.store.transaction() as tx:
        before = {s.step_id: s for s in tx.steps(crisis.id)}
    _rectify(app, crisis.id, right)
    with app.store.transaction() as tx:
        stored = tx.crisis(crisis.id)
        after = {s.step_id: s for s in tx.steps(crisis.id)}
    assert stored.t0 == right
    planned = [k for k, s in before.items() if s.status == StepStatus.PLANNED]
    assert planned, "the playbook has steps due later than T0+40"
    for step_id in planned:
        if before[step_id].due_at.year < 9999:
            assert after[step_id].due_at == before[step_id].due_at + minutes(40)
    entries = journal(app, crisis.id)
    rectified = of_type(entries, "T0Rectified")
    assert len(rectified) == 1 and rectified[0].fact.previous == wrong
    assert compliance.current_t0(entries) == right
    verdicts = {v.engagement: v for v in compliance.judge(entries, clock.now())}
    assert verdicts["47"].status.value != "missed"
    summary = compliance_figures(entries, clock.now()).summary
    assert summary.t0 == right and summary.t0_declared == wrong


def test_a_t0_typed_two_minutes_early_moves_the_next_step_in_the_database(app, clock):
    """The préfet corrects a T0 typed 2 minutes early: a step still planned is due 2 minutes
    later, in the database the dispatcher and a restarted service read."""
    right = clock.now()
    crisis = activate(app, right - minutes(2)).crisis
    with app.store.transaction() as tx:
        before = {s.step_id: s for s in tx.steps(crisis.id) if s.status == StepStatus.PLANNED}
    timed = [k for k, s in before.items() if s.due_at.year < 9999]
    assert timed, "the playbook has steps due after T0+2"
    _rectify(app, crisis.id, right)
    with app.store.transaction() as tx:
        after = {s.step_id: s for s in tx.steps(crisis.id)}
    for step_id in timed:
        assert after[step_id].due_at == before[step_id].due_at + minutes(2), step_id


def test_rectification_refused_to_an_agent_and_without_reason(app, clock):
    """Only the préfet's delegation rectifies, always with a reason."""
    crisis = activate(app, clock.now() - minutes(5)).crisis
    with pytest.raises(Refused, match="directeur de cabinet ou le préfet"):
        _rectify(app, crisis.id, clock.now(), authority=Authority.AGENT)
    with pytest.raises(Refused, match="motif"):
        _rectify(app, crisis.id, clock.now(), reason="  ")
    with pytest.raises(Refused, match="futur"):
        _rectify(app, crisis.id, clock.now() + timedelta(hours=2))
    assert of_type(journal(app, crisis.id), "T0Rectified") == []


def test_rectified_checkpoints_are_judged_again_from_the_right_t0(app, clock):
    """A T0 typed a day early gave T0+60 « manqué » at once; rectified, T0+60 is judged anew."""
    right = clock.now()
    go = Confirmation(authority=Authority.PREFET, reason="test", old_t0=True)
    crisis = activate(app, right - timedelta(hours=23), confirmation=go).crisis
    first = of_type(journal(app, crisis.id), "ComplianceCheckpoint")
    assert [e.fact.minutes for e in first] == [30, 45, 60]
    _rectify(app, crisis.id, right)
    assert len(of_type(journal(app, crisis.id), "ComplianceCheckpoint")) == 3  # none due yet
    clock.advance(31 * 60)
    app.orchestrator.tick(crisis.id)
    again = of_type(journal(app, crisis.id), "ComplianceCheckpoint")
    assert [e.fact.minutes for e in again] == [30, 45, 60, 30]


def test_activation_request_without_confirmation_keeps_the_agent(app, clock):
    """The ordinary path is unchanged: the agent records, no confirmation fact."""
    result = app.orchestrator.activate(
        ActivationRequest(
            kind=EventKind.INONDATION,
            t0=clock.now(),
            synergi_ref="SYN-1",
            communes=COMMUNES,
            recorded_by=AGENT,
        )
    )
    assert of_type(journal(app, result.crisis.id), "ActivationConfirmed") == []


@pytest.mark.parametrize("reference", ["4" * 5000, "42 2026 0113", "42-2026\n0113"])
def test_unbounded_or_malformed_synergi_reference_is_refused(app, clock, reference):
    """A 5,000-character, spaced or multi-line SYNERGI reference is refused for every interface."""
    with pytest.raises(ActivationError, match="référence SYNERGI"):
        activate(app, clock.now(), synergi_ref=reference)
    assert _crisis_ids(app) == []

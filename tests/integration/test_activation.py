"""Recording T0: idempotency, backdating, validation, the plan frozen at T0."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crisis.activation import ActivationError
from crisis.bootstrap import build
from crisis.clock import FakeClock
from crisis.model import StepStatus
from crisis.settings import PlaybookSettings
from playbooks.loader import default_library_dir, default_templates_dir
from tests.conftest import T0
from tests.integration.helpers import activate, journal, minutes, of_type


def test_repeated_activation_returns_the_same_crisis(app, clock):
    """A double click or a retried request with the same key records one crisis, not two."""
    first = activate(app, clock.now(), idempotency_key="web-123")
    again = activate(app, clock.now(), idempotency_key="web-123")
    assert first.created and not again.created
    assert again.crisis.id == first.crisis.id
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == [first.crisis.id]
    assert len(of_type(journal(app, first.crisis.id), "CodActivated")) == 1


def test_same_activation_typed_twice_without_key_is_not_duplicated(app, clock):
    """Without a key, the same kind, T0 and SYNERGI reference identify the activation."""
    first = activate(app, clock.now())
    again = activate(app, clock.now())
    assert not again.created and again.crisis.id == first.crisis.id


def test_backdated_t0_runs_the_clock_from_the_cod_activation(app, clock):
    """Recorded at 02:25 for a COD activated at 02:10: steps due since 02:10 run now, marked late."""
    t0 = clock.now()
    clock.advance(15 * 60)
    result = activate(app, t0)
    crisis = result.crisis
    assert crisis.t0 == t0 and crisis.recorded_at == t0 + minutes(15)
    entries = journal(app, crisis.id)
    cod = of_type(entries, "CodActivated")[0]
    assert cod.fact.t0 == t0 and cod.at == t0 + minutes(15)
    triggered = {e.fact.step_id: e.fact for e in of_type(entries, "StepTriggered")}
    assert triggered["alerte_astreinte"].late_seconds == pytest.approx(15 * 60)
    assert triggered["alerte_maires"].late_seconds == pytest.approx(10 * 60)
    assert "EN RETARD" in next(e.text for e in of_type(entries, "StepTriggered"))
    with app.store.transaction() as tx:
        steps = {s.step_id: s for s in tx.steps(crisis.id)}
    assert steps["proposition_cip"].status == StepStatus.PLANNED
    assert steps["proposition_cip"].due_at == t0 + minutes(30)


def test_t0_in_the_future_is_refused(app, clock):
    """A COD activation cannot be later than now: it is what SYNERGI recorded."""
    with pytest.raises(ActivationError, match="futur"):
        activate(app, clock.now() + timedelta(hours=1))


def test_unknown_commune_code_is_refused_naming_it(app, clock):
    """An INSEE code outside the directory stops the activation and is named."""
    with pytest.raises(ActivationError, match="99999"):
        activate(app, clock.now(), communes=("42218", "99999"))
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []


def test_plan_is_frozen_at_t0_whatever_later_edits_say(settings, tmp_path: Path):
    """Editing a playbook after T0 changes nothing in the running crisis."""
    library = tmp_path / "library"
    templates = tmp_path / "templates"
    shutil.copytree(default_library_dir(), library)
    shutil.copytree(default_templates_dir(), templates)
    custom = settings.model_copy(
        update={"playbooks": PlaybookSettings(library_dir=library, templates_dir=templates)}
    )
    clock = FakeClock(T0)
    app = build(custom, clock=clock)
    crisis = activate(app, clock.now()).crisis
    source = (library / "inondation.toml").read_text(encoding="utf-8")
    (library / "inondation.toml").write_text(source.replace('"PT30M"', '"PT50M"'), encoding="utf-8")
    app2 = build(custom, clock=clock)
    with app2.store.transaction() as tx:
        frozen = tx.crisis(crisis.id)
        steps = {s.step_id: s for s in tx.steps(crisis.id)}
    assert frozen.plan.step("proposition_cip").due_at == clock.now() + minutes(30)
    assert steps["proposition_cip"].due_at == clock.now() + minutes(30)
    assert frozen.plan.playbook_digest == crisis.plan.playbook_digest
    app.close()
    app2.close()


def test_roster_is_snapshotted_at_t0(app, clock):
    """The audiences resolve against the directory as it was at T0 (officials of the area only)."""
    crisis = activate(app, clock.now()).crisis
    communes = {c.commune for c in crisis.roster if c.commune}
    assert communes == {"42218", "42187", "42147"}
    assert any(c.id == "cell-dircab" for c in crisis.roster)


def test_local_t0_is_stored_as_the_same_instant(app, clock):
    """A T0 typed in Paris time is the same instant once stored and read back (SQLite included)."""
    paris = clock.now().astimezone(ZoneInfo("Europe/Paris"))
    crisis = activate(app, paris).crisis
    with app.store.transaction() as tx:
        stored = tx.crisis(crisis.id)
        steps = {s.step_id: s for s in tx.steps(crisis.id)}
    assert stored.t0 == clock.now()
    assert steps["alerte_maires"].due_at == clock.now() + minutes(5)


def test_same_key_with_another_area_is_refused_not_merged(app, clock):
    """A repeated key with other communes is an error: the area frozen at T0 never changes silently."""
    first = activate(app, clock.now(), idempotency_key="api-7")
    with pytest.raises(ActivationError, match="communes concernées"):
        activate(app, clock.now(), idempotency_key="api-7", communes=("42218",))
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == [first.crisis.id]


def test_same_instant_typed_in_another_zone_is_the_same_activation(app, clock):
    """02:10 Paris and 01:10 UTC are one T0: the derived key does not depend on the zone."""
    first = activate(app, clock.now())
    again = activate(app, clock.now().astimezone(ZoneInfo("Europe/Paris")))
    assert not again.created and again.crisis.id == first.crisis.id

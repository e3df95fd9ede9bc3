"""Pure decisions of the engine, without database or clock."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from contacts.demo import demo_directory
from contacts.geography import load_communes
from crisis.engine import (
    Acknowledge,
    ActivateCip,
    CrisisState,
    EngineConfig,
    Record,
    Refused,
    Tick,
    decide,
    initial_due,
)
from crisis.model import (
    NOT_YET,
    Actor,
    Authority,
    CancelPending,
    CipActivated,
    Crisis,
    InjectPlayed,
    Interface,
    Mode,
    SendMessage,
    StepState,
    StepStatus,
    StepTriggered,
)
from playbooks.loader import load_library
from playbooks.model import EventKind
from playbooks.planner import plan
from tests.conftest import T0

CONFIG = EngineConfig(
    prefecture="Préfecture de la Loire", timezone=ZoneInfo("Europe/Paris"), public_addresses={}
)
AGENT = Actor(name="agent", interface=Interface.CLI)


def _state(templates=None, acknowledged=None) -> CrisisState:
    library = load_library()
    templates = templates or library.templates
    codes = ("42218", "42187")
    communes = [c for c in load_communes() if c.code_insee in codes]
    directory = demo_directory(communes)
    crisis = Crisis(
        id="C1",
        kind=EventKind.INONDATION,
        mode=Mode.REEL,
        t0=T0,
        synergi_ref="S",
        communes=codes,
        commune_names={c.code_insee: c.nom for c in communes},
        recorded_by=AGENT,
        recorded_at=T0,
        idempotency_key="k",
        plan=plan(library.playbooks[EventKind.INONDATION], templates, T0, source="x"),
        roster=directory.contacts,
    )
    steps = tuple(StepState(step_id=p.step.id, due_at=initial_due(p)) for p in crisis.plan.steps)
    return CrisisState(crisis=crisis, steps=steps, acknowledged=acknowledged or {})


def test_tick_at_t0_pages_the_on_call_and_wakes_at_the_next_due_time():
    """At T0 only the T0 step runs; the next wake-ups are the later due times and checkpoints."""
    decision = decide(_state(), Tick(), T0, CONFIG)
    assert {s.step_id for s in decision.steps.values()} == {"alerte_astreinte"}
    sends = [i for i in decision.intents if isinstance(i, SendMessage)]
    assert sends and {s.step_id for s in sends} == {"alerte_astreinte"}
    assert all(s.valid_until and s.valid_until > T0 for s in sends)
    assert (
        T0 + timedelta(minutes=5) in decision.wakeups
        and T0 + timedelta(minutes=30) in decision.wakeups
    )


def test_acknowledgement_by_an_official_cancels_the_communes_queue_once():
    """The first acknowledgement is a fact and cancels the commune's alerts; a repeat changes nothing."""
    first = decide(_state(), Acknowledge(contact_id="adjoint1-42218", actor=AGENT), T0, CONFIG)
    cancels = [i for i in first.intents if isinstance(i, CancelPending)]
    assert cancels and cancels[0].commune == "42218"
    again = decide(
        _state(acknowledged={"adjoint1-42218": "42218"}),
        Acknowledge(contact_id="adjoint1-42218", actor=AGENT),
        T0,
        CONFIG,
    )
    assert not [f for f, _ in again.facts if f.type == "AcknowledgementReceived"]
    assert not [i for i in again.intents if isinstance(i, CancelPending)]


def test_broken_template_holds_the_step_instead_of_failing():
    """A template that cannot be rendered holds its step with the reason; nothing is half-queued."""
    library = load_library()
    broken = dict(library.templates)
    broken["alerte_astreinte"] = broken["alerte_astreinte"].model_copy(
        update={"short": "{{ inconnu }}"}
    )
    decision = decide(_state(templates=broken), Tick(), T0, CONFIG)
    held = decision.steps["alerte_astreinte"]
    assert held.status == StepStatus.HELD and "modèle" in held.hold_reason
    assert not [i for i in decision.intents if isinstance(i, SendMessage)]
    assert [f.type for f, _ in decision.facts] == ["StepHeld"]


def test_cip_announcements_wait_for_the_order_then_run_from_t0_cip():
    """Before the préfet's order the announcements are neither due nor armed; the order, given
    with the delegation, journals T0 CIP and runs them at once, on time (their clock is T0 CIP)."""
    state = _state()
    later = T0 + timedelta(minutes=40)
    tick = decide(state, Tick(), later, CONFIG)
    assert not {"annonce_cip_medias", "annonce_cip_public"} & set(tick.steps)
    assert NOT_YET not in tick.wakeups
    with pytest.raises(Refused, match="directeur de cabinet ou le préfet"):
        decide(state, ActivateCip("+33465714242", AGENT, Authority.AGENT), later, CONFIG)

    order = decide(state, ActivateCip("+33465714242", AGENT, Authority.PREFET), later, CONFIG)
    facts = [f for f, _ in order.facts]
    assert any(isinstance(f, CipActivated) and f.authority == Authority.PREFET for f in facts)
    assert order.crisis_updates["t0_cip"] == later
    triggered = {f.step_id: f for f in facts if isinstance(f, StepTriggered)}
    assert {"annonce_cip_medias", "annonce_cip_public"} <= set(triggered)
    assert triggered["annonce_cip_public"].late_seconds == 0
    sends = [i for i in order.intents if isinstance(i, SendMessage)]
    assert any(s.step_id == "annonce_cip_public" and "+33465714242" in s.body for s in sends)


def test_injects_only_in_exercises():
    """An exercise inject recorded on a real event is refused in French."""
    inject = InjectPlayed(inject_id="inj-01", text="La RD 1082 est coupée.")
    with pytest.raises(Refused, match="qu'un exercice"):
        decide(_state(), Record(facts=(inject,), actor=AGENT), T0, CONFIG)

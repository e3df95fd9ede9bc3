"""Escalation chains on a fake timeline: call until reached, stop at once on an acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from channels.base import ChannelName
from crisis.engine import Acknowledge, CrisisState, Stimulus, Tick, decide
from crisis.escalation import Attempt
from crisis.model import CancelPending, ChainEnded, OutboxState, SendMessage
from tests.conftest import T0
from tests.unit.test_engine import AGENT, CONFIG, _state


@dataclass
class Timeline:
    """The engine driven minute by minute; calls complete unanswered unless acknowledged."""

    state: CrisisState
    sends: list[tuple[datetime, SendMessage]] = field(default_factory=list)
    ended: list[ChainEnded] = field(default_factory=list)
    cancels: list[CancelPending] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)  # outbox keys still with the provider

    def apply(self, stimulus: Stimulus, now: datetime) -> None:
        decision = decide(self.state, stimulus, now, CONFIG)
        steps = {s.step_id: s for s in self.state.steps}
        steps.update(decision.steps)
        attempts = list(self.state.attempts)
        for intent in decision.intents:
            if isinstance(intent, SendMessage):
                self.sends.append((now, intent))
                if intent.channel == ChannelName.VOICE:
                    state = (
                        OutboxState.SENDING
                        if intent.idempotency_key in self.in_flight
                        else OutboxState.SENT
                    )
                    attempts.append(
                        Attempt(
                            step_id=intent.step_id,
                            contact_id=intent.contact_id,
                            attempt=_number(intent.idempotency_key),
                            state=state,
                            at=now,
                        )
                    )
            elif isinstance(intent, CancelPending):
                self.cancels.append(intent)
        ended = set(self.state.chains_ended)
        for fact, _actor in decision.facts:
            if isinstance(fact, ChainEnded):
                self.ended.append(fact)
                ended.add((fact.step_id, fact.group))
        self.state = replace(
            self.state,
            steps=tuple(steps[s.step_id] for s in self.state.steps),
            acknowledged={**self.state.acknowledged, **dict(decision.acks)},
            attempts=tuple(attempts),
            chains_ended=frozenset(ended),
        )

    def run(self, until_minute: int, *, start: int = 0) -> None:
        for minute in range(start, until_minute + 1):
            self.apply(Tick(), T0 + timedelta(minutes=minute))

    def calls(self, step_id: str, commune: str | None = None) -> list[tuple[datetime, str, int]]:
        return [
            (at, m.contact_id, _number(m.idempotency_key))
            for at, m in self.sends
            if m.channel == ChannelName.VOICE
            and m.step_id == step_id
            and (commune is None or m.commune == commune)
        ]


def _number(key: str) -> int:
    tail = key.rsplit(":", 1)[-1]
    return int(tail[1:]) if tail.startswith("r") else 1


def _only(step_id: str) -> CrisisState:
    """A crisis where only one step is left to run (the others are done)."""
    state = _state()
    steps = tuple(
        s if s.step_id == step_id else s.model_copy(update={"status": "done"}) for s in state.steps
    )
    return replace(state, steps=steps)


def test_officials_are_called_one_after_the_other_and_an_adjoint_ack_stops_the_commune():
    """Maire, then 1st adjoint after the wait; the adjoint's ack stops every later call at once."""
    line = Timeline(_only("alerte_maires"))
    line.run(11)
    calls = line.calls("alerte_maires", "42218")
    assert [(c, n) for _, c, n in calls] == [("maire-42218", 1), ("adjoint1-42218", 1)]
    assert calls[1][0] - calls[0][0] == timedelta(minutes=5)  # the playbook's wait
    line.apply(
        Acknowledge(contact_id="adjoint1-42218", actor=AGENT),
        T0 + timedelta(minutes=11, seconds=30),
    )
    assert any(c.commune == "42218" for c in line.cancels)  # queued sends of the commune stop
    line.run(60, start=12)
    assert line.calls("alerte_maires", "42218") == calls  # nobody else called in Saint-Étienne
    assert "commune:42218" not in {e.group for e in line.ended}
    # the other commune went on down its chain
    assert len(line.calls("alerte_maires", "42187")) > 2


def test_nobody_answers_every_attempt_is_made_then_non_joint():
    """Nobody answers: each official gets max_attempts calls in chain order, then "non joint"."""
    line = Timeline(_only("alerte_maires"))
    line.run(60)
    calls = [(c, n) for _, c, n in line.calls("alerte_maires", "42187")]
    chain = ["maire-42187", "adjoint1-42187", "adjoint2-42187", "secretariat-42187"]
    assert calls == [(c, 1) for c in chain] + [(c, 2) for c in chain]
    sms = [
        m.contact_id for _, m in line.sends if m.channel == ChannelName.SMS and m.commune == "42187"
    ]
    # one SMS with each person's first call, none with the repeats; not to the mairie's fixed line
    assert sms == chain[:3]
    ended = [e for e in line.ended if e.commune == "42187"]
    assert len(ended) == 1
    assert [(r.contact_id, r.attempt) for r in ended[0].attempts] == calls
    assert "sans réponse" in ended[0].reason and ended[0].label == "commune de Roanne"


def test_no_new_call_while_the_last_one_is_with_the_provider():
    """A call still ringing (not yet answered or failed) holds the chain: no second call over it."""
    state = _only("alerte_maires")
    line = Timeline(state, in_flight={"C1:alerte_maires:maire-42218:voice:v1"})
    line.run(30)
    assert [c for _, c, _n in line.calls("alerte_maires", "42218")] == ["maire-42218"]


def test_window_closes_the_chain_non_joint():
    """After `until` no new call leaves: the chain ends, with the calls made, "fenêtre close"."""
    state = _only("alerte_maires")
    step = state.crisis.plan.step("alerte_maires").step
    assert step.escalation is not None
    short = step.model_copy(
        update={"escalation": step.escalation.model_copy(update={"until": timedelta(minutes=12)})}
    )
    plan = state.crisis.plan.model_copy(
        update={
            "steps": tuple(
                p.model_copy(update={"step": short}) if p.step.id == "alerte_maires" else p
                for p in state.crisis.plan.steps
            )
        }
    )
    line = Timeline(replace(state, crisis=state.crisis.model_copy(update={"plan": plan})))
    line.run(30)
    assert len(line.calls("alerte_maires", "42218")) == 2  # T0+5 and T0+10, none after T0+12
    ended = [e for e in line.ended if e.commune == "42218"]
    assert len(ended) == 1 and ended[0].reason == "fenêtre d'appel close"


def test_recall_goes_on_until_the_quorum_of_trained_members_acknowledges():
    """Acks from untrained agents do not count: the list is called again until trained ones answer."""
    line = Timeline(_only("rappel_cellule"))
    line.run(5)
    first = {c for _, c, n in line.calls("rappel_cellule") if n == 1}
    assert {"cell-com-1", "cell-rappel-1", "cell-rappel-5"} <= first  # the whole list at once
    at = T0 + timedelta(minutes=6)
    for contact in ("cell-com-1", "cell-rappel-5", "cell-rappel-6"):  # 5 and 6 are not trained
        line.apply(Acknowledge(contact_id=contact, actor=AGENT), at)
    line.run(11, start=7)
    again = {c for _, c, n in line.calls("rappel_cellule") if n == 2}
    assert again and "cell-rappel-1" in again  # quorum not met: the unreached are called again
    assert not again & {"cell-com-1", "cell-rappel-5", "cell-rappel-6"}  # not those who answered
    for contact in ("cell-rappel-1", "cell-rappel-2"):
        line.apply(Acknowledge(contact_id=contact, actor=AGENT), T0 + timedelta(minutes=12))
    before = len(line.calls("rappel_cellule"))
    line.run(60, start=13)
    assert len(line.calls("rappel_cellule")) == before  # quorum reached: the recall stops
    assert not [e for e in line.ended if e.step_id == "rappel_cellule"]


def test_on_call_holder_then_deputy():
    """Paging: each on-call role's holder at T0, the deputy only after the wait without answer."""
    line = Timeline(_only("alerte_astreinte"))
    line.run(4)
    calls = line.calls("alerte_astreinte")
    at_t0 = {c for at, c, _ in calls if at == T0}
    later = {c for at, c, _ in calls if at == T0 + timedelta(minutes=3)}
    assert len(at_t0) == 2 and len(later) == 2 and len(calls) == 4
    assert at_t0 | later == {
        "cell-dircab",
        "cell-sousprefet",
        "cell-astreinte-1",
        "cell-astreinte-2",
    }
    assert len({c.split("-")[1] for c in at_t0}) == 2  # one per role, not two of the same role

"""The in-memory unit of work and the SQLite store behave the same for every method of the
Protocols of crisis/store/unit.py: each test runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from channels.base import ChannelName
from crisis.bootstrap import open_store
from crisis.journal import GENESIS, chain, verify
from crisis.model import (
    SYSTEM,
    CancelPending,
    ChainEnded,
    Mode,
    NoteAdded,
    OutboxState,
    OutboxUpdate,
    StepStatus,
    WarningRaised,
)
from crisis.store.errors import CrisisNotFound, DuplicateKey
from crisis.store.memory import MemoryStore
from playbooks.model import Engagement, EventKind
from tests.conftest import T0
from tests.unit.uow_builders import AGENT, crisis, message, steps

PARIS = ZoneInfo("Europe/Paris")
ID = "20261123-0210-inondation"
REFUSED = (DuplicateKey, IntegrityError, CrisisNotFound)  # SQL says IntegrityError for some


class Boom(Exception):
    """Raised inside a unit of work to see it rolled back."""


@pytest.fixture(params=["memory", "sqlite"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A unit-of-work factory of each kind, empty."""
    if request.param == "memory":
        yield MemoryStore()
        return
    store = open_store(f"sqlite:///{tmp_path / 'crisis.db'}")
    yield store
    store.close()


@pytest.fixture
def recorded(uow: Any) -> Any:
    """The factory, holding one crisis with its steps."""
    with uow.transaction() as tx:
        tx.insert_crisis(crisis(), steps(crisis()))
    return uow


def test_a_crisis_reads_back_as_inserted_with_its_times_in_utc(uow):
    """The crisis, by id and key, with its T0 typed in Paris time given back as the same UTC
    instant; what the insert does not write (closing, CIP) starts empty."""
    local = crisis(t0=T0.astimezone(PARIS)).model_copy(update={"closed_at": T0, "cip_number": "x"})
    with uow.transaction() as tx:
        tx.insert_crisis(local, steps(local))
    with uow.transaction() as tx:
        stored = tx.crisis(ID)
        assert tx.crisis_by_key("cle-1") == stored
        assert tx.crisis_by_key("autre") is None
        assert tx.id_taken(ID) and not tx.id_taken("autre")
        assert [s.step_id for s in tx.steps(ID)] == [s.step_id for s in steps(local)]
        assert tx.checkpoints_done(ID) == frozenset()
        assert tx.acknowledged(ID) == {}
        assert tx.journal(ID) == []
    assert stored.t0 == T0 and stored.t0.utcoffset() == timedelta(0)
    assert stored.closed_at is None and stored.cip_number is None
    assert stored.plan == local.plan and stored.roster == local.roster


def test_an_unknown_crisis_is_not_found(uow):
    """Reading or appending to a crisis that does not exist raises CrisisNotFound."""
    with uow.transaction() as tx:
        with pytest.raises(CrisisNotFound):
            tx.crisis("nope")
        with pytest.raises(CrisisNotFound):
            tx.append("nope", [(NoteAdded(text="x"), AGENT)], T0)
        assert tx.steps("nope") == [] and tx.acknowledged("nope") == {}


@pytest.mark.parametrize("clash", ["key", "id"])
def test_a_second_crisis_with_the_same_key_or_id_is_a_duplicate(recorded, clash):
    """The same idempotency key, or the same id, is refused with DuplicateKey."""
    other = crisis(ID if clash == "id" else "autre-id", key="cle-1" if clash == "key" else "k2")
    with pytest.raises(DuplicateKey), recorded.transaction() as tx:
        tx.insert_crisis(other, steps(other))
    with recorded.transaction() as tx:
        assert not tx.id_taken("autre-id")
        assert tx.crisis_by_key("k2") is None


def test_a_failed_unit_of_work_leaves_nothing_behind(recorded):
    """Everything written inside a `with` that raises is discarded; the exception goes on."""
    with pytest.raises(Boom), recorded.transaction() as tx:
        other = crisis("autre-id", key="k2")
        tx.insert_crisis(other, steps(other))
        tx.append(ID, [(NoteAdded(text="perdu"), AGENT)], T0)
        tx.enqueue([message("m1")], T0)
        tx.record_ack(ID, "maire-42218", "42218", T0)
        tx.update_crisis(ID, closed_at=T0, checkpoints_done=[30])
        first = tx.steps(ID)[0]
        tx.save_steps(ID, [first.model_copy(update={"status": StepStatus.DONE})])
        raise Boom
    with recorded.transaction() as tx:
        assert not tx.id_taken("autre-id")
        assert tx.journal(ID) == []
        assert tx.outbox_by_key("m1") is None
        assert tx.acknowledged(ID) == {}
        assert tx.crisis(ID).closed_at is None and tx.checkpoints_done(ID) == frozenset()
        assert tx.steps(ID)[0].status == StepStatus.PLANNED


def test_the_journal_is_hash_chained_across_units_of_work(recorded):
    """Appends continue the chain from its head; the hashes are those of crisis.journal.chain
    and the stored chain verifies."""
    first = [(NoteAdded(text="un"), AGENT), (WarningRaised(code="debit", message="m"), SYSTEM)]
    second = [(NoteAdded(text="trois"), AGENT)]
    with recorded.transaction() as tx:
        assert tx.append(ID, [], T0) == []
        made = tx.append(ID, first, T0)
    with recorded.transaction() as tx:
        made += tx.append(ID, second, T0 + timedelta(minutes=1))
        entries = tx.journal(ID)
        notes = tx.journal(ID, types=["NoteAdded"])
        stored, head_seq, head_hash = tx.stored_journal(ID)
    expected = chain(ID, 0, GENESIS, first, T0, tz=PARIS)
    expected += chain(ID, 2, expected[-1].hash, second, T0 + timedelta(minutes=1), tz=PARIS)
    assert [e.hash for e in entries] == [e.hash for e in expected] == [e.hash for e in made]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.fact for e in entries] == [f for f, _ in first + second]
    assert [e.seq for e in notes] == [1, 3]
    assert (head_seq, head_hash) == (3, expected[-1].hash)
    assert verify(ID, stored, head_seq, head_hash) == []


def test_ended_chains_are_read_from_the_journal(recorded):
    """chains_ended gives (step, group) of the ChainEnded facts."""
    ended = ChainEnded(
        step_id="alerte_maires",
        engagement=Engagement.E48_1,
        group="commune:42147",
        reason="non joint",
        attempts=(),
    )
    with recorded.transaction() as tx:
        tx.append(ID, [(ended, SYSTEM)], T0)
    with recorded.transaction() as tx:
        assert tx.chains_ended(ID) == frozenset({("alerte_maires", "commune:42147")})


def test_alike_crises_match_reference_or_kind_in_one_mode_oldest_first(uow):
    """The same SYNERGI reference (case, spaces) or kind, of the same mode, by T0."""
    later = crisis("c-later", key="k1", t0=T0 + timedelta(hours=1), synergi_ref="SYN-1")
    earlier = crisis("c-early", key="k2", t0=T0, synergi_ref="SYN-2", kind=EventKind.TEMPETE)
    drill = crisis("c-drill", key="k3", mode=Mode.EXERCICE, synergi_ref="SYN-2")
    with uow.transaction() as tx:
        for c in (later, earlier, drill):
            tx.insert_crisis(c, [])
    with uow.transaction() as tx:
        like = tx.crises_like(Mode.REEL, "  syn-2 ", EventKind.INONDATION)
        assert [c.id for c in like] == ["c-early", "c-later"]
        assert [c.id for c in tx.crises_like(Mode.EXERCICE, "x", EventKind.TEMPETE)] == []


def test_crisis_updates_checkpoints_and_the_open_cip(recorded):
    """update_crisis sets fields and checkpoints; open_cip finds an open crisis by number."""
    with recorded.transaction() as tx:
        tx.update_crisis(ID, cip_number="+33465710001", t0_cip=T0.astimezone(PARIS))
        tx.update_crisis(ID, checkpoints_done=[30, 45])
        tx.update_crisis("nope", closed_at=T0)  # no such crisis: nothing happens
    with recorded.transaction() as tx:
        assert tx.open_cip("+33465710001") == tx.crisis(ID)
        assert tx.crisis(ID).t0_cip == T0 and tx.checkpoints_done(ID) == {30, 45}
        tx.update_crisis(ID, closed_at=T0 + timedelta(hours=2))
    with recorded.transaction() as tx:
        assert tx.open_cip("+33465710001") is None


def test_steps_keep_their_order_and_take_their_new_state(recorded):
    """save_steps writes the status and who did what; other steps stay as they were."""
    with recorded.transaction() as tx:
        before = tx.steps(ID)
        done = before[1].model_copy(
            update={"status": StepStatus.DONE, "approved_by": "dircab", "triggered_at": T0}
        )
        tx.save_steps(ID, [done])
    with recorded.transaction() as tx:
        after = tx.steps(ID)
    assert [s.step_id for s in after] == [s.step_id for s in before]
    assert after[1] == done and after[0] == before[0]


def test_an_acknowledgement_is_recorded_once(recorded):
    """acknowledged gives contact -> commune; a second row for a contact fails the unit."""
    with recorded.transaction() as tx:
        tx.record_ack(ID, "maire-42218", "42218", T0)
        tx.record_ack(ID, "cell-dircab", None, T0)
    with pytest.raises(REFUSED), recorded.transaction() as tx:
        tx.record_ack(ID, "maire-42218", "42218", T0)
    with recorded.transaction() as tx:
        assert tx.acknowledged(ID) == {"maire-42218": "42218", "cell-dircab": None}


def test_outbox_claims_due_rows_oldest_first_and_counts_attempts(recorded):
    """claim_due takes pending due rows of one channel by due time then id, up to the limit."""
    with recorded.transaction() as tx:
        tx.enqueue([message("a"), message("b"), message("v", channel=ChannelName.VOICE)], T0)
        tx.enqueue([message("c")], T0 - timedelta(minutes=1))
        assert tx.next_due(ChannelName.SMS) == T0 - timedelta(minutes=1)
        assert tx.next_due(ChannelName.EMAIL) is None
    with recorded.transaction() as tx:
        claimed = tx.claim_due(ChannelName.SMS, T0, 2)
        assert [i.message.idempotency_key for i in claimed] == ["c", "a"]
        assert {(i.state, i.attempts) for i in claimed} == {(OutboxState.SENDING, 1)}
        assert tx.claim_due(ChannelName.SMS, T0 - timedelta(hours=1), 10) == []
    with recorded.transaction() as tx:
        assert tx.outbox_by_key("a") == claimed[1]
        keys = {i.message.idempotency_key for i in tx.in_states([OutboxState.SENDING])}
        assert keys == {"a", "c"}
        assert tx.next_due(ChannelName.SMS) == T0


def test_outcomes_never_overwrite_a_providers_receipt(recorded):
    """record_outcomes writes only rows still sending or unknown; a None provider id or retry
    time keeps the stored one."""
    with recorded.transaction() as tx:
        tx.enqueue([message("a"), message("b", contact="maire-42187")], T0)
        a, b = tx.claim_due(ChannelName.SMS, T0, 10)
        tx.set_outbox(a.id, T0, state=OutboxState.DELIVERED, provider_id="SM1")
    later = T0 + timedelta(minutes=5)
    with recorded.transaction() as tx:
        tx.record_outcomes(
            [
                OutboxUpdate(outbox_id=a.id, state=OutboxState.FAILED, reason="trop tard"),
                OutboxUpdate(
                    outbox_id=b.id, state=OutboxState.PENDING, reason="x" * 600, retry_at=later
                ),
            ],
            T0,
        )
    with recorded.transaction() as tx:
        assert tx.outbox_by_key("a").state == OutboxState.DELIVERED
        assert tx.outbox_by_key("b").state == OutboxState.PENDING
        assert tx.next_due(ChannelName.SMS) == later
        assert tx.find_outbox(channel=ChannelName.SMS, provider_id="SM1") == tx.outbox_by_key("a")
        assert tx.find_outbox(channel=ChannelName.VOICE, provider_id="SM1") is None
        assert tx.find_outbox(channel=ChannelName.SMS, idempotency_key="b").id == b.id
        assert tx.find_outbox(channel=ChannelName.SMS) is None


def test_a_duplicate_outbox_key_fails_the_unit_of_work(recorded):
    """An idempotency key already queued is refused and nothing of the unit is kept."""
    with recorded.transaction() as tx:
        tx.enqueue([message("a")], T0)
    with pytest.raises(REFUSED), recorded.transaction() as tx:
        tx.enqueue([message("b"), message("a")], T0)
    with recorded.transaction() as tx:
        assert tx.outbox_by_key("b") is None


def test_cancel_pending_takes_only_matching_queued_rows(recorded):
    """Pending rows of the crisis matching every filter are cancelled and returned as they were."""
    with recorded.transaction() as tx:
        tx.enqueue(
            [
                message("a"),
                message("b", contact="adjoint1-42218"),
                message("c", contact="maire-42187", commune="42187"),
                message("d", contact="adjoint1-42218", channel=ChannelName.VOICE),
            ],
            T0,
        )
        tx.claim_due(ChannelName.VOICE, T0, 10)  # "d" is sending: out of reach
        cancel = CancelPending(reason="commune jointe", commune="42218")
        cancelled = tx.cancel_pending(ID, cancel, T0)
        assert [i.message.idempotency_key for i in cancelled] == ["a", "b"]
        assert {i.state for i in cancelled} == {OutboxState.PENDING}
    with recorded.transaction() as tx:
        states = {k: tx.outbox_by_key(k).state for k in "abcd"}
        assert tx.cancel_pending(ID, CancelPending(reason="x", contact_id="nobody"), T0) == []
    assert states == {
        "a": OutboxState.CANCELLED,
        "b": OutboxState.CANCELLED,
        "c": OutboxState.PENDING,
        "d": OutboxState.SENDING,
    }


def test_call_attempts_and_the_latest_message_to_an_address(recorded):
    """Voice rows of escalating steps count their attempt from the key; a reply answers the
    latest handed-over message to its address that asked for it, in an open crisis."""
    with recorded.transaction() as tx:
        tx.enqueue(
            [
                message("call", channel=ChannelName.VOICE),
                message("call:r2", channel=ChannelName.VOICE),
                message("first"),
                message("info", ask=False),
            ],
            T0,
        )
        tx.enqueue([message("second")], T0 + timedelta(minutes=1))
        attempts = tx.call_attempts(ID, ["alerte_maires"])
        assert tx.latest_to(ChannelName.SMS, "+33639980001", asking_ack=True) is None  # pending
        tx.claim_due(ChannelName.SMS, T0 + timedelta(minutes=2), 10)
    assert [(a.contact_id, a.attempt, a.state) for a in attempts] == [
        ("maire-42218", 1, OutboxState.PENDING),
        ("maire-42218", 2, OutboxState.PENDING),
    ]
    with recorded.transaction() as tx:
        assert tx.call_attempts(ID, ["autre"]) == []
        asked = tx.latest_to(ChannelName.SMS, "+33639980001", asking_ack=True)
        assert asked is not None and asked.message.idempotency_key == "second"
        assert tx.latest_to(ChannelName.SMS, "+33639980099", asking_ack=False) is None
        tx.update_crisis(ID, closed_at=T0)
    with recorded.transaction() as tx:
        assert tx.latest_to(ChannelName.SMS, "+33639980001", asking_ack=False) is None


def test_saved_steps_keep_a_moved_due_time(recorded):
    """A step saved with a new due time (a rectified T0) is due then."""
    with recorded.transaction() as tx:
        step = tx.steps(ID)[-1]
        moved = step.model_copy(update={"due_at": step.due_at + timedelta(minutes=40)})
        tx.save_steps(ID, [moved])
    with recorded.transaction() as tx:
        assert tx.steps(ID)[-1].due_at == moved.due_at

"""Training rules (47.2, 50.2): who counts as trained, which CIP agents are set aside, what expires."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from contacts.check import quorum_shortfall
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Contact, Directory, Role, TrainingRecord
from contacts.training import cip_flags, expiry_warnings, is_trained, trained_ids

ON = date(2026, 11, 23)
COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187"}]


def agent(cid: str, role: Role = Role.AGENT_CIP, *, trained: bool = False) -> Contact:
    return Contact(id=cid, name=cid, role=role, mobile="+33639980001", trained=trained)


def rec(cid: str, kind: str, on: date, **extra: object) -> TrainingRecord:
    return TrainingRecord.model_validate({"contact_id": cid, "kind": kind, "on": on, **extra})


def test_initial_training_record_or_legacy_flag_makes_a_recall_agent_trained():
    """A recall agent is trained with an initial training record or the imported flag, not without."""
    records = [rec("a", "formation_initiale", date(2020, 1, 6))]
    assert is_trained(agent("a", Role.AGENT_RAPPEL), records, ON)
    assert is_trained(agent("b", Role.AGENT_RAPPEL, trained=True), records, ON)
    assert not is_trained(agent("c", Role.AGENT_RAPPEL), records, ON)


def test_records_after_the_date_do_not_count():
    """A training dated after the day judged is ignored (rules are "as of" a date)."""
    records = [rec("a", "formation_initiale", ON + timedelta(days=1))]
    assert not is_trained(agent("a", Role.AGENT_RAPPEL), records, ON)
    assert is_trained(agent("a", Role.AGENT_RAPPEL), records, ON + timedelta(days=1))


def test_cip_agent_needs_a_training_within_365_days():
    """A CIP agent is trained until 365 days after the last initial training or refresher."""
    cip = agent("cip", trained=True)
    assert not is_trained(cip, [], ON)  # the legacy flag alone does not prove the refresher
    last = ON - timedelta(days=365)
    records = [rec("cip", "formation_initiale", date(2022, 5, 2)), rec("cip", "recyclage", last)]
    assert is_trained(cip, records, ON)
    assert not is_trained(cip, records, ON + timedelta(days=1))


def test_cip_flags_give_french_reasons_with_the_date_of_the_last_refresher():
    """An expired refresher and no exercise with CIP activation are both named, dated in French."""
    records = [
        rec("cip", "formation_initiale", date(2022, 5, 2)),
        rec("cip", "recyclage", date(2025, 3, 12)),
        rec("cip", "exercice", date(2025, 6, 1)),  # without activation of the CIP
    ]
    flags = cip_flags(agent("cip"), records, ON)
    assert flags == [
        "recyclage de plus d'un an (dernier le 12/03/2025)",
        "jamais d'exercice avec activation de la CIP",
    ]


def test_cip_agent_with_everything_in_date_has_no_flag():
    """Initial day, refresher within the year, one exercise with activation: nothing to say."""
    records = [
        rec("cip", "formation_initiale", date(2022, 5, 2)),
        rec("cip", "recyclage", date(2026, 3, 12), duration_days=0.5),
        rec("cip", "exercice", date(2024, 10, 8), with_cip_activation=True),
    ]
    assert cip_flags(agent("cip"), records, ON) == []


def test_cip_flags_missing_or_short_initial_training():
    """No initial training at all, or an initial training shorter than one day, is flagged."""
    assert cip_flags(agent("x"), [], ON)[0] == "formation initiale non enregistrée"
    short = [
        rec("y", "formation_initiale", date(2026, 9, 1), duration_days=0.5),
        rec("y", "exercice", date(2026, 10, 1), with_cip_activation=True),
    ]
    assert cip_flags(agent("y"), short, ON) == ["formation initiale de moins d'une journée (0,5 j)"]
    assert cip_flags(agent("z", trained=True), [], ON)[0] == "aucun recyclage enregistré"


def test_cip_activation_is_only_for_exercises():
    """A refresher cannot carry "with CIP activation" (a French validation message)."""
    with pytest.raises(ValidationError, match="qu'un exercice"):
        rec("a", "recyclage", ON, with_cip_activation=True)


def test_expiry_warnings_list_refreshers_expiring_within_the_window_soonest_first():
    """Refreshers running out within 60 days are listed; later or already expired ones are not."""
    contacts = tuple(agent(f"cip-{i}") for i in range(1, 5))
    training = (
        rec("cip-1", "recyclage", ON - timedelta(days=365 - 61)),  # expires in 61 days
        rec("cip-2", "recyclage", ON - timedelta(days=365 - 10)),  # in 10 days
        rec("cip-3", "recyclage", ON - timedelta(days=365 - 60)),  # in 60 days
        rec("cip-4", "recyclage", ON - timedelta(days=366)),  # expired yesterday
    )
    directory = Directory(contacts=contacts, training=training)
    due = expiry_warnings(directory, ON)
    assert [d.contact_id for d in due] == ["cip-2", "cip-3"]
    assert due[0].expires_on == ON + timedelta(days=10)
    assert "au plus tard le 03/12/2026" in due[0].message


def test_only_trained_agents_count_in_the_quorum():
    """trained_ids follows the records; the quorum check with a date counts only those ids."""
    contacts = (
        agent("r1", Role.AGENT_RAPPEL),
        agent("r2", Role.AGENT_RAPPEL, trained=True),
        agent("r3", Role.AGENT_RAPPEL),
    )
    directory = Directory(
        contacts=contacts, training=(rec("r1", "formation_initiale", date(2025, 1, 9)),)
    )
    assert trained_ids(directory, ON) == frozenset({"r1", "r2"})
    assert quorum_shortfall(directory, {Role.AGENT_RAPPEL: 2}, label="test", on=ON) == []
    assert quorum_shortfall(directory, {Role.AGENT_RAPPEL: 3}, label="test", on=ON)
    # before r1's training, only r2 counts
    early = quorum_shortfall(directory, {Role.AGENT_RAPPEL: 2}, label="t", on=date(2025, 1, 8))
    assert early and "1 dans l'annuaire" in early[0].message


def test_demo_training_has_untrained_expired_and_never_exercised_agents():
    """The demo's records, as of its date: untrained recall agents, cip-2 expired, cip-3 no exercise."""
    now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    directory = demo_directory(COMMUNES, now=now)
    today = now.date()
    ids = trained_ids(directory, today)
    assert {"cell-rappel-1", "cell-rappel-4", "cell-dircab"} <= ids
    assert not {"cell-rappel-5", "cell-rappel-6", "cip-2"} & ids
    cip = {
        c.id: cip_flags(c, directory.training, today) for c in directory.with_role(Role.AGENT_CIP)
    }
    assert cip["cip-1"] == [] and cip["cip-4"] == []
    assert cip["cip-2"][0].startswith("recyclage de plus d'un an (dernier le ")
    assert cip["cip-3"] == ["jamais d'exercice avec activation de la CIP"]
    assert [d.contact_id for d in expiry_warnings(directory, today)] == ["cip-4"]


def test_demo_training_is_deterministic_for_seed_and_date():
    """Same seed and date: same records; another date shifts them; no date: no records."""
    now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    a = demo_directory(COMMUNES, seed=3, now=now)
    assert a == demo_directory(COMMUNES, seed=3, now=now + timedelta(hours=2))  # same local day
    later = demo_directory(COMMUNES, seed=3, now=now + timedelta(days=10))
    assert [r.on + timedelta(days=10) for r in a.training] == [r.on for r in later.training]
    assert demo_directory(COMMUNES, seed=3).training == ()

"""On-call rosters (47.1, 50.2): who is on call when, gaps, the CIP roster, roster checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from contacts.check import check_directory, cip_roster_warnings, roster_gaps
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Contact, Directory, Role, RosterSlot, TrainingRecord
from contacts.roster import cip_roster, conflicts, gaps, has_roster, on_call

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
H = timedelta(hours=1)
COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187"}]


def person(cid: str, role: Role) -> Contact:
    return Contact(id=cid, name=cid, role=role, mobile="+33639980001")


def slot(
    role: Role, start: datetime, hours: int, holder: str, deputy: str | None = None
) -> RosterSlot:
    return RosterSlot(
        role=role, starts=start, ends=start + hours * H, contact_id=holder, deputy_id=deputy
    )


STAFF = (
    person("dircab", Role.DIRECTION_ASTREINTE),
    person("sp", Role.DIRECTION_ASTREINTE),
    person("a1", Role.AGENT_ASTREINTE),
    person("cip-ok", Role.AGENT_CIP),
    person("cip-old", Role.AGENT_CIP),
)
GOOD_CIP = (
    TrainingRecord(contact_id="cip-ok", kind="formation_initiale", on=date(2026, 1, 5)),
    TrainingRecord(
        contact_id="cip-ok", kind="exercice", on=date(2026, 6, 5), with_cip_activation=True
    ),
    TrainingRecord(contact_id="cip-old", kind="formation_initiale", on=date(2024, 1, 5)),
    TrainingRecord(
        contact_id="cip-old", kind="exercice", on=date(2024, 6, 5), with_cip_activation=True
    ),
)


def test_on_call_gives_the_holder_then_the_deputy_start_included_end_excluded():
    """At any instant of a slot the holder comes first, then the deputy; at its end the next slot."""
    directory = Directory(
        contacts=STAFF,
        rosters=(
            slot(Role.DIRECTION_ASTREINTE, DAY, 24, "dircab", "sp"),
            slot(Role.DIRECTION_ASTREINTE, DAY + 24 * H, 24, "sp"),
        ),
    )
    ids = lambda at: [c.id for c in on_call(directory, Role.DIRECTION_ASTREINTE, at)]  # noqa: E731
    assert ids(DAY) == ["dircab", "sp"]
    assert ids(DAY + 23 * H) == ["dircab", "sp"]
    assert ids(DAY + 24 * H) == ["sp"]
    assert ids(DAY - H) == []
    assert on_call(directory, Role.AGENT_ASTREINTE, DAY) == []
    assert has_roster(directory, Role.DIRECTION_ASTREINTE)
    assert not has_roster(directory, Role.AGENT_ASTREINTE)


def test_on_call_skips_people_no_longer_in_the_directory():
    """A slot whose holder was erased still yields its deputy."""
    directory = Directory(
        contacts=STAFF, rosters=(slot(Role.DIRECTION_ASTREINTE, DAY, 24, "erased", "sp"),)
    )
    assert [c.id for c in on_call(directory, Role.DIRECTION_ASTREINTE, DAY)] == ["sp"]


def test_gaps_are_the_periods_without_anybody_merged_and_clipped():
    """Uncovered periods of [start, end) come back in order; overlapping slots merge."""
    directory = Directory(
        contacts=STAFF,
        rosters=(
            slot(Role.AGENT_ASTREINTE, DAY, 10, "a1"),
            slot(Role.AGENT_ASTREINTE, DAY + 12 * H, 4, "a1"),
            slot(Role.AGENT_ASTREINTE, DAY + 14 * H, 4, "nobody-known"),
        ),
    )
    found = gaps(directory, Role.AGENT_ASTREINTE, DAY - 2 * H, DAY + 20 * H)
    assert found == [
        (DAY - 2 * H, DAY),
        (DAY + 10 * H, DAY + 12 * H),
        (DAY + 16 * H, DAY + 20 * H),
    ]
    assert gaps(directory, Role.AGENT_ASTREINTE, DAY + H, DAY + 2 * H) == []


def test_cip_roster_leaves_out_flagged_agents_unless_asked():
    """An agent whose refresher is over a year old answers only with include_flagged=True."""
    directory = Directory(
        contacts=STAFF,
        training=GOOD_CIP,
        rosters=(
            slot(Role.AGENT_CIP, DAY, 12, "cip-old"),
            slot(Role.AGENT_CIP, DAY, 12, "cip-ok"),
        ),
    )
    on = date(2026, 11, 23)
    assert [c.id for c in cip_roster(directory, DAY + H, on)] == ["cip-ok"]
    everyone = cip_roster(directory, DAY + H, on, include_flagged=True)
    assert sorted(c.id for c in everyone) == ["cip-ok", "cip-old"]


def test_conflicts_one_person_at_a_time_on_astreinte_side_by_side_at_the_cip():
    """Overlapping astreinte slots conflict; CIP agents may overlap unless it is the same agent."""
    a = slot(Role.AGENT_ASTREINTE, DAY, 12, "a1")
    assert conflicts(a, slot(Role.AGENT_ASTREINTE, DAY + 11 * H, 4, "sp"))
    assert not conflicts(a, slot(Role.AGENT_ASTREINTE, DAY + 12 * H, 4, "a1"))  # back to back
    assert not conflicts(a, slot(Role.DIRECTION_ASTREINTE, DAY, 12, "dircab"))
    c = slot(Role.AGENT_CIP, DAY, 12, "cip-ok")
    assert not conflicts(c, slot(Role.AGENT_CIP, DAY, 12, "cip-old"))
    assert conflicts(c, slot(Role.AGENT_CIP, DAY + H, 2, "cip-old", "cip-ok"))


def test_roster_slot_validation_messages_are_french():
    """Naive times, an end before the start, a role without roster and holder = deputy are refused."""
    with pytest.raises(ValidationError):
        RosterSlot(
            role=Role.AGENT_CIP,
            starts=datetime(2026, 11, 23, 8, 0),  # naive: the point of the test
            ends=DAY + H,
            contact_id="x",
        )
    with pytest.raises(ValidationError, match="doit suivre son début"):
        slot(Role.AGENT_CIP, DAY, 0, "x")
    with pytest.raises(ValidationError, match="pas de tableau d'astreinte"):
        slot(Role.MAIRE, DAY, 2, "x")
    with pytest.raises(ValidationError, match="suppléant ne peut pas"):
        slot(Role.AGENT_ASTREINTE, DAY, 2, "x", "x")


def test_demo_rosters_cover_the_next_days_at_08_00_paris_time():
    """The demo has someone on every roster from now for the next week; changeover at 08:00 local."""
    now = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # the week of the switch to summer time
    directory = demo_directory(COMMUNES, now=now)
    for role in (Role.DIRECTION_ASTREINTE, Role.AGENT_ASTREINTE, Role.AGENT_CIP):
        assert gaps(directory, role, now, now + timedelta(days=7)) == []
        assert on_call(directory, role, now)
    assert {s.starts.astimezone(PARIS).hour for s in directory.rosters} == {8}
    assert {c.id for c in on_call(directory, Role.DIRECTION_ASTREINTE, now)} == {
        "cell-dircab",
        "cell-sousprefet",
    }
    # every day has one CIP agent the 50.2 rules set aside, and one who answers
    for day in range(7):
        at = now + timedelta(days=day)
        assert len(cip_roster(directory, at, at.date())) == 1
        assert len(cip_roster(directory, at, at.date(), include_flagged=True)) == 2


def test_check_reports_roster_gaps_flagged_cip_agents_and_expiring_refreshers():
    """With a time, the check warns about the next week's gaps, set-aside CIP agents, refreshers."""
    now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    directory = demo_directory(COMMUNES, now=now)
    later = now + timedelta(days=10)  # the demo rosters end 08:00 on the 14th day
    holes = roster_gaps(directory, later, tz=PARIS)
    assert len(holes) == 3 and all(f.severity == "avertissement" for f in holes)
    assert "personne d'astreinte du 07/12/2026 08:00 au 10/12/2026 14:00" in holes[0].message
    cip = cip_roster_warnings(directory, now, tz=PARIS)
    codes = {(f.code, f.contact_ids) for f in cip}
    assert ("agent_cip_ecarte", ("cip-2",)) in codes
    assert ("agent_cip_ecarte", ("cip-3",)) in codes
    assert ("recyclage_a_prevoir", ("cip-4",)) in codes
    findings = check_directory(directory, now=now, tz=PARIS)
    assert [f for f in findings if f.severity == "erreur"] == []
    assert {f.code for f in findings} >= {"agent_cip_ecarte", "recyclage_a_prevoir"}
    assert "+33" not in " ".join(f.message for f in findings)

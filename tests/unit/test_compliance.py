"""The one-hour compliance check, judged from hand-made journals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from journal_builder import JournalBuilder, official, step, t

from channels.base import ChannelName
from contacts.model import Role
from crisis.compliance import (
    ENGAGEMENTS,
    CommuneReach,
    commune_reach,
    describe,
    judge,
)
from crisis.model import EngagementStatus, Verdict
from crisis.service import final_verdicts
from playbooks.model import Action, Engagement, EventKind, Section

S = EngagementStatus
E = Engagement
C = ChannelName
EXACT = (0, S.MET)  # satisfied at T0+60:00 exactly
ONE_SECOND_LATE = (1, S.LATE)  # satisfied at T0+60:01
ON_THE_EDGE = pytest.mark.parametrize(("extra_seconds", "expected"), [EXACT, ONE_SECOND_LATE])


def verdict(b: JournalBuilder, ref: str, now: datetime | None = None) -> Verdict:
    verdicts = judge(b.entries, now or t(90))
    return verdicts[ENGAGEMENTS.index(ref)]


# --- general -----------------------------------------------------------------------------


def test_judge_returns_one_verdict_per_engagement_in_order() -> None:
    """judge() answers every engagement of ENGAGEMENTS, in that order."""
    verdicts = judge(JournalBuilder().entries, t(90))
    assert tuple(v.engagement for v in verdicts) == ENGAGEMENTS


def test_journal_without_cod_activation_is_refused() -> None:
    """A journal with no CodActivated cannot be judged."""
    b = JournalBuilder()
    with pytest.raises(ValueError, match="COD"):
        judge(b.entries[1:], t(90))


def test_backdated_t0_counts_from_synergi_time_not_recording_time() -> None:
    """T0 02:10 recorded at 02:25: an ack at 03:09 is met, at 03:11 late."""
    t0 = datetime(2025, 3, 14, 2, 10, tzinfo=UTC)
    for ack_at, expected in (
        (datetime(2025, 3, 14, 3, 9, tzinfo=UTC), S.MET),
        (datetime(2025, 3, 14, 3, 11, tzinfo=UTC), S.LATE),
    ):
        b = JournalBuilder(t0=t0, recorded_at=datetime(2025, 3, 14, 2, 25, tzinfo=UTC))
        b.ack(ack_at, "presse1", Role.PRESSE)
        v = verdict(b, "48.2", now=datetime(2025, 3, 14, 4, 0, tzinfo=UTC))
        assert v.status == expected
        assert v.delay_seconds == (ack_at - t0).total_seconds()


def test_backdated_t0_judged_before_the_activation_was_recorded() -> None:
    """As of a time between T0 and the recording of the activation, the clock already runs."""
    b = JournalBuilder(recorded_at=t(15))
    assert verdict(b, "48.2", now=t(10)).status == S.PENDING


def test_judging_as_of_an_earlier_now_ignores_later_entries() -> None:
    """Entries recorded after `now` do not count."""
    b = JournalBuilder()
    b.ack(t(40), "presse1", Role.PRESSE)
    assert verdict(b, "48.2", now=t(35)).status == S.AT_RISK
    assert verdict(b, "48.2", now=t(40)).status == S.MET


@pytest.mark.parametrize(
    ("now", "expected"),
    [(t(29, 59), S.PENDING), (t(30), S.AT_RISK), (t(60), S.AT_RISK), (t(60, 1), S.MISSED)],
)
def test_unsatisfied_engagement_is_pending_then_at_risk_then_missed(
    now: datetime, expected: EngagementStatus
) -> None:
    """Not done: pending before T0+30, at risk until T0+60 inclusive, missed after."""
    assert verdict(JournalBuilder(), "48.3", now=now).status == expected


# --- 47.1 -----------------------------------------------------------------------------------


def test_47_1_met_when_lead_and_agent_astreinte_acknowledged() -> None:
    """47.1 is met at the later of the two first acknowledgements."""
    b = JournalBuilder()
    lead = b.ack(t(4), "dircab", Role.DIRECTION_ASTREINTE)
    agent = b.ack(t(7), "agent", Role.AGENT_ASTREINTE)
    b.ack(t(9), "dircab", Role.DIRECTION_ASTREINTE)
    v = verdict(b, "47.1")
    assert v.status == S.MET
    assert v.at == t(7)
    assert v.delay_seconds == 420
    assert v.evidence == (b.cod_seq, lead, agent)


@ON_THE_EDGE
def test_47_1_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """The agent d'astreinte acknowledging at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder()
    b.ack(t(4), "dircab", Role.DIRECTION_ASTREINTE)
    b.ack(t(60, extra_seconds), "agent", Role.AGENT_ASTREINTE)
    assert verdict(b, "47.1").status == expected


def test_47_1_missed_without_agent_astreinte() -> None:
    """Only the lead acknowledged: missed after T0+60, evidence shows the lead's ack."""
    b = JournalBuilder()
    lead = b.ack(t(4), "dircab", Role.DIRECTION_ASTREINTE)
    v = verdict(b, "47.1")
    assert v.status == S.MISSED
    assert v.at is None
    assert v.evidence == (b.cod_seq, lead)
    assert "agent d'astreinte : pas de confirmation" in v.detail


# --- 47.2 -----------------------------------------------------------------------------------

QUORUM = {Role.CHARGE_COMMUNICATION: 1, Role.AGENT_RAPPEL: 2}


def test_47_2_met_when_trained_quorum_acknowledged() -> None:
    """Quorum reached by distinct trained members: met at the completing ack."""
    b = JournalBuilder(quorum=QUORUM)
    a1 = b.ack(t(10), "a1", Role.AGENT_RAPPEL)
    b.ack(t(11), "a1", Role.AGENT_RAPPEL)  # same agent twice counts once
    c1 = b.ack(t(12), "c1", Role.CHARGE_COMMUNICATION)
    a2 = b.ack(t(20), "a2", Role.AGENT_RAPPEL)
    b.ack(t(25), "a3", Role.AGENT_RAPPEL)  # beyond the quorum
    v = verdict(b, "47.2")
    assert v.status == S.MET
    assert v.at == t(20)
    assert v.evidence == (b.cod_seq, a1, c1, a2)


def test_47_2_untrained_agents_are_not_counted() -> None:
    """An untrained agent's ack never completes the quorum, and the detail says so."""
    b = JournalBuilder(quorum=QUORUM)
    b.ack(t(10), "a1", Role.AGENT_RAPPEL)
    b.ack(t(11), "c1", Role.CHARGE_COMMUNICATION)
    untrained = b.ack(t(12), "a2", Role.AGENT_RAPPEL, trained=False)
    v = verdict(b, "47.2")
    assert v.status == S.MISSED
    assert untrained not in v.evidence
    assert "1 agent non formé non compté" in v.detail
    assert "agent de la liste de rappel 1/2" in v.detail


@ON_THE_EDGE
def test_47_2_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """The ack completing the quorum at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    b.ack(t(60, extra_seconds), "a1", Role.AGENT_RAPPEL)
    assert verdict(b, "47.2").status == expected


def test_47_2_not_applicable_without_quorum() -> None:
    """A playbook without quorum leaves 47.2 without object."""
    v = verdict(JournalBuilder(), "47.2")
    assert v.status == S.NOT_APPLICABLE
    assert v.evidence == (1,)


# --- 47 -------------------------------------------------------------------------------------


def test_47_met_when_47_1_and_47_2_met() -> None:
    """47 combines 47.1 and 47.2: met at the later, evidence is the union."""
    b = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    lead = b.ack(t(3), "dircab", Role.DIRECTION_ASTREINTE)
    agent = b.ack(t(5), "agent", Role.AGENT_ASTREINTE)
    a1 = b.ack(t(25), "a1", Role.AGENT_RAPPEL)
    v = verdict(b, "47")
    assert v.status == S.MET
    assert v.at == t(25)
    assert v.delay_seconds == 1500
    assert v.evidence == (b.cod_seq, lead, agent, a1)


def test_47_late_when_a_part_is_late_and_missed_when_one_is_missed() -> None:
    """47 is late if a part is late, missed if a part is missed."""
    b = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    b.ack(t(3), "dircab", Role.DIRECTION_ASTREINTE)
    b.ack(t(5), "agent", Role.AGENT_ASTREINTE)
    assert verdict(b, "47").status == S.MISSED
    b.ack(t(60, 1), "a1", Role.AGENT_RAPPEL)
    assert verdict(b, "47").status == S.LATE


def test_47_follows_its_open_part_before_the_deadline() -> None:
    """47.1 met and 47.2 still open: 47 is pending, then at risk."""
    b = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    b.ack(t(3), "dircab", Role.DIRECTION_ASTREINTE)
    b.ack(t(5), "agent", Role.AGENT_ASTREINTE)
    assert verdict(b, "47", now=t(10)).status == S.PENDING
    assert verdict(b, "47", now=t(45)).status == S.AT_RISK


def test_47_ignores_a_not_applicable_quorum() -> None:
    """Without quorum, 47 is 47.1."""
    b = JournalBuilder()
    b.ack(t(3), "dircab", Role.DIRECTION_ASTREINTE)
    assert verdict(b, "47", now=t(35)).status == S.AT_RISK
    b.ack(t(36), "agent", Role.AGENT_ASTREINTE)
    assert verdict(b, "47").status == S.MET


# --- 48.1 -----------------------------------------------------------------------------------

MAIRES = step("maires", E.E48_1, 0)
ADJOINTS = step("adjoints", E.E48_1, 20)
AFTER_THE_HOUR = step("rappel", E.E48_1, 75)


def officials_journal(*communes: str) -> JournalBuilder:
    """Two communes; maires called at T0, adjoints of the unreached at T0+20."""
    return JournalBuilder(
        communes=communes or ("01001", "01002"), steps=(MAIRES, ADJOINTS, AFTER_THE_HOUR)
    )


def test_48_1_met_when_every_commune_has_an_official_who_acknowledged() -> None:
    """Every commune reached: met at the last commune's ack."""
    b = officials_journal()
    b.triggered(t(0), MAIRES)
    b.queued(t(0), "maires", E.E48_1, C.VOICE, [official("01001", "m1"), official("01002", "m2")])
    a1 = b.ack(t(3), "m1", Role.MAIRE, commune="01001")
    a2 = b.ack(t(42), "s2", Role.SECRETARIAT, commune="01002")
    v = verdict(b, "48.1")
    assert v.status == S.MET
    assert v.at == t(42)
    assert v.evidence == (b.cod_seq, a1, a2)
    assert v.detail == "2 communes jointes"


@ON_THE_EDGE
def test_48_1_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """An adjoint acknowledging at T0+60:00 is met, at T0+60:01 late."""
    b = officials_journal("01001")
    b.ack(t(60, extra_seconds), "adj", Role.ADJOINT, commune="01001")
    assert verdict(b, "48.1").status == expected


def test_48_1_acknowledgement_from_a_non_official_does_not_reach_the_commune() -> None:
    """Only maires, adjoints and secrétariats reach a commune."""
    b = officials_journal("01001")
    b.ack(t(5), "agent", Role.AGENT_ASTREINTE, commune="01001")
    assert verdict(b, "48.1").status == S.MISSED


def non_joint_journal(*, fallback_tried: bool = True) -> tuple[JournalBuilder, list[int]]:
    """01001 reached; 01002's maire and adjoint called, nobody answered."""
    b = officials_journal()
    seqs = [b.triggered(t(0), MAIRES)]
    seqs.append(
        b.queued(
            t(0), "maires", E.E48_1, C.VOICE, [official("01001", "m1"), official("01002", "m2")]
        )
    )
    b.attempt(t(1), "maires", E.E48_1, C.VOICE, outbox_key="k-m1", contact_id="m1")
    ack = b.ack(t(2), "m1", Role.MAIRE, commune="01001")
    seqs.append(b.attempt(t(1), "maires", E.E48_1, C.VOICE, outbox_key="k-m2", contact_id="m2"))
    seqs.append(b.triggered(t(20), ADJOINTS))
    seqs.append(
        b.queued(t(20), "adjoints", E.E48_1, C.VOICE, [official("01002", "a2", Role.ADJOINT)])
    )
    seqs.append(
        b.attempt(
            t(21),
            "adjoints",
            E.E48_1,
            C.VOICE,
            outbox_key="k-a2",
            contact_id="a2",
            outcome="retry",
        )
    )
    if fallback_tried:
        seqs.append(
            b.attempt(
                t(24),
                "adjoints",
                E.E48_1,
                C.VOICE,
                outbox_key="k-a2",
                contact_id="a2",
                outcome="failed",
            )
        )
    return b, [b.cod_seq, ack, *seqs]


def test_48_1_non_joint_commune_with_every_attempt_made_counts_as_met() -> None:
    """A commune nobody answered in, with every call and fallback made, is reported non joint."""
    b, seqs = non_joint_journal()
    v = verdict(b, "48.1")
    assert v.status == S.MET
    assert v.at == t(24)
    assert v.evidence == tuple(sorted(seqs))
    assert v.detail == "1 commune jointe, 1 non jointe (toutes les tentatives faites)"


def test_48_1_non_joint_commune_with_a_missing_fallback_attempt_is_missed() -> None:
    """A fallback call that never got an outcome leaves the commune short: missed."""
    b, _ = non_joint_journal(fallback_tried=False)
    v = verdict(b, "48.1")
    assert v.status == S.MISSED
    assert "1 sans toutes les tentatives" in v.detail


def test_48_1_fallback_step_never_triggered_is_missed() -> None:
    """A planned fallback step that never ran leaves every unreached commune short."""
    b = officials_journal("01002")
    b.triggered(t(0), MAIRES)
    b.queued(t(0), "maires", E.E48_1, C.VOICE, [official("01002", "m2")])
    b.attempt(t(1), "maires", E.E48_1, C.VOICE, outbox_key="k-m2", contact_id="m2")
    assert verdict(b, "48.1").status == S.MISSED
    assert verdict(b, "48.1", now=t(45)).status == S.AT_RISK


def test_48_1_commune_without_any_official_in_the_directory_is_missed() -> None:
    """A commune nobody could be queued for after all steps ran is injoignable: missed."""
    b = officials_journal("01001", "09999")
    b.triggered(t(0), MAIRES)
    b.queued(t(0), "maires", E.E48_1, C.VOICE, [official("01001", "m1")])
    b.ack(t(2), "m1", Role.MAIRE, commune="01001")
    b.triggered(t(20), ADJOINTS)
    v = verdict(b, "48.1")
    assert v.status == S.MISSED
    assert "1 injoignable" in v.detail


def test_48_1_not_applicable_without_communes() -> None:
    """An event with no commune concerned leaves 48.1 without object."""
    assert verdict(JournalBuilder(), "48.1").status == S.NOT_APPLICABLE


def test_commune_reach_statuses() -> None:
    """joint, non_joint, en_cours and injoignable, per commune, in CodActivated order."""
    b = officials_journal("01001", "01002", "01003", "09999")
    b.triggered(t(0), MAIRES)
    b.queued(
        t(0),
        "maires",
        E.E48_1,
        C.VOICE,
        [official("01001", "m1"), official("01002", "m2"), official("01003", "m3")],
    )
    for contact in ("m1", "m2", "m3"):
        b.attempt(t(1), "maires", E.E48_1, C.VOICE, outbox_key=f"k-{contact}", contact_id=contact)
    ack = b.ack(t(2), "m1", Role.MAIRE, commune="01001")
    b.triggered(t(20), ADJOINTS)
    b.queued(
        t(20),
        "adjoints",
        E.E48_1,
        C.VOICE,
        [official("01002", "a2", Role.ADJOINT), official("01003", "a3", Role.ADJOINT)],
    )
    b.attempt(t(21), "adjoints", E.E48_1, C.VOICE, outbox_key="k-a2", contact_id="a2")
    b.attempt(
        t(21), "adjoints", E.E48_1, C.VOICE, outbox_key="k-a3", contact_id="a3", outcome="unknown"
    )
    reach = commune_reach(b.entries, t(30))
    assert [r.code_insee for r in reach] == ["01001", "01002", "01003", "09999"]
    assert [r.status for r in reach] == ["joint", "non_joint", "en_cours", "injoignable"]
    joint, non_joint, en_cours, _ = reach
    assert joint == CommuneReach(
        code_insee="01001",
        status="joint",
        contact_id="m1",
        role=Role.MAIRE,
        at=t(2),
        attempts=1,
        complete=True,
        evidence=(b.cod_seq, ack),
    )
    assert (non_joint.at, non_joint.attempts, non_joint.complete) == (t(21), 2, True)
    assert (en_cours.at, en_cours.attempts, en_cours.complete) == (None, 2, False)
    after = commune_reach(b.entries, t(61))
    assert (after[2].status, after[2].complete) == ("non_joint", False)


# --- 48.2 -----------------------------------------------------------------------------------


def test_48_2_met_when_someone_of_the_press_pool_acknowledged() -> None:
    """48.2 is met at the first vivier presse ack."""
    b = JournalBuilder()
    b.ack(t(2), "agent", Role.AGENT_ASTREINTE)
    p = b.ack(t(12), "presse1", Role.PRESSE)
    v = verdict(b, "48.2")
    assert (v.status, v.at, v.evidence) == (S.MET, t(12), (b.cod_seq, p))


@ON_THE_EDGE
def test_48_2_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """A press-pool ack at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder()
    b.ack(t(60, extra_seconds), "presse1", Role.PRESSE)
    assert verdict(b, "48.2").status == expected


def test_48_2_missed_without_press_pool_ack() -> None:
    """Nobody of the vivier presse acknowledged: missed."""
    v = verdict(JournalBuilder(), "48.2")
    assert (v.status, v.evidence) == (S.MISSED, (1,))


# --- 48.3 -----------------------------------------------------------------------------------


def test_48_3_met_by_first_press_release_sent_or_reconciled() -> None:
    """A failed send does not count; a reconciled one does."""
    b = JournalBuilder()
    b.attempt(t(10), "cp", E.E48_3, C.EMAIL, contact_id="afp", outcome="failed")
    sent = b.attempt(t(15), "cp", E.E48_3, C.EMAIL, contact_id="afp2", outcome="reconciled")
    v = verdict(b, "48.3")
    assert (v.status, v.at, v.evidence) == (S.MET, t(15), (b.cod_seq, sent))
    assert "courriel" in v.detail


@ON_THE_EDGE
def test_48_3_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """A press release sent at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder()
    b.attempt(t(60, extra_seconds), "cp", E.E48_3, C.EMAIL, contact_id="afp")
    assert verdict(b, "48.3").status == expected


def test_48_3_missed_when_only_failures() -> None:
    """Only failed sends: missed."""
    b = JournalBuilder()
    b.attempt(t(10), "cp", E.E48_3, C.EMAIL, contact_id="afp", outcome="failed")
    assert verdict(b, "48.3").status == S.MISSED


# --- 48.4 -----------------------------------------------------------------------------------


def test_48_4_met_with_website_and_one_social_network() -> None:
    """Website + Facebook: met at the later, the detail names the channels."""
    b = JournalBuilder()
    web = b.attempt(t(20), "pub", E.E48_4, C.WEBSITE)
    fb = b.attempt(t(22), "pub", E.E48_4, C.FACEBOOK)
    b.attempt(t(23), "pub", E.E48_4, C.X)
    v = verdict(b, "48.4")
    assert (v.status, v.at, v.evidence) == (S.MET, t(22), (b.cod_seq, web, fb))
    assert "Facebook" in v.detail
    assert "X (Twitter)" in v.detail


@ON_THE_EDGE
def test_48_4_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """The social post at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder()
    b.attempt(t(20), "pub", E.E48_4, C.WEBSITE)
    b.attempt(t(60, extra_seconds), "pub", E.E48_4, C.X)
    assert verdict(b, "48.4").status == expected


def test_48_4_missed_with_website_only() -> None:
    """No social network: missed, the detail says what is missing."""
    b = JournalBuilder()
    web = b.attempt(t(20), "pub", E.E48_4, C.WEBSITE)
    b.attempt(t(21), "pub", E.E48_4, C.X, outcome="failed")
    v = verdict(b, "48.4")
    assert (v.status, v.evidence) == (S.MISSED, (b.cod_seq, web))
    assert "manque : réseau social" in v.detail


# --- 48.5 -----------------------------------------------------------------------------------

SECTIONS = (Section.CONSEILS_COMPORTEMENT, Section.PREVENTION)


def test_48_5_met_when_first_publication_covers_the_applicable_sections() -> None:
    """The first public message covering every applicable section: met at its publication."""
    b = JournalBuilder(sections=SECTIONS)
    q = b.queued(t(19), "pub", E.E48_4, C.WEBSITE, sections=(*SECTIONS, Section.EVOLUTION))
    p = b.attempt(t(20), "pub", E.E48_4, C.WEBSITE)
    v = verdict(b, "48.5")
    assert (v.status, v.at, v.evidence) == (S.MET, t(20), (b.cod_seq, q, p))


@ON_THE_EDGE
def test_48_5_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """A complete first message published at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder(sections=SECTIONS)
    b.queued(t(50), "pub", E.E48_4, C.X, sections=SECTIONS)
    b.attempt(t(60, extra_seconds), "pub", E.E48_4, C.X)
    assert verdict(b, "48.5").status == expected


def test_48_5_missed_whenever_a_section_is_missing() -> None:
    """A first message without an applicable section is missed even well before T0+60."""
    b = JournalBuilder(sections=SECTIONS)
    b.queued(t(4), "pub", E.E48_4, C.WEBSITE, sections=(Section.CONSEILS_COMPORTEMENT,))
    b.attempt(t(5), "pub", E.E48_4, C.WEBSITE)
    v = verdict(b, "48.5", now=t(6))
    assert v.status == S.MISSED
    assert "Prévention" in v.detail


def test_48_5_judges_the_message_as_queued_before_its_publication() -> None:
    """A completed version queued after the first publication does not repair it."""
    b = JournalBuilder(sections=SECTIONS)
    q = b.queued(t(4), "pub", E.E48_4, C.WEBSITE, sections=(Section.CONSEILS_COMPORTEMENT,))
    p = b.attempt(t(5), "pub", E.E48_4, C.WEBSITE)
    b.queued(t(8), "pub", E.E48_4, C.WEBSITE, sections=SECTIONS)
    b.attempt(t(9), "pub", E.E48_4, C.WEBSITE)
    v = verdict(b, "48.5")
    assert (v.status, v.at, v.evidence) == (S.MISSED, t(5), (b.cod_seq, q, p))


def test_48_5_waits_for_the_first_publication() -> None:
    """No publication yet: the common rule (pending, at risk, missed)."""
    b = JournalBuilder(sections=SECTIONS)
    assert verdict(b, "48.5", now=t(10)).status == S.PENDING
    assert verdict(b, "48.5").status == S.MISSED


def test_48_5_not_applicable_without_applicable_sections() -> None:
    """No section marked applicable: without object."""
    assert verdict(JournalBuilder(), "48.5").status == S.NOT_APPLICABLE


# --- 48 -------------------------------------------------------------------------------------


def all_of_48(b: JournalBuilder, *, social_at: datetime) -> None:
    b.ack(t(5), "m1", Role.MAIRE, commune="01001")
    b.ack(t(6), "presse1", Role.PRESSE)
    b.attempt(t(15), "cp", E.E48_3, C.EMAIL, contact_id="afp")
    b.queued(t(19), "pub", E.E48_4, C.WEBSITE, sections=SECTIONS)
    b.attempt(t(20), "pub", E.E48_4, C.WEBSITE)
    b.attempt(social_at, "pub", E.E48_4, C.X)


def test_48_met_when_every_sub_step_met() -> None:
    """48 is met at the latest of 48.1-48.5, with their evidence."""
    b = JournalBuilder(communes=("01001",), sections=SECTIONS)
    all_of_48(b, social_at=t(30))
    v = verdict(b, "48")
    assert (v.status, v.at) == (S.MET, t(30))
    assert v.evidence == tuple(range(1, len(b.entries) + 1))


def test_48_late_when_one_sub_step_is_late() -> None:
    """One sub-step late by a second makes 48 late."""
    b = JournalBuilder(communes=("01001",), sections=SECTIONS)
    all_of_48(b, social_at=t(60, 1))
    assert verdict(b, "48").status == S.LATE


def test_48_missed_when_the_content_misses_a_section() -> None:
    """48.5 missed makes 48 missed."""
    b = JournalBuilder(communes=("01001",), sections=(*SECTIONS, Section.EVOLUTION))
    all_of_48(b, social_at=t(30))
    v = verdict(b, "48")
    assert (v.status, v.at) == (S.MISSED, None)


# --- 50.1 -----------------------------------------------------------------------------------


def cip_journal() -> tuple[JournalBuilder, int]:
    b = JournalBuilder()
    return b, b.cip(t(90))


def test_50_1_met_when_announced_to_media_internet_and_phone() -> None:
    """Announced on all three means: met, delay from T0 CIP."""
    b, cip = cip_journal()
    mail = b.attempt(t(102), "cip", E.E50_1, C.EMAIL, contact_id="afp")
    web = b.attempt(t(104), "cip", E.E50_1, C.WEBSITE)
    b.attempt(t(105), "cip", E.E50_1, C.X)
    sms = b.attempt(t(110), "cip", E.E50_1, C.SMS, contact_id="standard")
    v = verdict(b, "50.1", now=t(200))
    assert (v.status, v.at, v.delay_seconds) == (S.MET, t(110), 1200)
    assert v.evidence == (b.cod_seq, cip, mail, web, sms)
    assert v.detail == "médias T0 CIP+12 min, internet +14 min, téléphone +20 min"


@ON_THE_EDGE
def test_50_1_deadline_is_inclusive_on_its_own_clock(
    extra_seconds: int, expected: EngagementStatus
) -> None:
    """The last means at T0 CIP+60:00 is met, at T0 CIP+60:01 late."""
    b, _ = cip_journal()
    b.attempt(t(100), "cip", E.E50_1, C.EMAIL, contact_id="afp")
    b.attempt(t(100), "cip", E.E50_1, C.APP)
    b.attempt(t(150, extra_seconds), "cip", E.E50_1, C.VOICE, contact_id="standard")
    assert verdict(b, "50.1", now=t(200)).status == expected


def test_50_1_missed_without_the_phone_announcement() -> None:
    """No telephone announcement: at risk on the CIP clock, then missed."""
    b, _ = cip_journal()
    b.attempt(t(102), "cip", E.E50_1, C.EMAIL, contact_id="afp")
    b.attempt(t(104), "cip", E.E50_1, C.WEBSITE)
    assert verdict(b, "50.1", now=t(110)).status == S.PENDING
    assert verdict(b, "50.1", now=t(120)).status == S.AT_RISK
    v = verdict(b, "50.1", now=t(151))
    assert v.status == S.MISSED
    assert v.detail == "médias T0 CIP+12 min, internet +14 min, téléphone non fait"


def test_50_1_not_applicable_without_cip() -> None:
    """No CIP activated: without object."""
    assert verdict(JournalBuilder(), "50.1").status == S.NOT_APPLICABLE


# --- CIAV -----------------------------------------------------------------------------------

RELAY = step("ciav", E.CIAV, 30, (C.WEBSITE, C.X, C.SMS), Action.RELAY_CIAV)


def test_ciav_met_when_relayed_on_every_public_channel_of_its_steps() -> None:
    """Website and X relayed (SMS is not public): met at the later."""
    b = JournalBuilder(kind=EventKind.ATTENTAT, steps=(RELAY,))
    web = b.attempt(t(40), "ciav", E.CIAV, C.WEBSITE)
    x = b.attempt(t(41), "ciav", E.CIAV, C.X)
    v = verdict(b, "CIAV")
    assert (v.status, v.at, v.evidence) == (S.MET, t(41), (b.cod_seq, web, x))


@ON_THE_EDGE
def test_ciav_deadline_is_inclusive(extra_seconds: int, expected: EngagementStatus) -> None:
    """The last public relay at T0+60:00 is met, at T0+60:01 late."""
    b = JournalBuilder(kind=EventKind.ATTENTAT, steps=(RELAY,))
    b.attempt(t(40), "ciav", E.CIAV, C.WEBSITE)
    b.attempt(t(60, extra_seconds), "ciav", E.CIAV, C.X)
    assert verdict(b, "CIAV").status == expected


def test_ciav_missed_when_a_channel_was_not_relayed() -> None:
    """X never relayed: missed, the detail names it."""
    b = JournalBuilder(kind=EventKind.ATTENTAT, steps=(RELAY,))
    web = b.attempt(t(40), "ciav", E.CIAV, C.WEBSITE)
    v = verdict(b, "CIAV")
    assert (v.status, v.evidence) == (S.MISSED, (b.cod_seq, web))
    assert "reste : X (Twitter)" in v.detail


def test_ciav_missed_when_the_playbook_does_not_relay_it() -> None:
    """An attack playbook without CIAV step is missed from the start."""
    v = verdict(JournalBuilder(kind=EventKind.ATTENTAT), "CIAV", now=t(1))
    assert v.status == S.MISSED
    assert v.detail == "le playbook ne relaie pas le numéro CIAV"


def test_ciav_not_applicable_outside_attacks() -> None:
    """Not an attack: without object."""
    assert verdict(JournalBuilder(), "CIAV").status == S.NOT_APPLICABLE


# --- describe -------------------------------------------------------------------------------


def test_describe_speaks_french() -> None:
    """describe() gives the status, the delay from T0 and the detail in French."""
    b, _ = non_joint_journal()
    assert describe(verdict(b, "48.1")) == (
        "48.1 — fait à T0+24 min : 1 commune jointe, 1 non jointe (toutes les tentatives faites)"
    )
    late = JournalBuilder()
    late.ack(t(60, 1), "presse1", Role.PRESSE)
    assert describe(verdict(late, "48.2")) == (
        "48.2 — en retard à T0+60 min 01 s : vivier presse mobilisé"
    )
    assert describe(verdict(JournalBuilder(), "48.3")) == (
        "48.3 — manqué : aucun communiqué ni point presse envoyé"
    )
    assert describe(verdict(JournalBuilder(), "50.1")) == "50.1 — sans objet : CIP non activée"


def test_describe_measures_50_1_from_t0_cip() -> None:
    """The CIP announcement's delay is shown from T0 CIP."""
    b, _ = cip_journal()
    for channel in (C.EMAIL, C.WEBSITE, C.SMS):
        b.attempt(t(100), "cip", E.E50_1, channel, contact_id=str(channel))
    assert describe(verdict(b, "50.1", now=t(200))).startswith("50.1 — fait à T0 CIP+10 min")


def test_final_checkpoint_turns_what_is_still_open_into_missed() -> None:
    """At T0+60 the window still says "à risque" for what is not done (the deadline is
    inclusive), but the journaled final verdict says "manqué": the hour is over."""
    judged = judge(JournalBuilder().entries, t(60))
    assert any(v.status == S.AT_RISK for v in judged)
    final = final_verdicts(judged)
    assert not [v for v in final if v.status in {S.AT_RISK, S.PENDING}]
    assert {v.engagement for v in final if v.status == S.MISSED} >= {
        v.engagement for v in judged if v.status == S.AT_RISK
    }

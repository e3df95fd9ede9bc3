"""Report figures from hand-made journals: edge cases recounted here with simple code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from channels.base import ChannelName
from contacts.model import Role
from crisis import compliance
from crisis.model import (
    AcknowledgementReceived,
    ChainEnded,
    CipCallEnded,
    CodActivated,
    CorrectiveAction,
    CrisisClosed,
    DeliveryReported,
    EngagementStatus,
    JournalEntry,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    Mode,
    RecipientRef,
)
from crisis.reports import TrainingRow, annual_figures, compliance_figures, rex_figures
from playbooks.model import Engagement, EventKind
from tests.unit.journal_builder import T0, JournalBuilder, official, step, t


def _request(rid: str, kind: str = "appel") -> MediaRequestReceived:
    return MediaRequestReceived(
        request_id=rid,
        kind=kind,  # type: ignore[arg-type]
        outlet="Le Progrès",
        journalist="Camille Fictive",
        topic="routes",
        question="Les routes sont-elles coupées ?",
        simulated=True,
    )


def _call(cid: str, outcome: str, waited: float, agent: str | None = None) -> CipCallEnded:
    return CipCallEnded(
        call_id=cid,
        outcome=outcome,  # type: ignore[arg-type]
        started_at=t(40),
        waited_seconds=waited,
        agent_id=agent,
    )


def _delivered(key: str, channel: ChannelName, ok: bool = True) -> DeliveryReported:
    return DeliveryReported(
        outbox_key=key, channel=channel, contact_id="x", delivered=ok, provider_id="p"
    )


def _retag(entries: list[JournalEntry], crisis_id: str, mode: Mode) -> list[JournalEntry]:
    """The same journal under another crisis id and mode."""
    out = []
    for e in entries:
        fact = e.fact
        if isinstance(fact, CodActivated):
            fact = fact.model_copy(update={"crisis_id": crisis_id, "mode": mode})
        out.append(e.model_copy(update={"crisis_id": crisis_id, "fact": fact}))
    return out


def test_media_requests_per_quarter_hour_median_max_and_unanswered():
    """Quarter hours from T0 (empty ones kept, earlier requests in the first), median of an even
    count is the mean of the middle two, unanswered listed by id."""
    b = JournalBuilder()
    b.add(_request("r0"), t(-2))
    b.add(_request("r1", "courriel"), t(1))
    b.add(_request("r2", "interview"), t(14, 59))
    b.add(_request("r3"), t(16))
    b.add(_request("r4", "mention"), t(50))
    b.add(MediaRequestAssigned(request_id="r1", assignee="cell-com-1"), t(2))
    b.add(MediaRequestAnswered(request_id="r1"), t(5))  # 4 min
    b.add(MediaRequestAnswered(request_id="r1"), t(30))  # a second answer does not count
    b.add(MediaRequestAnswered(request_id="r2"), t(20, 59))  # 6 min
    b.add(MediaRequestAnswered(request_id="r3"), t(26))  # 10 min
    b.add(MediaRequestAnswered(request_id="r0"), t(0))  # 2 min
    m = rex_figures(b.entries, t(60)).media
    assert [(q.start, q.count) for q in m.per_quarter] == [
        (timedelta(0), 3),
        (timedelta(minutes=15), 1),
        (timedelta(minutes=30), 0),
        (timedelta(minutes=45), 1),
    ]
    assert m.median_answer == timedelta(minutes=5)  # 2, 4, 6, 10
    assert m.max_answer == timedelta(minutes=10)
    assert m.unanswered == ("r4",)
    assert m.per_kind == (("appel", 2), ("courriel", 1), ("mention", 1), ("interview", 1))
    r1 = next(r for r in m.requests if r.request_id == "r1")
    assert (r1.assignee, r1.time_to_answer, r1.answered) == (
        "cell-com-1",
        timedelta(minutes=4),
        timedelta(minutes=5),
    )


def test_no_media_and_no_cip_give_empty_figures():
    """Without requests or CIP: nothing per quarter, no delays, CIP not activated."""
    figures = rex_figures(JournalBuilder().entries, t(60))
    assert figures.media.total == 0 and figures.media.per_quarter == ()
    assert figures.media.median_answer is None and figures.media.unanswered == ()
    assert not figures.cip.activated
    assert (figures.cip.calls, figures.cip.mean_wait, figures.cip.per_agent) == (0, None, ())
    assert figures.lessons is None


def test_cip_figures_count_outcomes_waits_and_agents():
    """CIP: outcomes counted, mean and max wait over every call, answered calls per agent."""
    b = JournalBuilder()
    b.cip(t(20))
    for fact in (
        _call("a", "repondu", 10, "cip-2"),
        _call("b", "repondu", 20, "cip-1"),
        _call("c", "repondu", 30, "cip-2"),
        _call("d", "abandonne", 100),
        _call("e", "hors_horaires", 0),
        _call("f", "debordement", 0),
    ):
        b.add(fact, t(45))
    c = rex_figures(b.entries, t(60)).cip
    assert c.t0_cip == timedelta(minutes=20)
    assert (c.calls, c.answered, c.abandoned, c.overflow, c.out_of_hours, c.messages) == (
        6,
        3,
        1,
        1,
        1,
        0,
    )
    assert c.mean_wait == timedelta(seconds=160 / 6)
    assert c.max_wait == timedelta(seconds=100)
    assert c.per_agent == (("cip-2", 2), ("cip-1", 1))
    assert c.closed is None


def test_channel_stats_failed_delivered_cancelled_and_acks_by_outbox_key():
    """A retried, or reported undelivered then delivered, message is not a failure; cancelled
    ones are not sent; an ack without channel is credited to its outbox message's channel."""
    b = JournalBuilder()
    e, v = Engagement.E48_1, ChannelName.VOICE
    b.attempt(t(1), "s", e, v, outbox_key="k1", outcome="retry")
    b.attempt(t(2), "s", e, v, outbox_key="k1", outcome="sent")
    b.add(_delivered("k1", v), t(3))
    b.attempt(t(2), "s", e, v, outbox_key="k2", outcome="failed")
    b.attempt(t(2), "s", e, v, outbox_key="k3", outcome="sent")
    b.add(_delivered("k3", v, ok=False), t(4))
    b.attempt(t(2), "s", e, v, outbox_key="k4", outcome="cancelled")
    b.attempt(t(2), "s", e, v, outbox_key="k6", outcome="sent")
    b.add(_delivered("k6", v, ok=False), t(3))  # busy line, then delivered on a later try
    b.add(_delivered("k6", v), t(7))
    b.attempt(t(2), "s", e, ChannelName.SMS, outbox_key="k5", outcome="sent")
    b.add(_delivered("k5", ChannelName.SMS), t(9))
    b.add(
        AcknowledgementReceived(
            contact_id="maire",
            role=Role.MAIRE,
            commune="42218",
            trained=True,
            channel=None,
            outbox_key="k1",
            step_id="s",
        ),
        t(5),
    )
    stats = {c.channel: c for c in rex_figures(b.entries, t(60)).channels}
    assert list(stats) == [ChannelName.VOICE, ChannelName.SMS]
    voice = stats[ChannelName.VOICE]
    assert (voice.sent, voice.delivered, voice.failed, voice.acknowledged) == (3, 2, 2, 1)
    assert (voice.first_delivery, voice.last_delivery) == (
        timedelta(minutes=3),
        timedelta(minutes=7),
    )
    assert stats[ChannelName.SMS].first_delivery == timedelta(minutes=9)


def test_entries_after_now_do_not_count_and_an_open_crisis_lasts_until_now():
    """Figures as of `now`: later entries ignored; open crisis: no closing, duration to now."""
    b = JournalBuilder()
    b.add(_request("early"), t(5))
    b.add(_request("late"), t(50))
    b.add(CrisisClosed(reason="fin"), t(55))
    early = rex_figures(b.entries, t(30))
    assert early.media.total == 1 and early.entries_count == 2
    assert early.summary.closed_at is None and early.summary.duration == timedelta(minutes=30)
    done = rex_figures(b.entries, t(90))
    assert done.summary.closed_at == t(55) and done.summary.duration == timedelta(minutes=55)


def test_a_journal_without_activation_is_refused_in_french():
    """No CodActivated, no report."""
    entries = JournalBuilder().entries[1:]
    with pytest.raises(ValueError, match="activation du COD"):
        rex_figures(entries, t(60))


def test_reach_takes_commune_names_from_the_chain_labels_and_lists_non_joints():
    """A commune's name comes from the journal (the chain's label), the reacher's role from the ack."""
    planned = step("alerte_maires", Engagement.E48_1, 5)
    b = JournalBuilder(communes=("42218", "42147"), steps=(planned,))
    b.triggered(t(5), planned)
    refs = (official("42218", "maire-42218"), official("42147", "maire-42147"))
    b.queued(t(5), "alerte_maires", Engagement.E48_1, ChannelName.VOICE, refs)
    for ref in refs:
        b.attempt(
            t(6),
            "alerte_maires",
            Engagement.E48_1,
            ChannelName.VOICE,
            outbox_key=ref.outbox_key,
            contact_id=ref.contact_id,
            commune=ref.commune,
        )
    b.ack(t(8), "maire-42218", Role.MAIRE, commune="42218")
    b.add(
        ChainEnded(
            step_id="alerte_maires",
            engagement=Engagement.E48_1,
            group="commune:42147",
            commune="42147",
            label="commune de Montbrison",
            reason="sans réponse",
            attempts=(RecipientRef(outbox_key="k-maire-42147", contact_id="maire-42147"),),
        ),
        t(30),
    )
    figures = rex_figures(b.entries, t(61))
    reach = {r.code_insee: r for r in figures.reach}
    assert (reach["42218"].name, reach["42218"].role_label) == ("", "maire")
    assert reach["42218"].offset == timedelta(minutes=8)
    assert (reach["42147"].name, reach["42147"].status) == ("Montbrison", "non_joint")
    assert [r.code_insee for r in figures.not_reached] == ["42147"]
    expected = compliance.commune_reach(b.entries, t(61))
    assert [(r.status, r.attempts) for r in figures.reach] == [
        (r.status, r.attempts) for r in expected
    ]


def test_latest_lessons_win():
    """The REX keeps the latest « enseignements et actions correctives »."""
    b = JournalBuilder()
    b.add(LessonsRecorded(text="v1"), t(70))
    b.add(LessonsRecorded(text="v2", actions=(CorrectiveAction(title="A"),)), t(80))
    lessons = rex_figures(b.entries, t(90)).lessons
    assert lessons is not None and lessons.text == "v2" and lessons.actions[0].title == "A"


def test_compliance_figures_are_the_verdicts_with_proof_texts():
    """The compliance report's rows are compliance.judge's, with each cited entry's text."""
    b = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    b.ack(t(10), "dircab", Role.DIRECTION_ASTREINTE)
    b.ack(t(12), "astreinte", Role.AGENT_ASTREINTE)
    b.ack(t(70), "rappel", Role.AGENT_RAPPEL)
    figures = compliance_figures(b.entries, t(75))
    rows = {r.engagement: r for r in figures.compliance}
    assert list(rows) == list(compliance.ENGAGEMENTS)
    assert rows["47.1"].status == EngagementStatus.MET
    assert rows["47.1"].delay == timedelta(minutes=12)
    assert [(e.seq, e.text) for e in rows["47.1"].evidence] == [
        (1, "CodActivated"),
        (2, "AcknowledgementReceived"),
        (3, "AcknowledgementReceived"),
    ]
    assert rows["47.2"].status == EngagementStatus.LATE
    assert rows["47"].status == EngagementStatus.LATE
    assert figures.last_hash == b.entries[-1].hash


def test_annual_figures_count_the_year_s_events_exercises_engagements_and_open_actions():
    """Only T0s of the year; compliance tallies per engagement; exercises with media pressure and
    CIP; training rows kept; open actions sorted by due date, overdue flagged."""
    exercise = JournalBuilder()  # mode exercice
    exercise.add(_request("r1"), t(10))
    exercise.cip(t(20))
    exercise.add(
        LessonsRecorded(
            text="x",
            actions=(
                CorrectiveAction(title="Sans échéance", owner="SIDPC"),
                CorrectiveAction(title="Faite", done=True),
                CorrectiveAction(title="En retard", due=date(2025, 6, 1)),
                CorrectiveAction(title="À venir", due=date(2026, 1, 15)),
            ),
        ),
        t(90),
    )
    quiet = JournalBuilder()  # an exercise without media nor CIP
    real = JournalBuilder(quorum={Role.AGENT_RAPPEL: 1})
    real.ack(t(10), "dircab", Role.DIRECTION_ASTREINTE)
    real.ack(t(12), "astreinte", Role.AGENT_ASTREINTE)
    real.ack(t(30), "rappel", Role.AGENT_RAPPEL)
    older = JournalBuilder(t0=datetime(2024, 12, 31, 10, 0, tzinfo=UTC))
    journals = [
        _retag(exercise.entries, "EX-1", Mode.EXERCICE),
        _retag(real.entries, "EV-1", Mode.REEL),
        _retag(quiet.entries, "EX-2", Mode.EXERCICE),
        _retag(older.entries, "EV-0", Mode.REEL),
    ]
    now = datetime(2025, 12, 31, 12, tzinfo=UTC)
    training = [
        TrainingRow("cip-2", "agent CIP", "recyclage dépassé", date(2025, 1, 1)),
        TrainingRow("cell-com-1", "chargé de communication", "à jour", date(2026, 3, 1)),
    ]
    figures = annual_figures(T0.year, journals, training, now)
    assert [c.crisis_id for c in figures.crises] == ["EV-1", "EX-1", "EX-2"]  # same T0: by id
    assert [c.crisis_id for c in figures.events] == ["EV-1"]
    assert sorted(c.crisis_id for c in figures.exercises) == ["EX-1", "EX-2"]
    assert figures.with_media_pressure == ("EX-1",)
    assert figures.with_cip == ("EX-1",)
    assert figures.events_with_cip == ()
    tallies = {x.engagement: x for x in figures.engagements}
    for ref in compliance.ENGAGEMENTS:
        statuses = [
            {v.engagement: v.status for v in compliance.judge(j, now)}[ref] for j in journals[:3]
        ]
        tally = tallies[ref]
        assert tally.met == statuses.count(EngagementStatus.MET), ref
        assert tally.late == statuses.count(EngagementStatus.LATE), ref
        assert tally.missed == statuses.count(EngagementStatus.MISSED), ref
        assert tally.not_applicable == statuses.count(EngagementStatus.NOT_APPLICABLE), ref
    assert tallies["47.1"].met == 1 and tallies["47.1"].missed == 2
    assert tallies["47.1"].median_delay == timedelta(minutes=12)
    assert [t_.contact_id for t_ in figures.training] == ["cip-2", "cell-com-1"]
    assert [(a.title, a.overdue) for a in figures.open_actions] == [
        ("En retard", True),
        ("À venir", False),
        ("Sans échéance", False),
    ]
    assert {a.crisis_id for a in figures.open_actions} == {"EX-1"}
    assert figures.crises[0].kind == EventKind.INONDATION

"""REX figures from a real exercise journal (orchestrator on a fake clock, SQLite), recomputed here."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crisis import compliance
from crisis.bootstrap import App, build
from crisis.clock import FakeClock
from crisis.model import (
    SYSTEM,
    AcknowledgementReceived,
    Actor,
    CipActivated,
    CipCallEnded,
    CipClosed,
    CorrectiveAction,
    CrisisClosed,
    DeliveryAttempted,
    DeliveryReported,
    EngagementStatus,
    Fact,
    InjectPlayed,
    Interface,
    JournalEntry,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
    Mode,
)
from crisis.reports import rex_figures, write_rex
from crisis.reports.figures import CategoryName, RexFigures
from crisis.settings import DatabaseSettings, Settings
from tests.integration.helpers import DIRCAB, activate, advance

T0 = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)  # 02:10 in Paris
PRESS = Actor(name="bureau presse", interface=Interface.CLI)
STANDARD = Actor(name="standard", interface=Interface.CLI)
REFERENT = Actor(name="référent qualité", interface=Interface.WEB)
SIMULATOR = Actor(name="simulateur de presse", interface=Interface.SYSTEM)
PREFECTURE = "Préfecture de la Loire"


def _settings(directory: Path) -> Settings:
    base = Settings()
    channels = {
        name: cfg.model_copy(
            update={"simulation": cfg.simulation.model_copy(update={"latency_ms": 0})}
        )
        for name, cfg in base.channels.items()
    }
    return base.model_copy(
        update={
            "database": DatabaseSettings(url=f"sqlite:///{directory / 'crisis.db'}"),
            "data_dir": directory / "data",
            "channels": channels,
        }
    )


def _record(app: App, clock: FakeClock, crisis_id: str, *facts: Fact, actor: Actor = SYSTEM):
    """Facts nobody emits yet (media, CIP, injects, lessons) written through the real store."""
    with app.store.transaction() as tx:
        tx.append(crisis_id, [(f, actor) for f in facts], clock.now())


def _request(rid: str, kind: str, outlet: str, topic: str) -> MediaRequestReceived:
    return MediaRequestReceived(
        request_id=rid,
        kind=kind,  # type: ignore[arg-type]
        outlet=outlet,
        journalist="Camille Fictive",
        topic=topic,
        question=f"Question de {outlet} sur {topic} ?",
        simulated=True,
    )


def _call(cid: str, outcome: str, started: datetime, waited: float, agent: str | None = None):
    return CipCallEnded(
        call_id=cid,
        outcome=outcome,  # type: ignore[arg-type]
        started_at=started,
        waited_seconds=waited,
        talked_seconds=120 if outcome == "repondu" else 0,
        agent_id=agent,
        topic="routes coupées",
    )


async def _run(app: App, clock: FakeClock) -> str:
    crisis = activate(app, clock.now(), mode=Mode.EXERCICE, synergi_ref="SYN-42-EX-7").crisis
    cid = crisis.id
    await advance(app, clock, 5)  # T0+5
    _record(app, clock, cid, _request("m1", "appel", "France Bleu Saint-Étienne", "routes"))
    await advance(app, clock, 7)  # T0+12
    _record(
        app,
        clock,
        cid,
        InjectPlayed(inject_id="i1", text="la RD 1082 est coupée à Montbrison"),
        _request("m2", "courriel", "Le Progrès", "evacuations"),
        _request("m3", "mention", "@actu42", "victimes"),
        actor=SIMULATOR,
    )
    await advance(app, clock, 4)  # T0+16
    for step in ("communique_presse", "premier_message"):
        app.orchestrator.approve(cid, step, DIRCAB)
    for contact in (
        "cell-dircab",
        "cell-astreinte-1",
        "cell-com-1",
        "cell-rappel-1",
        "cell-rappel-2",
        "presse-1",
        "maire-42218",
        "adjoint1-42187",
    ):
        app.orchestrator.acknowledge(cid, contact, STANDARD)
    _record(app, clock, cid, MediaRequestAssigned(request_id="m1", assignee="cell-com-1"))
    _record(app, clock, cid, MediaRequestAnswered(request_id="m1"), actor=PRESS)
    await advance(app, clock, 4)  # T0+20
    _record(
        app,
        clock,
        cid,
        InjectPlayed(inject_id="i2", text="rumeur : le barrage aurait cédé", rumour=True),
        _request("m4", "question", "@lyon_info", "rumeur"),
        _request("m5", "interview", "TL7", "mesures"),
        _request("m6", "appel", "France 3 Auvergne-Rhône-Alpes", "ecoles"),
        actor=SIMULATOR,
    )
    await advance(app, clock, 5)  # T0+25
    _record(app, clock, cid, MediaRequestAnswered(request_id="m2"), actor=PRESS)
    _record(app, clock, cid, MediaRequestAnswered(request_id="m4"), actor=PRESS)
    _record(app, clock, cid, CipActivated(number="01 99 00 42 42"), actor=DIRCAB)
    now = clock.now()
    _record(
        app,
        clock,
        cid,
        _call("CA1", "repondu", now, 30, "cip-1"),
        _call("CA2", "abandonne", now, 95),
        _call("CA3", "repondu", now, 12, "cip-2"),
        _call("CA4", "message", now, 180),
        _call("CA5", "debordement", now, 0),
        _call("CA6", "repondu", now, 45, "cip-1"),
    )
    await advance(app, clock, 10)  # T0+35
    _record(app, clock, cid, _request("m7", "courriel", "AFP", "retour_normale"), actor=SIMULATOR)
    _record(app, clock, cid, MediaRequestAnswered(request_id="m3"), actor=PRESS)
    _record(app, clock, cid, MediaRequestAnswered(request_id="m6"), actor=PRESS)
    await advance(app, clock, 27)  # T0+62
    _record(app, clock, cid, _request("m8", "interview", "BFM Lyon", "victimes"), actor=SIMULATOR)
    _record(app, clock, cid, MediaRequestAnswered(request_id="m7"), actor=PRESS)
    _record(app, clock, cid, CipClosed(), actor=DIRCAB)
    _record(
        app,
        clock,
        cid,
        LessonsRecorded(text="Première version.", actions=()),
        LessonsRecorded(
            text="Le standard a été saturé.\n\nLa rumeur du barrage a été démentie à T0+25.",
            actions=(
                CorrectiveAction(title="Renforcer le standard", owner="SIDPC", due=None),
                CorrectiveAction(
                    title="Former deux agents CIP de plus",
                    owner="cabinet",
                    due=datetime(2027, 3, 31, tzinfo=UTC).date(),
                ),
                CorrectiveAction(title="Mettre à jour l'annuaire", owner="SIDPC", done=True),
            ),
        ),
        actor=REFERENT,
    )
    app.orchestrator.close(cid, DIRCAB, "fin de l'exercice")
    return cid


def exercise_journal(directory: Path) -> tuple[list[JournalEntry], datetime]:
    """A flood exercise run by the real orchestrator, with media, CIP, injects and lessons."""
    directory.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(T0)
    app = build(_settings(directory), clock=clock)
    try:
        crisis_id = asyncio.run(_run(app, clock))
        clock.advance(60)
        return app.orchestrator.journal(crisis_id), clock.now()
    finally:
        app.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[JournalEntry], datetime]:
    """The exercise's main courante and the time the REX is written."""
    return exercise_journal(tmp_path_factory.mktemp("rex"))


@pytest.fixture(scope="module")
def figures(run: tuple[list[JournalEntry], datetime]) -> RexFigures:
    """The REX figures of the exercise."""
    entries, now = run
    return rex_figures(entries, now)


def _of(entries: list[JournalEntry], kind: type) -> list[tuple[JournalEntry, object]]:
    return [(e, e.fact) for e in entries if isinstance(e.fact, kind)]


def test_summary_matches_the_activation_and_the_closing(run, figures):
    """Summary: id, exercise mode, T0, SYNERGI, communes, playbook, closing and duration."""
    entries, _ = run
    cod = entries[0].fact
    closed = next(e for e in entries if isinstance(e.fact, CrisisClosed))
    s = figures.summary
    assert (s.crisis_id, s.t0, s.synergi_ref) == (cod.crisis_id, T0, "SYN-42-EX-7")
    assert s.exercise and s.mode_label == "exercice"
    assert s.communes_count == 3
    assert (s.playbook_title, s.playbook_version) == (cod.playbook_title, cod.playbook_version)
    assert s.closed_at == closed.at
    assert s.duration == closed.at - T0
    assert figures.entries_count == len(entries)
    assert figures.last_hash == entries[-1].hash


def test_channel_statistics_are_those_counted_in_the_journal(run, figures):
    """Sent, delivered, failed, acknowledged and delivery times per channel, recounted here."""
    entries, _ = run
    sent, delivered, failed = defaultdict(set), defaultdict(set), defaultdict(set)
    times = defaultdict(list)
    for e in entries:
        f = e.fact
        if isinstance(f, DeliveryAttempted) and f.outcome in {"sent", "reconciled", "manual"}:
            sent[f.channel].add(f.outbox_key)
        if isinstance(f, DeliveryAttempted) and f.outcome in {"failed", "expired"}:
            failed[f.channel].add(f.outbox_key)
        if isinstance(f, DeliveryReported):
            (delivered if f.delivered else failed)[f.channel].add(f.outbox_key)
            if f.delivered:
                times[f.channel].append(e.at)
    stats = {c.channel: c for c in figures.channels}
    assert set(stats) == set(sent) | set(delivered) | set(failed)
    assert sum(c.sent for c in stats.values()) > 20  # the orchestrator really sent
    for channel, c in stats.items():
        assert c.sent == len(sent[channel]), channel
        assert c.delivered == len(delivered[channel]), channel
        assert c.failed == len(failed[channel] - delivered[channel]), channel
        if times[channel]:
            assert c.first_delivery == min(times[channel]) - T0
            assert c.last_delivery == max(times[channel]) - T0
    # the acknowledgements were typed at the standard: no channel to credit them to
    assert sum(c.acknowledged for c in stats.values()) == 0


def test_compliance_rows_are_the_verdicts_with_the_cited_entries(run, figures):
    """Compliance table = compliance.judge at `now`, each proof carrying its journal text."""
    entries, now = run
    verdicts = compliance.judge(entries, now)
    by_seq = {e.seq: e for e in entries}
    assert [r.engagement for r in figures.compliance] == [v.engagement for v in verdicts]
    for row, verdict in zip(figures.compliance, verdicts, strict=True):
        assert row.status == verdict.status
        assert row.detail == verdict.detail
        assert [(p.seq, p.at, p.text) for p in row.evidence] == [
            (n, by_seq[n].at, by_seq[n].text) for n in verdict.evidence
        ]
    rows = {r.engagement: r for r in figures.compliance}
    assert rows["47.1"].status == EngagementStatus.MET
    assert rows["50.1"].origin == "T0 CIP"
    assert rows["50.1"].status != EngagementStatus.NOT_APPLICABLE  # the CIP was activated


def test_reach_names_montbrison_non_joint_and_who_answered_elsewhere(run, figures):
    """Reach per commune: who acknowledged and when; Montbrison non joint, named from the journal."""
    entries, _ = run
    ack = next(e for e, f in _of(entries, AcknowledgementReceived) if f.contact_id == "maire-42218")
    reach = {r.code_insee: r for r in figures.reach}
    assert list(reach) == ["42218", "42187", "42147"]
    assert reach["42218"].status == "joint"
    assert (reach["42218"].contact_id, reach["42218"].role_label) == ("maire-42218", "maire")
    assert reach["42218"].offset == ack.at - T0
    assert reach["42187"].contact_id == "adjoint1-42187"
    assert reach["42147"].status == "non_joint" and reach["42147"].name == "Montbrison"
    assert reach["42147"].attempts >= 4
    assert [r.code_insee for r in figures.not_reached] == ["42147"]


def test_media_pressure_per_quarter_hour_and_times_to_answer(run, figures):
    """Requests per quarter hour, per kind, first-answer delays, unanswered ids."""
    entries, _ = run
    received = {f.request_id: e.at for e, f in _of(entries, MediaRequestReceived)}
    answered: dict[str, datetime] = {}
    for e, f in _of(entries, MediaRequestAnswered):
        answered.setdefault(f.request_id, e.at)
    quarters = Counter(int((at - T0).total_seconds() // 900) for at in received.values())
    m = figures.media
    assert m.total == 8
    assert [(q.start, q.count) for q in m.per_quarter] == [
        (timedelta(minutes=15 * i), quarters[i]) for i in range(max(quarters) + 1)
    ]
    assert [q.count for q in m.per_quarter] == [3, 3, 1, 0, 1]
    delays = [answered[r] - received[r] for r in received if r in answered]
    assert m.median_answer == timedelta(
        seconds=statistics.median(d.total_seconds() for d in delays)
    )
    assert m.max_answer == max(delays)
    assert m.unanswered == ("m5", "m8")
    assert dict(m.per_kind) == {
        "appel": 2,
        "courriel": 2,
        "mention": 1,
        "question": 1,
        "interview": 2,
    }
    first = next(r for r in m.requests if r.request_id == "m1")
    assert (first.assignee, first.time_to_answer) == ("cell-com-1", answered["m1"] - received["m1"])
    assert first.answered_by == PRESS.name


def test_cip_figures_from_the_calls(run, figures):
    """CIP: T0 CIP offset, calls by outcome, waits, answered per agent, closing."""
    entries, _ = run
    calls = [f for _, f in _of(entries, CipCallEnded)]
    activated = next(e for e, _ in _of(entries, CipActivated))
    c = figures.cip
    assert c.activated and c.number == "01 99 00 42 42"
    assert c.t0_cip == activated.at - T0
    assert (c.calls, c.answered, c.abandoned, c.messages, c.overflow) == (6, 3, 1, 1, 1)
    assert c.mean_wait == timedelta(seconds=sum(x.waited_seconds for x in calls) / len(calls))
    assert c.max_wait == timedelta(seconds=180)
    assert c.per_agent == (("cip-1", 2), ("cip-2", 1))
    closed = next(e for e, _ in _of(entries, CipClosed))
    assert c.closed == closed.at - T0


def test_lessons_are_the_latest_recorded(figures):
    """The latest LessonsRecorded wins, with its actions and its author."""
    lessons = figures.lessons
    assert lessons is not None
    assert lessons.text.startswith("Le standard a été saturé.")
    assert [a.title for a in lessons.actions] == [
        "Renforcer le standard",
        "Former deux agents CIP de plus",
        "Mettre à jour l'annuaire",
    ]
    assert lessons.by == REFERENT.name


def test_timeline_places_each_category_from_t0(run, figures):
    """Timeline: T0 at 0, each step, acknowledgement, request, inject and CIP order as an event."""
    entries, _ = run
    events = Counter(e.category for e in figures.timeline)
    count = Counter(e.fact.type for e in entries)
    assert figures.timeline[0].category == CategoryName.T0
    assert figures.timeline[0].offset == timedelta(0)
    assert events[CategoryName.STEP] == count["StepTriggered"] + count["CrisisClosed"]
    assert events[CategoryName.ACK] == count["AcknowledgementReceived"] == 8
    assert events[CategoryName.PRESS] == count["MediaRequestReceived"]
    assert events[CategoryName.INJECT] == 2
    assert events[CategoryName.CIP] == 2
    assert events[CategoryName.ALERT] == count["WarningRaised"] + count["ChainEnded"]
    published = {
        (f.step_id, f.channel)
        for f in (e.fact for e in entries)
        if isinstance(f, DeliveryAttempted)
        and f.outcome in {"sent", "reconciled", "manual"}
        and (f.channel.is_public or f.engagement == "48.3")
    }
    assert events[CategoryName.PUBLICATION] == len(published) >= 4
    assert [e.offset for e in figures.timeline] == sorted(e.offset for e in figures.timeline)


def test_write_rex_writes_html_pdf_markdown_with_progress(run, tmp_path):
    """write_rex writes REX-<id>.html|pdf|md and reports progress up to done == total."""
    entries, now = run
    seen: list[tuple[int, int, str]] = []
    paths = write_rex(
        entries,
        now,
        tmp_path,
        prefecture=PREFECTURE,
        progress=lambda done, total, label: seen.append((done, total, label)),
    )
    cid = entries[0].crisis_id
    assert [p.name for p in paths] == [f"REX-{cid}.html", f"REX-{cid}.pdf", f"REX-{cid}.md"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert [s[:2] for s in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    html = paths[0].read_text(encoding="utf-8")
    assert "EXERCICE" in html and PREFECTURE in html and "<svg" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert paths[1].read_bytes().startswith(b"%PDF")

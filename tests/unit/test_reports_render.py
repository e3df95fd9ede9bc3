"""REX, compliance report and annual review rendered: SVG chart, Markdown, HTML, files written."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.base import ChannelName
from contacts.model import Role
from crisis.model import (
    CipActivated,
    CorrectiveAction,
    InjectPlayed,
    JournalEntry,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestReceived,
    Mode,
    WarningRaised,
)
from crisis.reports import (
    ReportError,
    TrainingRow,
    annual_figures,
    rex_figures,
    write_annual,
    write_compliance,
    write_rex,
)
from crisis.reports.document import (
    clock,
    compliance_document,
    duration,
    offset,
    rex_document,
)
from crisis.reports.figures import CategoryName, compliance_figures
from crisis.reports.markdown import render_markdown
from crisis.reports.page import render_html
from crisis.reports.timeline import layout, svg
from playbooks.model import Engagement
from tests.unit.journal_builder import JournalBuilder, t

PARIS = ZoneInfo("Europe/Paris")
PREFECTURE = "Préfecture de la Loire"


def _journal(*, hostile: bool = False) -> list[JournalEntry]:
    """A small exercise journal: acks, a publication, an inject, media requests, CIP, lessons."""
    b = JournalBuilder(communes=("42218",))
    b.ack(t(3), "dircab", Role.DIRECTION_ASTREINTE)
    b.ack(t(4), "maire-42218", Role.MAIRE, commune="42218")
    b.attempt(t(9), "premier_message", Engagement.E48_4, ChannelName.WEBSITE)
    b.attempt(t(9), "premier_message", Engagement.E48_4, ChannelName.X)
    text = "<script>alert('x')</script> la RD | 1082 est coupée" if hostile else "RD 1082 coupée"
    b.add(InjectPlayed(inject_id="i1", text=text), t(12))
    for i, minute in enumerate((5, 7, 20, 21, 22)):
        b.add(
            MediaRequestReceived(
                request_id=f"m{i}",
                kind="appel",
                outlet="France Bleu",
                journalist="Camille Fictive",
                topic="routes",
                question="Routes ?",
            ),
            t(minute),
        )
    b.add(MediaRequestAnswered(request_id="m0"), t(8))
    b.add(CipActivated(number="01 99 00 42 42"), t(25))
    b.add(WarningRaised(code="x", message="canal X en panne"), t(26))
    b.add(
        LessonsRecorded(
            text="Standard saturé.",
            actions=(CorrectiveAction(title="Renforcer le standard", due=date(2027, 1, 31)),),
        ),
        t(90),
    )
    return b.entries


def test_duration_and_offset_wording():
    """Offsets from T0 round seconds up; long ones in hours; durations in j/h/min/s."""
    assert offset(timedelta(minutes=12, seconds=4.2)) == "T0+12 min 05 s"
    assert offset(timedelta(minutes=60)) == "T0+60 min"
    assert offset(timedelta(minutes=185)) == "T0+3 h 05 min"
    assert offset(timedelta(minutes=-3), "T0 CIP") == "T0 CIP-3 min"
    assert offset(None) == "—"
    assert duration(timedelta(seconds=42)) == "42 s"
    assert duration(timedelta(minutes=62)) == "1 h 02 min"
    assert duration(timedelta(days=3, hours=4)) == "3 j 04 h"
    assert clock(t(0), PARIS) == "14/03/2025 03:10:00"  # T0 02:10 UTC, winter time


def test_svg_has_one_marker_per_event_bars_per_quarter_and_is_deterministic():
    """The chart: a circle per non-press event, a bar per busy quarter hour, a legend, the same
    bytes every time."""
    figures = rex_figures(_journal(), t(95))
    chart = svg(figures)
    assert chart == svg(rex_figures(_journal(), t(95)))
    markers = re.findall(r'<circle class="marker marker-(\w+)"', chart)
    expected = [e for e in figures.timeline if e.category != CategoryName.PRESS]
    assert len(markers) == len(expected) > 5
    assert markers.count("accuse") == 2 and markers.count("cip") == 1
    assert markers.count("publication") == 2 and markers.count("alerte") == 1
    assert re.findall(r'data-count="(\d+)"', chart) == ["2", "3"]  # 5, 7 | 20, 21, 22
    for label in ("T0", "étape", "publication", "accusé", "presse", "CIP", "injection", "alerte"):
        assert f">{label}</text>" in chart
    assert 'class="echeance"' in chart  # T0+60 line
    geometry = layout(figures)
    assert geometry.span_minutes >= 60
    assert all(geometry.plot_left <= m.x <= geometry.plot_right for m in geometry.markers)


def test_svg_escapes_journal_text():
    """Journal text cannot inject markup into the chart."""
    chart = svg(rex_figures(_journal(hostile=True), t(95)))
    assert "<script>" not in chart and "&lt;script&gt;" in chart


def test_markdown_rex_has_gfm_tables_banner_and_sections():
    """Markdown REX: EXERCICE banner top and bottom, GFM compliance table, escaped pipes."""
    figures = rex_figures(_journal(hostile=True), t(95))
    text = render_markdown(rex_document(figures, prefecture=PREFECTURE, tz=PARIS))
    lines = text.splitlines()
    assert lines[0] == lines[-1] == "> **EXERCICE — EXERCICE — EXERCICE**"
    assert "# Retour d'expérience" in lines
    assert "| Engagement | Objet | État | Délai | Constat | Preuves (main courante) |" in lines
    row = next(line for line in lines if line.startswith("| 47.1 |"))
    assert row.count(" | ") == 5 and "| manqué |" in row and row.endswith("| n° 1, 2 |")
    assert any(line.startswith("| 42218 | joint | maire-42218 (maire) |") for line in lines)
    assert "la RD \\| 1082" in text  # a pipe in a cell does not break the table
    assert "## 8. Enseignements et actions correctives" in lines
    assert "| Renforcer le standard | — | 31/01/2027 | à faire |" in lines
    assert "- **Sollicitations reçues** : 5" in lines
    assert "- **Sans réponse** : 4 (m1, m2, m3, m4)" in lines


def test_markdown_of_a_real_event_has_no_exercise_banner():
    """A real event is not marked EXERCICE."""
    entries = [
        e.model_copy(update={"fact": e.fact.model_copy(update={"mode": Mode.REEL})})
        if e.seq == 1
        else e
        for e in _journal()
    ]
    text = render_markdown(rex_document(rex_figures(entries, t(95)), prefecture="P", tz=PARIS))
    assert "EXERCICE" not in text and "Mode** : réel" in text


def test_html_rex_is_self_contained_escaped_and_marked_exercise():
    """HTML REX: French, State header with the prefecture, EXERCICE banner, inline SVG and CSS,
    no external asset, journal text escaped."""
    figures = rex_figures(_journal(hostile=True), t(95))
    html = render_html(
        rex_document(figures, prefecture="Préfecture <de> la Loire", tz=PARIS), chart=svg(figures)
    )
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert "République<br>française" in html and "Préfecture &lt;de&gt; la Loire" in html
    assert html.count('class="bandeau-exercice') == 2
    assert "<svg" in html and "<style>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert re.search(r"<link\b", html) is None
    assert html.count('<tr class="statut-') >= 11


def test_compliance_document_is_the_verdict_alone():
    """The compliance report holds one block: the verdict table with every engagement."""
    doc = compliance_document(compliance_figures(_journal(), t(95)), prefecture="P", tz=PARIS)
    assert [b.title for b in doc.blocks] == ["Verdict à T0+60"]
    table = doc.blocks[0].tables[0]
    assert [r[0] for r in table.rows][:3] == ["47", "47.1", "47.2"] and len(table.rows) == 11
    assert doc.exercise


def test_write_functions_name_files_and_refuse_unknown_formats(tmp_path: Path):
    """File names REX-<id>, conformite-<id>, bilan-annuel-<year>; unknown formats refused in French."""
    entries = _journal()
    rex = write_rex(entries, t(95), tmp_path, prefecture=PREFECTURE, formats=("md", "html"))
    assert [p.name for p in rex] == ["REX-c1.md", "REX-c1.html"]
    conf = write_compliance(entries, t(95), tmp_path, prefecture=PREFECTURE, formats=["md"])
    assert [p.name for p in conf] == ["conformite-c1.md"]
    assert "Rapport de conformité" in conf[0].read_text(encoding="utf-8")
    annual = write_annual(
        2025,
        [entries],
        [TrainingRow("cip-1", "agent CIP", "à jour", date(2026, 1, 1))],
        t(95),
        tmp_path,
        prefecture=PREFECTURE,
        formats=("md", "html"),
    )
    assert [p.name for p in annual] == ["bilan-annuel-2025.md", "bilan-annuel-2025.html"]
    md = annual[0].read_text(encoding="utf-8")
    assert "# Bilan annuel 2025" in md and "| cip-1 | agent CIP | à jour | 01/01/2026 |" in md
    assert "| c1 | Renforcer le standard | — | 31/01/2027 |" in md
    with pytest.raises(ReportError, match="format de rapport inconnu : docx"):
        write_rex(entries, t(95), tmp_path, prefecture=PREFECTURE, formats=("docx",))


def test_annual_review_counts_only_the_year_in_the_prefecture_time_zone():
    """A T0 at 23:30 UTC on 31 December belongs to the next year in Paris."""
    b = JournalBuilder(t0=t(0).replace(year=2025, month=12, day=31, hour=23, minute=30))
    assert annual_figures(2026, [b.entries], [], t(0), tz=PARIS).crises[0].crisis_id == "c1"
    assert annual_figures(2025, [b.entries], [], t(0), tz=PARIS).crises == ()

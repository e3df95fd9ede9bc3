"""The HTML REX rendered in headless Chromium: chart drawn, tables present, no horizontal overflow."""

from __future__ import annotations

from datetime import datetime

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from crisis.model import JournalEntry
from crisis.reports import rex_figures, write_rex
from crisis.reports.figures import CategoryName
from tests.integration.test_reports_figures import PREFECTURE, exercise_journal


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[JournalEntry], datetime]:
    """A real exercise journal (media pressure, CIP, injects)."""
    return exercise_journal(tmp_path_factory.mktemp("rex-browser"))


def test_rex_html_renders_chart_and_tables_in_chromium(run, tmp_path, artefacts, chromium):
    """Headless Chromium at 1280 px: the SVG timeline has size and markers, the compliance
    table has its rows, the EXERCICE banner shows, nothing overflows sideways; screenshot kept."""
    executable = chromium

    entries, now = run
    figures = rex_figures(entries, now)
    html = next(
        p for p in write_rex(entries, now, tmp_path, prefecture=PREFECTURE, formats=("html",))
    )
    shot = artefacts / "rex.png"
    chart_shot = artefacts / "chronologie.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            chart = page.locator("svg.chronologie")
            box = chart.bounding_box()
            markers = page.locator("svg.chronologie circle.marker").count()
            bars = page.locator("svg.chronologie rect.bar").count()
            compliance_rows = page.locator("table.conformite tbody tr").count()
            commune_cells = page.locator("table.communes tbody tr td:first-child").all_inner_texts()
            banner = page.locator(".bandeau-exercice").first.is_visible()
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            wide = page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                    .map(el => el.tagName + '.' + el.className).slice(0, 5)"""
            )
            heading = page.locator("h1").inner_text()
            chart.screenshot(path=str(chart_shot))
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert box is not None and box["width"] > 800 and box["height"] > 150, box
    expected = sum(e.category != CategoryName.PRESS for e in figures.timeline)
    assert markers == expected > 20
    assert bars == sum(1 for q in figures.media.per_quarter if q.count)
    assert compliance_rows == 11
    assert "Montbrison (42147)" in commune_cells
    assert banner
    assert heading == "Retour d'expérience"
    assert overflow <= 0 and not wide, wide
    assert shot.stat().st_size > 50_000
    with Image.open(chart_shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # lanes, markers, bars and text: not a blank box

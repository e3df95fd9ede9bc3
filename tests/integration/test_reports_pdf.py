"""PDF reports from a real exercise journal: text extracted with pypdf and checked."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from crisis.model import JournalEntry
from crisis.reports import FontMissing, TrainingRow, write_annual, write_compliance, write_rex
from crisis.reports.document import rex_document
from crisis.reports.figures import rex_figures
from crisis.reports.pdf import render_pdf
from tests.integration.test_reports_figures import PREFECTURE, exercise_journal


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[JournalEntry], datetime]:
    """A real exercise journal (media pressure, CIP, injects, lessons)."""
    return exercise_journal(tmp_path_factory.mktemp("rex-pdf"))


def _pages(path: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_rex_pdf_text_has_title_prefecture_engagements_communes_and_page_numbers(run, tmp_path):
    """REX PDF: every page has the prefecture, the title and « page n / N »; the compliance
    lines, a commune not reached and the EXERCICE banner are real extractable text."""
    entries, now = run
    (path,) = write_rex(entries, now, tmp_path, prefecture=PREFECTURE, formats=("pdf",))
    pages = _pages(path)
    total = len(pages)
    assert total >= 2
    for number, text in enumerate(pages, start=1):
        assert PREFECTURE in text, number
        assert "Retour d'expérience" in text, number
        assert "EXERCICE — EXERCICE — EXERCICE" in text, number
        assert f"page {number} / {total}" in text, number
    whole = " ".join(pages)
    assert "RÉPUBLIQUE FRANÇAISE" in pages[0]
    assert "1. Synthèse" in whole and "Référence SYNERGI SYN-42-EX-7" in whole
    for line in (
        "47.1 Direction par le directeur de cabinet ou le sous-préfet, avec l'agent d'astreinte fait",
        "48.1 Élus locaux des communes concernées contactés fait",
        "CIAV Numéro de la CIAV relayé (attentat) sans objet",
    ):
        assert line in whole, line
    assert "Montbrison (42147) non joint" in whole
    assert "Sans réponse 2 (m5, m8)" in whole
    assert "Renforcer le standard SIDPC" in whole
    # the timeline is drawn with lines and rectangles, its labels are text, no image
    assert "min. depuis T0" in whole and "injection" in whole
    reader = PdfReader(path)
    assert all("/XObject" not in page["/Resources"] for page in reader.pages)


def test_compliance_pdf_is_one_page_with_every_engagement(run, tmp_path):
    """The compliance report fits on one page and cites the verdict of every engagement."""
    entries, now = run
    (path,) = write_compliance(entries, now, tmp_path, prefecture=PREFECTURE, formats=["pdf"])
    pages = _pages(path)
    assert len(pages) == 1
    text = pages[0]
    assert "Rapport de conformité — première heure" in text and "page 1 / 1" in text
    for ref in ("47", "47.1", "47.2", "48", "48.1", "48.2", "48.3", "48.4", "48.5", "50.1", "CIAV"):
        assert re.search(rf"(^| ){re.escape(ref)} [A-ZÉN]", text), ref
    assert "non jointes : Montbrison (42147" in text


def test_annual_pdf_lists_the_exercise_and_the_training(run, tmp_path):
    """The annual review PDF: the year, the exercise, training rows and open actions."""
    entries, now = run
    training = [TrainingRow("cip-1", "agent CIP", "recyclage dépassé", None)]
    (path,) = write_annual(
        2026, [entries], training, now, tmp_path, prefecture=PREFECTURE, formats=("pdf",)
    )
    text = " ".join(_pages(path))
    assert "Bilan annuel 2026" in text and entries[0].crisis_id in text
    assert "Exercices avec pression médiatique (49.2) 1" in text
    assert "cip-1 agent CIP recyclage dépassé" in text
    assert "Former deux agents CIP de plus" in text


def test_missing_font_is_reported_in_french(run, tmp_path):
    """Without DejaVu the PDF is refused with the Debian package to install."""
    entries, now = run
    doc = rex_document(
        rex_figures(entries, now), prefecture=PREFECTURE, tz=ZoneInfo("Europe/Paris")
    )
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        render_pdf(doc, font_dirs=[tmp_path])
    assert PdfReader(BytesIO(render_pdf(doc))).pages

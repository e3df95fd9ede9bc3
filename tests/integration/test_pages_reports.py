"""The dashboard's reports page: REX, compliance report and annual review generated on request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from crisis.accounts import WebRole
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Actor, Interface
from tests.integration.helpers import activate
from tests.integration.test_pages_security import _logged_in, _user, _web


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with _web(app) as client:
        yield client


@pytest.fixture
def crisis_id(app: App, clock: FakeClock) -> str:
    """A flood declared 20 minutes ago."""
    return activate(app, clock.now() - timedelta(minutes=20)).crisis.id


async def test_an_observateur_downloads_every_report(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """Read-only role: the page links each document; PDF, Markdown and HTML come back with the
    right type and a French file name (attachment for PDF and Markdown, HTML inline)."""
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    page = await http.get("/rapports")
    assert page.status_code == 200
    for kind in ("rex", "conformite"):
        for fmt in ("html", "pdf", "md"):
            assert f'href="/rapports/{crisis_id}/{kind}.{fmt}"' in page.text
    assert 'href="/rapports/bilan-2026.pdf"' in page.text

    pdf = await http.get(f"/rapports/{crisis_id}/rex.pdf")
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'attachment; filename="REX-{crisis_id}.pdf"'

    md = await http.get(f"/rapports/{crisis_id}/conformite.md")
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == (
        f'attachment; filename="conformite-{crisis_id}.md"'
    )
    assert "\n# Rapport de conformité — première heure\n" in md.text
    assert crisis_id in md.text

    html = await http.get(f"/rapports/{crisis_id}/rex.html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["content-disposition"].startswith("inline;")
    assert "<script" not in html.text.lower()
    assert "script-src" not in html.headers["content-security-policy"]  # default-src 'none'

    annual = await http.get("/rapports/bilan-2026.md")
    assert annual.status_code == 200
    assert annual.headers["content-disposition"] == 'attachment; filename="bilan-annuel-2026.md"'
    assert "2026" in next(line for line in annual.text.splitlines() if line.startswith("# "))
    annual_pdf = await http.get("/rapports/bilan-2026.pdf")
    assert annual_pdf.status_code == 200 and annual_pdf.content.startswith(b"%PDF")


async def test_markdown_title_names_the_report(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """The Markdown REX carries its title and the crisis id, as the CLI writes it."""
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    await _logged_in(http, "agent1")
    md = await http.get(f"/rapports/{crisis_id}/rex.md")
    title = next(line for line in md.text.splitlines() if line.startswith("# "))
    assert title == "# Retour d'expérience"
    assert crisis_id in md.text


async def test_anonymous_visitors_are_sent_to_the_login_page(
    http: httpx.AsyncClient, crisis_id: str
) -> None:
    for path in ("/rapports", f"/rapports/{crisis_id}/rex.pdf", "/rapports/bilan-2026.md"):
        response = await http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/connexion"


async def test_unknown_crisis_report_or_format_is_a_french_404(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    cases = {
        "/rapports/20990101-0000-inondation/rex.pdf": "aucun événement",
        f"/rapports/{crisis_id}/rex.docx": "rapport inconnu",
        f"/rapports/{crisis_id}/bilan.pdf": "rapport inconnu",
        "/rapports/bilan-26.pdf": "rapport inconnu",
        "/rapports/20990101-0000-inondation": "aucun événement",
    }
    for path, words in cases.items():
        response = await http.get(path)
        assert response.status_code == 404, path
        assert words in response.text, path
        assert response.headers["content-type"].startswith("text/html")


async def test_one_crisis_reports_page(app: App, http: httpx.AsyncClient, crisis_id: str) -> None:
    """/rapports/{id}: only that crisis, for the board's link."""
    other = activate(app, app.clock.now() - timedelta(minutes=5), synergi_ref="SYN-2").crisis.id
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    page = await http.get(f"/rapports/{crisis_id}")
    assert page.status_code == 200
    assert f'id="rapports-{crisis_id}"' in page.text
    assert f"/rapports/{other}/" not in page.text


async def test_a_closed_crisis_on_the_crises_page_links_its_reports(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """« Clos » lists the closed events with their REX (HTML, PDF) and their reports page; an
    open event has no REX link there yet."""
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    assert f'href="/rapports/{crisis_id}/rex.pdf"' not in (await http.get("/crises")).text
    app.orchestrator.close(
        crisis_id, Actor(name="Directeur de cabinet", interface=Interface.CLI), "décrue"
    )
    page = await http.get("/crises")
    closed = page.text.split('id="titre-clos"', 1)[1]
    for href in (f"/rapports/{crisis_id}/rex.html", f"/rapports/{crisis_id}/rex.pdf"):
        assert f'href="{href}"' in closed
        assert (await http.get(href)).status_code == 200
    assert f'href="/rapports/{crisis_id}"' in closed

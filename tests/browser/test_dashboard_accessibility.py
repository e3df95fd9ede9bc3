"""Accessibility of the dashboard's main pages: axe-core (vendored) run in headless Chromium,
no "serious" or "critical" violation on the login page, the crises page and a crisis's board
(with a message awaiting approval), its drafting form and the exercises page, at desktop and phone widths;
screenshots kept in test-artifacts/captures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from crisis.accounts import WebRole
from crisis.bootstrap import App
from crisis.clock import FakeClock
from tests.browser import test_dashboard_browser as shared
from tests.integration.helpers import activate

served = shared.served  # the uvicorn fixture, shared with the round test
AXE = Path(__file__).parent / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
}"""


def _axe(page, axe: str, shot: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's serious and critical violations (axe injected), and a screenshot."""
    page.add_script_tag(content=axe)
    violations: list[str] = page.evaluate(RUN_AXE)
    page.screenshot(path=str(shot), full_page=True)
    return violations


def test_main_pages_have_no_serious_accessibility_violation(
    app: App, served: str, clock: FakeClock, artefacts: Path, chromium: Path
) -> None:
    """axe-core on /connexion, /crises, /crises/{id}, its drafting form and /exercices, 1280
    and 375 px wide."""
    executable = chromium

    base = served
    shared._user(app, "prefete", WebRole.PREFET, "Préfète")
    crisis_id = activate(app, clock.now() - timedelta(minutes=20)).crisis.id
    axe = AXE.read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
        try:
            for width, height in ((1280, 900), (375, 812)):
                # the pages' CSP forbids inline scripts: let the test inject axe
                context = browser.new_context(
                    viewport={"width": width, "height": height}, bypass_csp=True
                )
                page = context.new_page()

                page.goto(f"{base}/connexion")
                found[f"connexion@{width}"] = _axe(page, axe, artefacts / f"connexion-{width}.png")
                shared._login(page, base, "prefete")
                found[f"crises@{width}"] = _axe(page, axe, artefacts / f"crises-{width}.png")
                page.goto(f"{base}/crises/{crisis_id}")
                page.wait_for_selector(".bouton-approuver", timeout=10_000)
                found[f"tableau@{width}"] = _axe(page, axe, artefacts / f"tableau-{width}.png")
                page.goto(f"{base}/crises/{crisis_id}/redaction/premier_message")
                page.wait_for_selector("#form-redaction", timeout=10_000)
                found[f"redaction@{width}"] = _axe(page, axe, artefacts / f"redaction-{width}.png")
                page.goto(f"{base}/exercices")
                page.wait_for_selector("#form-exercice", timeout=10_000)
                found[f"exercices@{width}"] = _axe(page, axe, artefacts / f"exercices-{width}.png")
                context.close()
        finally:
            browser.close()
    assert len(found) == 10
    assert all(not v for v in found.values()), found

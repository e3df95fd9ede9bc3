"""The dashboard in headless Chromium, served by uvicorn on 127.0.0.1: log in, declare a T0,
four-eyes approval (the drafter refused, a second approver from a 375-px phone), and the board
changing without reload when a fact lands. Screenshots are kept in test-artifacts/captures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from channels.ack_link import AckLinkSigner
from contacts.model import Role
from crisis.accounts import WebRole, actor_of
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Actor, Interface
from crisis.web.app import create_app
from tests.integration.test_pages_security import PASSWORD, _user

WAIT_MS = 10_000
PHONE = {"width": 375, "height": 812}
DRAFTED_SHORT = "Crue du Furan : évitez les berges et les routes inondées. Suivez les consignes."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(app: App) -> Iterator[str]:
    """The full web application on a free local port (its own thread and event loop)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = create_app(
        app,
        twilio_auth_token=None,
        public_base_url=base,
        ack_signer=AckLinkSigner(secret=b"secret-de-test-du-navigateur-0123456789", base_url=base),
    )
    config = uvicorn.Config(
        web,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(100):
        if server.started:
            ready.set()
            break
        ready.wait(0.05)
    assert server.started, "uvicorn did not start"
    yield base
    server.should_exit = True
    thread.join(10)


def _login(page, base: str, login: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#form-connexion button[type=submit]")
    page.wait_for_url(f"{base}/crises", timeout=WAIT_MS)


def test_dashboard_in_chromium(
    app: App, served: str, clock: FakeClock, artefacts: Path, chromium: Path
) -> None:
    """The whole round: declare, refuse the drafter, approve from a phone, watch it live."""
    executable = chromium

    base = served
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    dircab = _user(app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet")
    _user(app, "prefete", WebRole.PREFET, "Préfète")
    t0_local = (clock.now() - timedelta(minutes=20)).astimezone(app.orchestrator.config.timezone)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
        try:
            # 1. the on-call agent declares the T0 from the big screen
            desk = browser.new_context(viewport={"width": 1280, "height": 900})
            page = desk.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text))
            _login(page, base, "agent1")
            page.screenshot(path=str(artefacts / "crises.png"), full_page=True)
            desk_menus = (
                page.locator(".navigation-tableau a[href='/exercices']").is_visible(),
                page.locator(".navigation-mobile").is_visible(),
            )
            page.select_option("#kind", "inondation")
            page.fill("#t0_date", f"{t0_local:%Y-%m-%d}")
            page.fill("#t0_time", f"{t0_local:%H:%M}")
            page.fill("#synergi", "SYN-42-0777")
            page.fill("#zone", "42218")
            page.click("#form-activation button[type=submit]")
            page.wait_for_selector("#communes-resolues", timeout=WAIT_MS)
            resolved = page.locator("#communes-resolues tbody tr").all_inner_texts()
            page.screenshot(path=str(artefacts / "confirmation.png"), full_page=True)
            page.click("#form-confirmation button[type=submit]")
            page.wait_for_selector("#tableau", timeout=WAIT_MS)
            crisis_id = page.get_attribute("#tableau", "data-crise")
            assert crisis_id
            page.wait_for_selector("#tableau[data-tete]", timeout=WAIT_MS)  # live stream open
            engagements = page.locator(".conformite li.engagement").count()
            reach_before = page.inner_text('tr[data-commune="42218"] .etat')
            verdict_before = page.inner_text('li[data-engagement="48.1"] summary')
            page.screenshot(path=str(artefacts / "tableau.png"), full_page=True)

            # 2. the directeur de cabinet rewrites the first message on his phone ("Rédiger /
            # modifier"), then tries to approve it himself: refused (four-eyes)
            phone_a = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            mine = phone_a.new_page()
            _login(mine, base, "dircab")
            mine.goto(f"{base}/crises/{crisis_id}")
            mine.click("#validation-premier_message .lien-rediger", timeout=WAIT_MS)
            mine.fill("#redaction-court", DRAFTED_SHORT)
            mine.screenshot(path=str(artefacts / "redaction-telephone.png"), full_page=True)
            mine.click("#form-redaction button[type=submit]", timeout=WAIT_MS)
            mine.wait_for_selector("#fait", timeout=WAIT_MS)
            drafted_notice = mine.inner_text("#fait")
            drafted_preview = mine.locator("#validation-premier_message").text_content() or ""
            mine.click("#validation-premier_message .bouton-approuver", timeout=WAIT_MS)
            mine.wait_for_selector("#erreur", timeout=WAIT_MS)
            refusal = mine.inner_text("#erreur")
            mine.screenshot(path=str(artefacts / "refus-redacteur.png"))

            # 3. the préfète approves from her phone, 375 px wide
            phone_b = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            other = phone_b.new_page()
            _login(other, base, "prefete")
            other.goto(f"{base}/crises/{crisis_id}")
            menu_on_phone = [
                other.locator(f".navigation-mobile a[href='{href}']").is_visible()
                for href in ("/crises", "/exercices", "/annuaire", "/rapports")
            ]
            button = other.locator("#validation-premier_message .bouton-approuver")
            button.scroll_into_view_if_needed(timeout=WAIT_MS)
            box = button.bounding_box()
            overflow = other.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            other.screenshot(path=str(artefacts / "validation-telephone.png"))
            button.click(timeout=WAIT_MS)
            other.wait_for_selector("#fait", timeout=WAIT_MS)
            approved = other.inner_text("#fait")
            with app.store.transaction() as tx:
                posted = tx.outbox_by_key(f"{crisis_id}:premier_message:public-x:x:v1")
            still_listed = other.locator("#validation-premier_message").count()

            # 4. a mayor confirms by phone: the agent's board changes without reloading
            page.evaluate("() => { window.pasRecharge = 42; }")
            with app.store.transaction() as tx:
                crisis = tx.crisis(crisis_id)
            maire = next(c for c in crisis.roster if c.role == Role.MAIRE and c.commune == "42218")
            app.orchestrator.acknowledge(
                crisis_id, maire.id, Actor(name="Standard", interface=Interface.CLI)
            )
            page.wait_for_function(
                """() => document.querySelector('tr[data-commune="42218"] .etat')
                         .textContent.trim() === 'jointe'""",
                timeout=WAIT_MS,
            )
            page.wait_for_function(
                """before => document.querySelector('li[data-engagement="48.1"] summary')
                             .textContent !== before""",
                arg=verdict_before,
                timeout=WAIT_MS,
            )
            not_reloaded = page.evaluate("() => window.pasRecharge")
            verdict_after = page.inner_text('li[data-engagement="48.1"] summary')
            approval_seen = page.locator("#validation-premier_message").count()
            page.screenshot(path=str(artefacts / "tableau-en-direct.png"), full_page=True)
            for context in (desk, phone_a, phone_b):
                context.close()
        finally:
            browser.close()
    assert not [m for m in console if "Content Security Policy" in m], console
    assert any("Saint-Étienne" in row for row in resolved), resolved
    assert engagements >= 9
    assert reach_before in {"en cours", "non jointe"}
    assert "Rédaction enregistrée" in drafted_notice
    assert DRAFTED_SHORT in drafted_preview  # the approver sees the text as rewritten
    assert f"Rédigé par {actor_of(dircab, Interface.WEB).name}" in drafted_preview
    assert "double regard" in refusal
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 40  # a thumb's target
    assert overflow <= 0
    assert desk_menus == (True, False)  # big screen: the header's links, no second menu
    assert menu_on_phone == [True] * 4  # the DSFR hides the header's links on phones
    assert "Message approuvé" in approved and still_listed == 0
    assert posted is not None and posted.message.body == DRAFTED_SHORT  # what was approved
    assert not_reloaded == 42
    assert "fait" in verdict_after and verdict_after != verdict_before
    assert approval_seen == 0  # the live refresh also dropped the approved message
    for name in ("crises", "confirmation", "tableau", "validation-telephone"):
        assert (artefacts / f"{name}.png").stat().st_size > 10_000


def _declare_in_form(page, base: str, t0_local, synergi: str, kind: str = "inondation") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/crises")
    page.select_option("#kind", kind)
    page.fill("#t0_date", f"{t0_local:%Y-%m-%d}")
    page.fill("#t0_time", f"{t0_local:%H:%M}")
    page.fill("#synergi", synergi)
    page.fill("#zone", "42218")
    page.click("#form-activation button[type=submit]")
    page.wait_for_selector("#form-confirmation", timeout=WAIT_MS)


def test_second_form_for_the_same_activation_shows_the_event_recorded(
    app: App, served: str, clock: FakeClock, artefacts: Path, chromium: Path
) -> None:
    """Two agents fill a fresh form each for one COD activation: one event, the second agent is
    shown « Activation déjà enregistrée » on it; another kind under the reference is refused,
    and the directeur de cabinet then rectifies the T0 on the board."""
    base = served
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    _user(app, "agent2", WebRole.AGENT, "Second agent")
    _user(app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet")
    t0_local = (clock.now() - timedelta(minutes=20)).astimezone(app.orchestrator.config.timezone)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            first = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(first, base, "agent1")
            _declare_in_form(first, base, t0_local, "42-2026-0113")
            shown_t0 = first.inner_text("#t0-confirme")
            first.click("#form-confirmation button[type=submit]")
            first.wait_for_selector("#tableau", timeout=WAIT_MS)
            crisis_id = first.get_attribute("#tableau", "data-crise")

            second = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(second, base, "agent2")
            _declare_in_form(second, base, t0_local, "42-2026-0113")
            second.click("#form-confirmation button[type=submit]")
            second.wait_for_selector("#tableau", timeout=WAIT_MS)
            again_id = second.get_attribute("#tableau", "data-crise")
            notice = second.inner_text("#fait")
            second.screenshot(path=str(artefacts / "activation-deja.png"), full_page=True)

            _declare_in_form(second, base, t0_local, "42-2026-0113", kind="tempete")
            second.click("#form-confirmation button[type=submit]")
            second.wait_for_selector("#refus-activation", timeout=WAIT_MS)
            refusal = second.inner_text("#refus-activation")
            agent_may_confirm = second.locator("#confirmation-prefet").count()
            second.screenshot(path=str(artefacts / "activation-refusee.png"), full_page=True)

            boss = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
            _login(boss, base, "dircab")
            boss.goto(f"{base}/crises/{crisis_id}")
            right = t0_local + timedelta(minutes=10)
            boss.fill("#rectif-heure", f"{right:%H:%M}")
            boss.fill("#rectif-motif", "heure de SYNERGI mal recopiée")
            boss.check("#rectif-confirmer", force=True)
            boss.click("#form-rectification button[type=submit]")
            boss.wait_for_selector("#t0-declare", timeout=WAIT_MS)
            board_t0 = boss.inner_text("#t0")
            declared = boss.inner_text("#t0-declare")
            boss.screenshot(path=str(artefacts / "t0-rectifie.png"), full_page=True)
        finally:
            browser.close()
    weekday = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    assert f"{weekday[t0_local.weekday()]} {t0_local:%d/%m/%Y %H:%M}" in shown_t0
    assert again_id == crisis_id
    assert "Activation déjà enregistrée" in notice
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == [crisis_id]
    assert crisis_id in refusal and "type d'événement" in refusal
    assert agent_may_confirm == 0
    assert f"{right:%H:%M}" in board_t0 and f"{t0_local:%H:%M}" in declared

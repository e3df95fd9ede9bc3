"""The dashboard's security over the real application: sessions, CSRF, roles, login limits,
TOTP, escaping; and its main forms (declare a T0 with the resolved communes, four-eyes)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pyotp
import pytest

from channels.ack_link import AckLinkSigner
from crisis.accounts import WebRole, WebUser, actor_of, hash_password, new_totp_secret
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Interface
from crisis.web.app import create_app
from tests.integration.helpers import activate, journal, of_type

PASSWORD = "phrase de passe de test"
SECRET = b"secret-de-test-des-sessions-0123456789"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _user(app: App, login: str, role: WebRole, name: str, *, totp: str | None = None) -> WebUser:
    now = app.clock.now()
    user = WebUser(
        login=login,
        display_name=name,
        role=role,
        password_hash=hash_password(PASSWORD),
        totp_secret=totp,
        created_at=now,
        updated_at=now,
    )
    with app.store.transaction() as tx:
        tx.add_user(user)
    return user


def _web(app: App, base: str = "http://127.0.0.1:8080") -> httpx.AsyncClient:
    web = create_app(
        app,
        twilio_auth_token=None,
        public_base_url=base,
        ack_signer=AckLinkSigner(secret=SECRET, base_url=base),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://127.0.0.1")


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the full web application, pages served (secret set)."""
    async with _web(app) as client:
        yield client


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def _login(
    http: httpx.AsyncClient, login: str, password: str = PASSWORD, code: str = ""
) -> httpx.Response:
    page = await http.get("/connexion")
    form = {"csrf": _csrf(page.text), "login": login, "password": password, "code": code}
    return await http.post("/connexion", data=form)


async def _logged_in(http: httpx.AsyncClient, login: str) -> str:
    """Log in; returns the session's CSRF token."""
    response = await _login(http, login)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/crises"
    return _csrf((await http.get("/crises")).text)


def _crisis(app: App, clock: FakeClock) -> str:
    """A flood declared 20 minutes ago: its public messages wait for approval."""
    return activate(app, clock.now() - timedelta(minutes=20)).crisis.id


def _posts(crisis_id: str) -> list[tuple[str, dict[str, str]]]:
    """Every state-changing route with a plausible form."""
    return [
        (
            "/crises/activation",
            {
                "kind": "inondation",
                "t0_date": "2026-11-23",
                "t0_time": "02:00",
                "synergi": "SYN-1",
                "zone": "42218",
                "key": "k1",
                "confirm": "1",
            },
        ),
        (f"/crises/{crisis_id}/validations/premier_message", {}),
        (f"/crises/{crisis_id}/notes", {"text": "note"}),
        (f"/crises/{crisis_id}/cloture", {"confirm": "1"}),
        (f"/crises/{crisis_id}/cip/activation", {"number": "+33 1 99 00 12 34"}),
        (f"/crises/{crisis_id}/cip/fermeture", {}),
        (
            f"/crises/{crisis_id}/temps0",
            {"t0_date": "2026-11-23", "t0_time": "02:05", "reason": "erreur", "confirm": "1"},
        ),
        (f"/crises/{crisis_id}/presse/M1", {"answer": "oui"}),
        (
            f"/crises/{crisis_id}/redaction/premier_message",
            {"subject": "Objet", "short": "Texte court", "voice": "Message vocal"},
        ),
        ("/exercices", {"scenario": "inondation_furan", "speed": "30"}),
        ("/exercices/ex-20261123-000000-abcd/commande", {"ordre": "pause"}),
    ]


async def test_anonymous_visitors_are_sent_to_the_login_page(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Pages redirect to /connexion, the script's fragments and stream answer 401, and no POST
    changes anything without a session."""
    crisis_id = _crisis(app, clock)
    before = len(journal(app, crisis_id))
    for path in ("/crises", f"/crises/{crisis_id}"):
        response = await http.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/connexion"
    for path in (f"/crises/{crisis_id}/fragments/conformite", f"/crises/{crisis_id}/flux"):
        assert (await http.get(path)).status_code == 401
    csrf = _csrf((await http.get("/connexion")).text)  # even with the login form's token
    for path, form in [*_posts(crisis_id), ("/deconnexion", {})]:
        response = await http.post(path, data={**form, "csrf": csrf})
        assert response.status_code == 303, path
        assert response.headers["location"] == "/connexion", path
    assert len(journal(app, crisis_id)) == before
    with app.store.transaction() as tx:
        assert len(tx.crisis_ids(open_only=False)) == 1


async def test_every_form_needs_the_session_csrf_token(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Missing or wrong token: 403 with a French page, nothing journaled (préfet: every right)."""
    crisis_id = _crisis(app, clock)
    _user(app, "prefete", WebRole.PREFET, "Préfète")
    csrf = await _logged_in(http, "prefete")
    before = len(journal(app, crisis_id))
    for path, form in [*_posts(crisis_id), ("/deconnexion", {})]:
        for token in (None, "faux-jeton", csrf[:-2]):
            data = form if token is None else {**form, "csrf": token}
            response = await http.post(path, data=data)
            assert response.status_code == 403, (path, token)
            assert "jeton de formulaire absent ou invalide" in response.text
            assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert len(journal(app, crisis_id)) == before
    # the right token still works: the session was not spent by the refusals
    ok = await http.post(f"/crises/{crisis_id}/notes", data={"csrf": csrf, "text": "vu"})
    assert ok.status_code == 303


async def test_roles_decide_what_an_account_may_do(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """An observateur reads but every action is 403 (French, names the role); an agent may
    write a note but not approve, order the CIP nor close."""
    crisis_id = _crisis(app, clock)
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    csrf = await _logged_in(http, "audit")
    board = await http.get(f"/crises/{crisis_id}")
    assert board.status_code == 200 and "Approuver</button>" not in board.text
    before = len(journal(app, crisis_id))
    for path, form in _posts(crisis_id):
        response = await http.post(path, data={**form, "csrf": csrf})
        assert response.status_code == 403, path
        assert "le rôle observateur / auditeur ne permet pas de" in response.text
    assert len(journal(app, crisis_id)) == before
    http.cookies.clear()
    csrf = await _logged_in(http, "agent1")
    for path, form in _posts(crisis_id)[1:]:
        response = await http.post(path, data={**form, "csrf": csrf})
        expected = 303 if path.endswith(("/notes", "/presse/M1")) else 403
        if path.endswith("/presse/M1"):
            expected = 409  # allowed to answer, but there is no such request: refused by name
        assert response.status_code == expected, (path, response.text[:300])
    assert [e.text for e in of_type(journal(app, crisis_id), "NoteAdded")] == ["note"]


async def test_login_is_refused_after_five_failures(app: App, http: httpx.AsyncClient) -> None:
    """Five wrong passwords, then even the right one is refused for a while (429, French);
    every attempt is recorded."""
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    for _ in range(5):
        response = await _login(http, "agent1", "mauvais mot de passe")
        assert response.status_code == 401
        assert "Identifiant, mot de passe ou code à usage unique incorrect" in response.text
    blocked = await _login(http, "agent1")
    assert blocked.status_code == 429
    assert "trop d&#39;échecs de connexion pour cet identifiant" in blocked.text
    assert (await http.get("/crises")).status_code == 303  # not logged in
    with app.store.transaction() as tx:
        failures = tx.login_failures("agent1", app.clock.now() - timedelta(hours=1))
    assert len(failures) == 5


async def test_totp_is_required_when_the_account_has_one(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Right password without the code, or with a wrong one: refused; with the code: in."""
    secret = new_totp_secret()
    _user(app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet", totp=secret)
    assert (await _login(http, "dircab")).status_code == 401
    assert (await _login(http, "dircab", code="000000")).status_code == 401
    code = pyotp.TOTP(secret).at(clock.now())
    response = await _login(http, "dircab", code=code)
    assert response.status_code == 303
    assert (await http.get("/crises")).status_code == 200


async def test_session_cookie_flags_and_logout(app: App, clock: FakeClock) -> None:
    """HttpOnly and SameSite=Strict always; Secure (and __Host- name) behind https; logging
    out ends the session, a copy of its cookie included (revoked in the database)."""
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    async with _web(app, "https://crise.example.fr") as http:
        page = await http.get("/connexion")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-crise=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    async with _web(app) as http:
        csrf = await _logged_in(http, "agent1")
        assert (await http.get("/crises")).status_code == 200
        copied = dict(http.cookies)  # someone copied the cookie before the logout
        out = await http.post("/deconnexion", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/connexion"
        assert (await http.get("/crises")).status_code == 303
    async with _web(app) as thief:
        thief.cookies.update(copied)
        stolen = await thief.get("/crises")
        assert stolen.status_code == 303 and stolen.headers["location"] == "/connexion"
    async with _web(app) as http:  # the same account logs in again: a new session works
        await _logged_in(http, "agent1")
        assert (await http.get("/crises")).status_code == 200


async def test_a_disabled_account_loses_its_session(app: App, http: httpx.AsyncClient) -> None:
    """Disabling (or resetting) an account ends the sessions opened before."""
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    await _logged_in(http, "agent1")
    clock = app.clock
    assert isinstance(clock, FakeClock)
    clock.advance(1)
    with app.store.transaction() as tx:
        tx.update_user("agent1", clock.now(), disabled=True)
    assert (await http.get("/crises")).status_code == 303


async def test_a_script_in_a_note_is_shown_as_text(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Autoescape: the main courante shows the note's text, the browser never runs it."""
    crisis_id = _crisis(app, clock)
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    csrf = await _logged_in(http, "agent1")
    text = "<script>alert(1)</script>"
    response = await http.post(f"/crises/{crisis_id}/notes", data={"csrf": csrf, "text": text})
    assert response.status_code == 303
    for path in (f"/crises/{crisis_id}", f"/crises/{crisis_id}/fragments/main-courante"):
        html = (await http.get(path)).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html


async def test_a_note_with_a_phone_number_or_too_long_is_refused_on_the_board(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The dashboard refuses what the CLI and the API refuse (same engine): 422 with the
    French reason, nothing journaled, never a silently truncated note."""
    crisis_id = _crisis(app, clock)
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    csrf = await _logged_in(http, "agent1")
    before = len(app.orchestrator.journal(crisis_id))
    for text, reason in (
        ("maire joint au 06 39 98 00 01", "le texte contient un numéro de téléphone"),
        ("x" * 2001, "2001 caractères, 2000 au plus"),
    ):
        response = await http.post(f"/crises/{crisis_id}/notes", data={"csrf": csrf, "text": text})
        assert response.status_code == 422
        assert reason in response.text
    assert len(app.orchestrator.journal(crisis_id)) == before


async def test_declaring_a_t0_shows_the_communes_then_records_once(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """First POST: the resolved communes and a confirmation form, nothing recorded; the
    confirmation records it (journaled with the account, web interface); the same form sent
    twice is one crisis."""
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    csrf = await _logged_in(http, "agent1")
    local = clock.now().astimezone(app.orchestrator.config.timezone) - timedelta(minutes=3)
    form = {
        "csrf": csrf,
        "kind": "inondation",
        "t0_date": f"{local:%Y-%m-%d}",
        "t0_time": f"{local:%H:%M}",
        "synergi": "SYN-42-0099",
        "zone": "42218, 42187",
        "key": "cle-formulaire-1",
    }
    preview = await http.post("/crises/activation", data=form)
    assert preview.status_code == 200
    assert "Saint-Étienne" in preview.text and "Roanne" in preview.text
    assert 'name="confirm" value="1"' in preview.text
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []
    first = await http.post("/crises/activation", data={**form, "confirm": "1"})
    assert first.status_code == 303
    again = await http.post("/crises/activation", data={**form, "confirm": "1"})
    assert again.headers["location"] == first.headers["location"] + "?fait=deja"  # said so
    with app.store.transaction() as tx:
        ids = tx.crisis_ids(open_only=False)
    assert len(ids) == 1 and first.headers["location"] == f"/crises/{ids[0]}"
    entry = journal(app, ids[0])[0]
    assert entry.actor.name == "Agent d'astreinte (agent1)"
    assert entry.actor.interface == Interface.WEB
    bad = await http.post("/crises/activation", data={**form, "zone": "epci:999999999"})
    assert bad.status_code == 422 and "fr-alert--error" in bad.text


async def test_four_eyes_from_the_board(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The drafter's approval is refused with the engine's French reason; another approver's
    goes through and the message leaves the approvals list."""
    crisis_id = _crisis(app, clock)
    drafter = _user(app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet")
    _user(app, "prefete", WebRole.PREFET, "Préfète")
    with app.store.transaction() as tx:  # the dircab wrote this message (drafting lands later)
        step = next(s for s in tx.steps(crisis_id) if s.step_id == "premier_message")
        name = actor_of(drafter, Interface.WEB).name
        tx.save_steps(crisis_id, [step.model_copy(update={"drafted_by": name})])
    csrf = await _logged_in(http, "dircab")
    board = await http.get(f"/crises/{crisis_id}")
    assert 'id="validation-premier_message"' in board.text and "segment" not in board.text
    assert "caractères" in board.text  # X length shown in the preview
    refused = await http.post(
        f"/crises/{crisis_id}/validations/premier_message", data={"csrf": csrf}
    )
    assert refused.status_code == 409
    assert "double regard" in refused.text
    http.cookies.clear()
    csrf = await _logged_in(http, "prefete")
    done = await http.post(f"/crises/{crisis_id}/validations/premier_message", data={"csrf": csrf})
    assert done.status_code == 303
    approved = of_type(journal(app, crisis_id), "MessageApproved")
    assert [e.actor.name for e in approved] == ["Préfète (prefete)"]
    board = await http.get(done.headers["location"])
    assert 'id="validation-premier_message"' not in board.text
    assert "Message approuvé" in board.text


async def test_pages_are_refused_without_the_secret(app: App) -> None:
    """No CRISIS_WEB_SECRET (no signer): the pages answer 503 in French, the API still works."""
    web = create_app(app, twilio_auth_token=None, public_base_url="http://127.0.0.1:8080")
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        for path in ("/connexion", "/crises", "/crises/X/fragments/cip", "/rapports", "/annuaire"):
            response = await http.get(path)
            assert response.status_code == 503
            assert "CRISIS_WEB_SECRET" in response.text
        assert (await http.get("/api/v1/crises")).status_code == 401


async def test_the_cip_announcement_steps_wait_for_the_order_on_the_board(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Steps due only once the préfet orders the CIP show that, not a far-future T0+ time."""
    crisis_id = _crisis(app, clock)
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    steps = await http.get(f"/crises/{crisis_id}/fragments/etapes")
    assert steps.status_code == 200
    assert steps.text.count("dès l&#39;ordre d&#39;activer la CIP") == 2  # médias, public

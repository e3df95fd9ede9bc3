"""« Rédiger / modifier » on the dashboard: the form, who may use it, what a refusal keeps,
escaping, and the four-eyes approval of the drafted message (real application, both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from markupsafe import escape

from crisis.accounts import WebRole
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import StepStatus
from playbooks.model import Section
from tests.integration.helpers import activate, journal, of_type
from tests.integration.test_pages_security import _csrf, _logged_in, _user, _web

STEP = "premier_message"  # flood, public: website, X, Facebook, app; approval required
FORM = {
    "subject": "Crue : point de situation",
    "short": "{{ prefecture }} : crue en cours, restez chez vous.",
    "voice": "Ici la {{ prefecture }}. Restez chez vous.",
    "intro": "Le COD est activé depuis {{ t0_local }}.",
    "rubrique_conseils_comportement": "Ne prenez pas votre voiture.\r\nRestez à l'étage.",
    "closing": "Prochain point à 4 heures.",
}


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the full web application, pages served (secret set)."""
    async with _web(app) as client:
        yield client


@pytest.fixture
def crisis_id(app: App, clock: FakeClock) -> str:
    """A flood declared 20 minutes ago: its public messages wait for approval."""
    _user(app, "cmartin", WebRole.CHARGE_COMMUNICATION, "Claire Martin")
    _user(app, "dircab", WebRole.DIRECTEUR_CABINET, "Paul Durand")
    _user(app, "prefete", WebRole.PREFET, "Préfète")
    _user(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    _user(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    return activate(app, clock.now() - timedelta(minutes=20)).crisis.id


def _url(crisis_id: str, step: str = STEP) -> str:
    return f"/crises/{crisis_id}/redaction/{step}"


def _drafts(app: App, crisis_id: str) -> int:
    return len(of_type(journal(app, crisis_id), "MessageDrafted"))


async def test_the_form_is_prefilled_with_the_current_texts_in_french(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """The chargé de communication finds the link on the approval card, then a form with
    French labels, the playbook's sources, the placeholders, the CSRF field and the button."""
    await _logged_in(http, "cmartin")
    board = await http.get(f"/crises/{crisis_id}")
    assert f'href="{_url(crisis_id)}"' in board.text and "Rédiger / modifier" in board.text
    assert "Approuver</button>" not in board.text  # drafting is not approving
    page = await http.get(_url(crisis_id))
    assert page.status_code == 200, page.text[:300]
    html = page.text
    for label in (
        "Objet",
        "Texte court (SMS, X, application) — 280 caractères au plus",
        "Message vocal",
        "Introduction",
        "Conclusion",
        *(s.heading for s in Section),
    ):
        assert f"{escape(label)}" in html, label
    template = app.orchestrator.library.templates["inondation_premier_message"]
    assert f">{escape(template.short)}</textarea>" in html
    assert f'value="{escape(template.subject)}"' in html
    assert "{{ t0_local }}" in html and "{{ prefecture }}" in html  # the placeholders' help
    assert 'name="csrf" value="' in html and "Enregistrer la rédaction</button>" in html
    assert "Texte actuel : modèle du playbook." in html


async def test_a_step_not_yet_due_has_its_link_in_the_steps(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Declared just now: the public message is planned, and may be written before it is due;
    pre-approved and internal messages have no link."""
    _user(app, "cmartin", WebRole.CHARGE_COMMUNICATION, "Claire Martin")
    crisis_id = activate(app, clock.now()).crisis.id
    await _logged_in(http, "cmartin")
    steps = (await http.get(f"/crises/{crisis_id}/fragments/etapes")).text
    assert f'href="{_url(crisis_id)}"' in steps
    assert f'href="{_url(crisis_id, "communique_presse")}"' in steps
    for other in ("annonce_cip_public", "alerte_astreinte"):
        assert _url(crisis_id, other) not in steps
    refused = await http.get(_url(crisis_id, "annonce_cip_public"))
    assert refused.status_code == 409
    assert "modèle pré-approuvé par le playbook" in refused.text
    assert (await http.get(_url(crisis_id, "inconnue"))).status_code == 404


async def test_who_may_not_draft_is_refused(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """Anonymous: to the login page; no or a wrong CSRF token: 403; observateur and agent: 403
    on the form and on the POST, and no link; nothing journaled."""
    assert (await http.get(_url(crisis_id))).status_code == 303
    csrf = _csrf((await http.get("/connexion")).text)
    anonymous = await http.post(_url(crisis_id), data={**FORM, "csrf": csrf})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion"
    csrf = await _logged_in(http, "cmartin")
    for token in (None, "faux-jeton"):
        data = FORM if token is None else {**FORM, "csrf": token}
        response = await http.post(_url(crisis_id), data=data)
        assert response.status_code == 403
        assert "jeton de formulaire absent ou invalide" in response.text
    for login, role in (("audit", "observateur / auditeur"), ("agent1", "agent")):
        http.cookies.clear()
        csrf = await _logged_in(http, login)
        assert "Rédiger / modifier" not in (await http.get(f"/crises/{crisis_id}")).text
        for response in (
            await http.get(_url(crisis_id)),
            await http.post(_url(crisis_id), data={**FORM, "csrf": csrf}),
        ):
            assert response.status_code == 403
            assert f"le rôle {role} ne permet pas de rédiger un message" in response.text
    assert _drafts(app, crisis_id) == 0


async def test_a_refused_draft_comes_back_with_the_reason_and_the_text_kept(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """A text that does not compose: 422, the engine's French reason, every field as typed
    (escaped), nothing journaled."""
    csrf = await _logged_in(http, "cmartin")
    broken = {**FORM, "short": "<b>{{ prefecture </b>", "csrf": csrf}
    response = await http.post(_url(crisis_id), data=broken)
    assert response.status_code == 422
    assert "texte court : texte impossible à composer" in response.text
    assert ">&lt;b&gt;{{ prefecture &lt;/b&gt;</textarea>" in response.text
    assert f">{escape(FORM['voice'])}</textarea>" in response.text
    assert ">Ne prenez pas votre voiture.\nRestez à l&#39;étage.</textarea>" in response.text
    assert _drafts(app, crisis_id) == 0


async def test_a_draft_is_previewed_escaped_then_approved_by_someone_else(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """Saved: back to the board with the French confirmation, the card names the drafter and
    previews the new text as text; the directeur de cabinet approves and it is queued."""
    csrf = await _logged_in(http, "cmartin")
    script = "<script>alert(1)</script>"
    form = {**FORM, "short": f"{script} {{{{ prefecture }}}}", "csrf": csrf}
    saved = await http.post(_url(crisis_id), data=form)
    assert saved.status_code == 303, saved.text[:500]
    board = await http.get(saved.headers["location"])
    assert "Rédaction enregistrée : elle attend la validation d&#39;une autre personne." in (
        board.text
    )
    assert "Rédigé par Claire Martin (cmartin)" in board.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board.text
    assert "<script>alert" not in board.text
    again = await http.get(_url(crisis_id))
    assert "Rédaction actuelle : Claire Martin (cmartin)." in again.text
    assert "<script>alert" not in again.text
    [entry] = of_type(journal(app, crisis_id), "MessageDrafted")
    assert entry.actor.name == "Claire Martin (cmartin)" and entry.actor.interface.value == "web"

    http.cookies.clear()
    csrf = await _logged_in(http, "dircab")
    done = await http.post(f"/crises/{crisis_id}/validations/{STEP}", data={"csrf": csrf})
    assert done.status_code == 303
    with app.store.transaction() as tx:
        step = next(s for s in tx.steps(crisis_id) if s.step_id == STEP)
        x = tx.outbox_by_key(f"{crisis_id}:{STEP}:public-x:x:v1")
    assert step.status == StepStatus.DONE and step.approved_by == "Paul Durand (dircab)"
    assert x is not None
    assert x.message.body == f"{script} {app.orchestrator.config.prefecture}"
    assert _url(crisis_id) not in (await http.get(f"/crises/{crisis_id}")).text


async def test_who_drafted_cannot_approve_from_the_board(
    app: App, http: httpx.AsyncClient, crisis_id: str
) -> None:
    """The directeur de cabinet may draft, but then not approve his own text (409, « double
    regard »); the préfète may."""
    csrf = await _logged_in(http, "dircab")
    saved = await http.post(_url(crisis_id), data={**FORM, "csrf": csrf})
    assert saved.status_code == 303
    refused = await http.post(f"/crises/{crisis_id}/validations/{STEP}", data={"csrf": csrf})
    assert refused.status_code == 409 and "double regard" in refused.text
    http.cookies.clear()
    csrf = await _logged_in(http, "prefete")
    done = await http.post(f"/crises/{crisis_id}/validations/{STEP}", data={"csrf": csrf})
    assert done.status_code == 303
    late = await http.post(_url(crisis_id), data={**FORM, "csrf": csrf})
    assert late.status_code == 422 and "déjà parti" in late.text
    assert f">{escape(FORM['voice'])}</textarea>" in late.text  # still nothing lost

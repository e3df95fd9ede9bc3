"""The JSON API over the real orchestrator: token auth, roles, idempotent activation, notes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from crisis.accounts import WebRole, WebUser, hash_password, new_api_token
from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Interface, NoteAdded
from crisis.web import create_app
from crisis.web.api import OPENAPI_PATH, mount_api
from tests.integration.helpers import COMMUNES, journal, of_type


def _account(app: App, login: str, role: WebRole, name: str) -> str:
    """Create an account and an API token for it; returns the token."""
    now = app.clock.now()
    token = new_api_token()
    with app.store.transaction() as tx:
        tx.add_user(
            WebUser(
                login=login,
                display_name=name,
                role=role,
                password_hash=hash_password("phrase de passe de test"),
                created_at=now,
                updated_at=now,
            )
        )
        tx.add_token(login, token.hash, token.prefix, now)
    return token.token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def http(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app made of the API alone."""
    web = FastAPI(openapi_url=None)
    mount_api(web, app.orchestrator, app.store, app.clock)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


def _activation(clock: FakeClock, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": "inondation",
        "t0": (clock.now() - timedelta(minutes=2)).isoformat(),
        "synergi_ref": "SYN-42-0042",
        "communes": list(COMMUNES),
        "exercise": False,
    }
    body.update(changes)
    return body


async def _record(
    http: httpx.AsyncClient, token: str, body: dict[str, object], key: str = "sdis42-0001"
) -> httpx.Response:
    return await http.post(
        "/api/v1/crises", json=body, headers={**_bearer(token), "Idempotency-Key": key}
    )


async def test_anonymous_and_unknown_tokens_get_401_in_french(
    app: App, http: httpx.AsyncClient
) -> None:
    """No header, a wrong scheme or an unknown token: 401 with a French reason."""
    for headers in ({}, {"Authorization": "Basic YTpi"}, _bearer("pas-un-jeton")):
        response = await http.get("/api/v1/crises", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "jeton" in response.json()["detail"]


async def test_an_observateur_reads_but_may_not_post_a_note(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Read only: 403 in French on a note, and nothing journaled."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    observer = _account(app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    crisis_id = (await _record(http, agent, _activation(clock))).json()["id"]
    assert (await http.get(f"/api/v1/crises/{crisis_id}", headers=_bearer(observer))).is_success
    response = await http.post(
        f"/api/v1/crises/{crisis_id}/notes", json={"text": "vu"}, headers=_bearer(observer)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "le rôle observateur / auditeur ne permet pas de écrire dans la main courante"
    )
    assert of_type(journal(app, crisis_id), "NoteAdded") == []
    declared = await _record(http, observer, _activation(clock), key="autre-cle")
    assert declared.status_code == 403


async def test_an_agent_records_an_activation_once_per_key(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """201 on creation, 200 with the same crisis for the same key and body, one crisis only."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    body = _activation(clock)
    first = await _record(http, agent, body)
    assert first.status_code == 201, first.text
    crisis = first.json()
    assert crisis["kind"] == "inondation" and crisis["mode"] == "reel"
    assert crisis["communes_count"] == 3 and not crisis["closed"]
    assert crisis["elapsed_minutes"] == 2.0
    entries = journal(app, crisis["id"])
    assert entries[0].fact.type == "CodActivated"
    assert entries[0].actor.name == "Agent d'astreinte (agent1)"
    assert entries[0].actor.interface == Interface.API
    again = await _record(http, agent, body)
    assert again.status_code == 200
    assert again.json()["id"] == crisis["id"]
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == [crisis["id"]]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"communes": ["42218"]}, "communes concernées"),
        ({"synergi_ref": "SYN-42-9999"}, "référence SYNERGI"),
        ({"exercise": True}, "exercice ou événement réel"),
    ],
)
async def test_the_same_key_with_another_body_is_a_409_conflict(
    app: App, http: httpx.AsyncClient, clock: FakeClock, change: dict[str, object], named: str
) -> None:
    """A repeated key never merges nor creates: 409 naming what differs."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    assert (await _record(http, agent, _activation(clock))).status_code == 201
    response = await _record(http, agent, _activation(clock, **change))
    assert response.status_code == 409
    assert named in response.json()["detail"]
    with app.store.transaction() as tx:
        assert len(tx.crisis_ids(open_only=False)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"t0": "2026-11-23T01:08:00"}, "décalage horaire"),
        ({"communes": []}, "au moins une commune"),
        ({"communes": ["Roanne"]}, "codes INSEE invalides"),
        ({"synergi_ref": "  "}, "référence SYNERGI est obligatoire"),
    ],
)
async def test_bad_input_is_a_422_in_french(
    app: App, http: httpx.AsyncClient, clock: FakeClock, change: dict[str, object], message: str
) -> None:
    """Validators speak French; nothing is recorded."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    response = await _record(http, agent, _activation(clock, **change))
    assert response.status_code == 422
    assert message in json.dumps(response.json(), ensure_ascii=False)
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []


async def test_an_activation_the_orchestrator_refuses_is_a_422_with_its_reason(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Unknown INSEE codes, T0 in the future: the orchestrator's French reason comes back."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    unknown = await _record(http, agent, _activation(clock, communes=["99999"]))
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "codes INSEE inconnus de l'annuaire : 99999"
    future = (clock.now() + timedelta(hours=1)).isoformat()
    ahead = await _record(http, agent, _activation(clock, t0=future), key="k2")
    assert ahead.status_code == 422 and "futur" in ahead.json()["detail"]


async def test_a_missing_idempotency_key_is_a_422(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The key is required: without it a retry could record a second crisis."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    response = await http.post("/api/v1/crises", json=_activation(clock), headers=_bearer(agent))
    assert response.status_code == 422
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []


async def test_get_shows_steps_verdicts_with_evidence_and_reach(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The crisis's state: steps with their due time, one verdict per engagement, reach counts."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    crisis_id = (await _record(http, agent, _activation(clock))).json()["id"]
    await app.dispatcher.drain()
    response = await http.get(f"/api/v1/crises/{crisis_id}", headers=_bearer(agent))
    assert response.status_code == 200
    state = response.json()
    engagements = [v["engagement"] for v in state["verdicts"]]
    assert engagements[:3] == ["47", "47.1", "47.2"] and "48.1" in engagements
    assert all(v["status_label"] for v in state["verdicts"])
    assert any(v["evidence"] for v in state["verdicts"])
    assert sum(state["reach"].values()) == 3
    assert state["steps"] and all({"id", "status", "due"} <= set(s) for s in state["steps"])
    listed = await http.get("/api/v1/crises", headers=_bearer(agent))
    assert [c["id"] for c in listed.json()] == [crisis_id]
    missing = await http.get("/api/v1/crises/20260101-0000-inconnu", headers=_bearer(agent))
    assert missing.status_code == 404 and "aucun événement" in missing.json()["detail"]


async def test_a_note_with_a_script_tag_is_stored_and_returned_as_text(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The API stores and returns the characters as typed, in a JSON string, journaled by name."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    crisis_id = (await _record(http, agent, _activation(clock))).json()["id"]
    text = "<script>alert('x')</script> digue de la Loire surveillée"
    response = await http.post(
        f"/api/v1/crises/{crisis_id}/notes", json={"text": text}, headers=_bearer(agent)
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json()["text"] == text
    assert response.json()["author"] == "Agent d'astreinte (agent1)"
    [entry] = of_type(journal(app, crisis_id), "NoteAdded")
    assert isinstance(entry.fact, NoteAdded) and entry.fact.text == text
    assert entry.actor.interface == Interface.API and response.json()["seq"] == entry.seq
    empty = await http.post(
        f"/api/v1/crises/{crisis_id}/notes", json={"text": "   "}, headers=_bearer(agent)
    )
    assert empty.status_code == 422
    too_long = await http.post(
        f"/api/v1/crises/{crisis_id}/notes", json={"text": "x" * 2001}, headers=_bearer(agent)
    )
    assert too_long.status_code == 422
    nowhere = await http.post(
        "/api/v1/crises/inconnu/notes", json={"text": "vu"}, headers=_bearer(agent)
    )
    assert nowhere.status_code == 404
    nul = await http.post(
        f"/api/v1/crises/{crisis_id}/notes", json={"text": "a\u0000b"}, headers=_bearer(agent)
    )
    assert nul.status_code == 422 and "caractères de contrôle" in nul.text
    bad_id = await http.get("/api/v1/crises/a%00b", headers=_bearer(agent))
    assert bad_id.status_code == 422


async def test_a_revoked_token_or_a_disabled_account_gets_401(
    app: App, http: httpx.AsyncClient
) -> None:
    """Revocation and disabling take effect on the next request."""
    token = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    assert (await http.get("/api/v1/crises", headers=_bearer(token))).status_code == 200
    with app.store.transaction() as tx:
        tx.update_user("agent1", app.clock.now(), disabled=True)
    assert (await http.get("/api/v1/crises", headers=_bearer(token))).status_code == 401
    with app.store.transaction() as tx:
        tx.update_user("agent1", app.clock.now(), disabled=False)
        tx.revoke_tokens(token[:8], app.clock.now())
    response = await http.get("/api/v1/crises", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "jeton d'API inconnu ou révoqué, ou compte désactivé"


async def test_the_openapi_schema_documents_the_api_only(http: httpx.AsyncClient) -> None:
    """/api/openapi.json lists the API's paths, its bearer scheme and its French summaries."""
    schema = (await http.get(OPENAPI_PATH)).json()
    assert set(schema["paths"]) == {
        "/api/v1/crises",
        "/api/v1/crises/{crisis_id}",
        "/api/v1/crises/{crisis_id}/notes",
    }
    assert schema["components"]["securitySchemes"]["jeton"]["scheme"] == "bearer"
    post = schema["paths"]["/api/v1/crises"]["post"]
    assert {"200", "201", "401", "403", "409", "422"} <= set(post["responses"])
    assert post["summary"] == "Enregistrer l'activation du COD (temps 0)"


async def test_the_served_app_carries_the_api_beside_the_webhooks(app: App):
    """`crisis run`'s web application (create_app) serves the API and its OpenAPI schema; the
    Twilio webhooks stay outside it and need no token."""
    web = create_app(app, twilio_auth_token="jeton", public_base_url="https://crise.example.fr")
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        schema = (await client.get(OPENAPI_PATH)).json()
        assert "/api/v1/crises" in schema["paths"]
        assert not any(p.startswith("/webhooks") for p in schema["paths"])
        assert (await client.get("/api/v1/crises")).status_code == 401
        token = _account(app, "claire.martin", WebRole.AGENT, "Claire Martin")
        listed = await client.get("/api/v1/crises", headers=_bearer(token))
        assert listed.status_code == 200
        unsigned = await client.post("/webhooks/twilio/sms", data={"From": "x", "Body": "1"})
        assert unsigned.status_code == 403  # a webhook is checked by its signature, not a token


async def test_invalid_requests_are_answered_in_french_without_a_server_error(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """A NaN, a missing field, a 5,000-character SYNERGI reference: 422 in French naming the
    field, never a 500 nor an English message, and nothing recorded."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    headers = {**_bearer(agent), "Idempotency-Key": "k1", "Content-Type": "application/json"}
    body = _activation(clock)
    nan = json.dumps(body).replace('"exercise": false', '"exercise": NaN')
    cases = [
        (nan.encode(), "corps › exercise : vrai ou faux attendu"),
        (json.dumps({**body, "t0": float("inf")}).encode(), "corps › t0 : date et heure"),
        (json.dumps({k: v for k, v in body.items() if k != "kind"}).encode(), "champ obligatoire"),
        (json.dumps({**body, "synergi_ref": "A" * 5000}).encode(), "40 caractères au plus"),
        (json.dumps({**body, "synergi_ref": "42 2026"}).encode(), "référence SYNERGI"),
        (b"{", "JSON illisible"),
    ]
    for content, french in cases:
        response = await http.post("/api/v1/crises", content=content, headers=headers)
        assert response.status_code == 422, content[:80]
        text = " ; ".join(e["msg"] for e in response.json()["detail"])
        assert french in text
        for english in ("Field required", "should", "valid", "Value error"):
            assert english not in text
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []


async def test_a_note_with_a_phone_number_is_a_422_and_is_not_journaled(
    app: App, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The API refuses a note giving a number or an address, as the CLI does (same engine)."""
    agent = _account(app, "agent1", WebRole.AGENT, "Agent d'astreinte")
    crisis_id = (await _record(http, agent, _activation(clock))).json()["id"]
    before = len(journal(app, crisis_id))
    for text in ("maire joint au 06 39 98 00 01", "copie à dircab@loire.example"):
        response = await http.post(
            f"/api/v1/crises/{crisis_id}/notes", json={"text": text}, headers=_bearer(agent)
        )
        assert response.status_code == 422
        assert "note : le texte contient" in response.json()["detail"]
    assert len(journal(app, crisis_id)) == before


async def test_same_body_under_another_key_returns_the_event_recorded(
    app: App, http: httpx.AsyncClient
) -> None:
    """Two systems (or a client that makes a new key) sending one activation: one event."""
    token = _account(app, "sdis", WebRole.AGENT, "SDIS 42")
    body = _activation(app.clock)  # type: ignore[arg-type]
    first = await _record(http, token, body, key="sdis42-0001")
    again = await _record(http, token, body, key="portail-ministere-77")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == [first.json()["id"]]


async def test_same_reference_with_another_kind_is_a_409_in_french(
    app: App, http: httpx.AsyncClient
) -> None:
    """The same SYNERGI reference with another kind is refused with the event it names."""
    token = _account(app, "sdis", WebRole.AGENT, "SDIS 42")
    first = await _record(http, token, _activation(app.clock), key="a")  # type: ignore[arg-type]
    other = await _record(http, token, _activation(app.clock, kind="tempete"), key="b")  # type: ignore[arg-type]
    assert other.status_code == 409
    assert first.json()["id"] in other.json()["detail"]
    assert "préfet" in other.json()["detail"]


async def test_directeur_de_cabinet_token_confirms_another_event(
    app: App, http: httpx.AsyncClient
) -> None:
    """With the préfet's delegation and a reason, another event under the reference is made."""
    agent = _account(app, "sdis", WebRole.AGENT, "SDIS 42")
    dircab = _account(app, "dircab", WebRole.DIRECTEUR_CABINET, "Paul Durand")
    await _record(http, agent, _activation(app.clock), key="a")  # type: ignore[arg-type]
    confirmation = {"other_event": True, "reason": "second événement distinct"}
    body = _activation(app.clock, communes=["42218"], confirmation=confirmation)  # type: ignore[arg-type]
    refused = await _record(http, agent, body, key="b")
    assert refused.status_code == 422 and "directeur de cabinet" in refused.json()["detail"]
    made = await _record(http, dircab, body, key="c")
    assert made.status_code == 201, made.text
    assert of_type(journal(app, made.json()["id"]), "ActivationConfirmed")


@pytest.mark.parametrize(
    "t0", ["0001-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:00", "2006-11-23T02:10:00+01:00"]
)
async def test_absurd_t0_is_a_422_in_french(app: App, http: httpx.AsyncClient, t0: str) -> None:
    """Year 1, 1970 or twenty years ago: refused with the reason, nothing recorded."""
    token = _account(app, "sdis", WebRole.AGENT, "SDIS 42")
    response = await _record(http, token, _activation(app.clock, t0=t0))  # type: ignore[arg-type]
    assert response.status_code == 422
    assert "30 jours" in json.dumps(response.json(), ensure_ascii=False)
    with app.store.transaction() as tx:
        assert tx.crisis_ids(open_only=False) == []

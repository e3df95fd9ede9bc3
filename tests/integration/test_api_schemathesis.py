"""Schemathesis against the API's own OpenAPI schema, as a préfet: no request ends in a 5xx."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from crisis.accounts import WebRole, WebUser, hash_password, new_api_token
from crisis.bootstrap import App
from crisis.web.api import OPENAPI_PATH, mount_api
from playbooks.model import EventKind
from tests.integration.helpers import COMMUNES, activate

MAX_EXAMPLES = 25
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


ENGLISH = (
    "Field required",
    "should be",
    "should have",
    "Value error",
    "Input should",
    "a valid",
    "Not Found",
    "Method Not Allowed",
    "Unprocessable",
    "JSON decode",
)


def french_refusal(ctx: Any, response: Any, case: Case) -> bool | None:
    """A 4xx says why in French: no FastAPI or pydantic English message, no echoed input."""
    if not 400 <= response.status_code < 500:
        return None
    detail = response.json().get("detail")
    messages = [e["msg"] for e in detail] if isinstance(detail, list) else [str(detail)]
    for message in messages:
        assert not any(word in message for word in ENGLISH), f"message anglais : {message}"
    if isinstance(detail, list):
        assert all("input" not in e for e in detail), "la valeur envoyée est renvoyée"
    return None


CHECKS = [not_a_server_error, french_refusal]


def _prefet_token(app: App) -> str:
    now = app.clock.now()
    token = new_api_token()
    with app.store.transaction() as tx:
        tx.add_user(
            WebUser(
                login="prefet",
                display_name="Préfète de la Loire",
                role=WebRole.PREFET,
                password_hash=hash_password("phrase de passe de test"),
                created_at=now,
                updated_at=now,
            )
        )
        tx.add_token("prefet", token.hash, token.prefix, now)
    return token.token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_built_from_the_schema_gets_a_server_error(
    app: App, mode: GenerationMode
) -> None:
    """Every operation, fed valid and invalid input by schemathesis, answers below 500."""
    crisis_id = activate(app, app.clock.now()).crisis.id  # besides random ids, a real one
    web = FastAPI(openapi_url=None)
    mount_api(web, app.orchestrator, app.store, app.clock)
    schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, web)
    headers = {"Authorization": f"Bearer {_prefet_token(app)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:
        strategies = [operation.as_strategy(generation_mode=mode)]
        if "{crisis_id}" in operation.path:
            strategies.append(
                operation.as_strategy(
                    generation_mode=mode, path_parameters={"crisis_id": crisis_id}
                )
            )
        for strategy in strategies:

            @given(case=strategy)
            @SETTINGS
            def run(case: Case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            run()


def test_plausible_activations_never_get_a_server_error(app: App) -> None:
    """Activations with known communes, any kind, T0 around now, keys reused or not: < 500."""
    web = FastAPI(openapi_url=None)
    mount_api(web, app.orchestrator, app.store, app.clock)
    operation = schemathesis.openapi.from_asgi(OPENAPI_PATH, web)["/api/v1/crises"]["POST"]
    token = _prefet_token(app)
    now = app.clock.now()
    bodies = st.fixed_dictionaries(
        {
            "kind": st.sampled_from([k.value for k in EventKind]),
            "t0": st.integers(-180, 10).map(lambda m: (now + timedelta(minutes=m)).isoformat()),
            "synergi_ref": st.one_of(st.just("SYN-42-0001"), st.text(max_size=120)),
            "communes": st.lists(st.sampled_from([*COMMUNES, "2A004", "99999"]), max_size=4),
            "exercise": st.booleans(),
        }
    )
    statuses: set[int] = set()

    @given(body=bodies, key=st.sampled_from(["cle-a", "cle-b", "cle-c"]))
    @settings(SETTINGS, derandomize=True)  # the final assertion must not depend on the draw
    def run(body: dict[str, Any], key: str) -> None:
        case = operation.Case(
            body=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            media_type="application/json",
        )
        response = case.call_and_validate(checks=CHECKS)
        statuses.add(response.status_code)

    run()
    assert 201 in statuses and 422 in statuses  # the generator did reach the orchestrator


def test_boundary_bodies_get_a_french_4xx(app: App) -> None:
    """NaN and infinities, a 5,000-character SYNERGI reference, a 5,000-character note, empty
    and missing fields: each answered 422 in French by both POST operations, never a 5xx."""
    crisis_id = activate(app, app.clock.now()).crisis.id
    web = FastAPI(openapi_url=None)
    mount_api(web, app.orchestrator, app.store, app.clock)
    schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, web)
    token = _prefet_token(app)
    valid = {
        "kind": "inondation",
        "t0": app.clock.now().isoformat(),
        "synergi_ref": "42-2026-0113",
        "communes": list(COMMUNES),
        "exercise": False,
    }
    activations = [
        {**valid, "synergi_ref": "A" * 5000},
        {**valid, "synergi_ref": "42 2026\n0113"},
        {k: v for k, v in valid.items() if k != "t0"},
        {},
    ]
    notes = [{"text": "x" * 5000}, {"text": ""}, {}]
    operations = [
        (schema["/api/v1/crises"]["POST"], activations, {}),
        (schema["/api/v1/crises/{crisis_id}/notes"]["POST"], notes, {"crisis_id": crisis_id}),
    ]
    for operation, bodies, path in operations:
        for body in bodies:
            case = operation.Case(
                body=body,
                path_parameters=path,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "bornes"},
                media_type="application/json",
            )
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code == 422, (body, response.text)
    # NaN and infinities are not JSON: the HTTP client schemathesis uses will not send them,
    # Python's json module (which FastAPI reads bodies with) accepts them
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": "bornes",
        "Content-Type": "application/json",
    }

    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(path, content=json.dumps(body), headers=headers)

    for path, body in [
        ("/api/v1/crises", {**valid, "exercise": float("nan")}),
        ("/api/v1/crises", {**valid, "t0": float("inf")}),
        ("/api/v1/crises", {**valid, "communes": [float("-inf")]}),
        (f"/api/v1/crises/{crisis_id}/notes", {"text": float("nan")}),
    ]:
        raw = asyncio.run(post(path, body))
        assert raw.status_code == 422, (body, raw.text)
        french_refusal(None, raw, operation.Case())

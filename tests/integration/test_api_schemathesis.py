"""Schemathesis against the API's own OpenAPI schema, as a préfet: no request ends in a 5xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

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
        response = case.call_and_validate(checks=[not_a_server_error])
        statuses.add(response.status_code)

    run()
    assert 201 in statuses and 422 in statuses  # the generator did reach the orchestrator

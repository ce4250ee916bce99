"""The OpenAPI document is built from the routes and stays true: checked by schemathesis."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from aiohttp.web import RouteDef
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.http import api as conversations_api
from bot.http import journal as journal_api
from bot.http import scheduler as scheduler_api
from bot.http import staffing_api
from bot.http.integration.api import api
from bot.http.integration.openapi import (
    Api,
    Operation,
    build_document,
    declared,
    registered,
    undeclared,
)
from bot.http.validation import unsupported_keywords
from tests.harness import make_config
from tests.integration.conftest import FRIDAY_MORNING
from tests.integration.live import LiveServer

# Per operation, on SQLite only: both backends doubled the time for no new finding
# (the PostgreSQL paths are covered by the other tests in this package).
EXAMPLES = 10  # per operation and backend: a few seconds in all


# Every table of /api/v1 routes: each route declares its operation beside its view.
TABLES: dict[str, Api] = {
    "integration": api,
    "conversations": conversations_api.api,
    "staffing": staffing_api.api,
    "journal": journal_api.api,
    "track-and-trace": scheduler_api.api,
}


def _app(keys: dict[str, bytes], tmp: str) -> web.Application:
    config = make_config(f"sqlite+aiosqlite:///{tmp}/x.db", keys, port=1, sim_url="http://x")
    return create_app(config)


def _document(keys: dict[str, bytes], tmp: str) -> tuple[Any, dict[str, Any]]:
    app = _app(keys, tmp)
    return app, build_document(app, declared(app), server="http://127.0.0.1:1")


def _contract(method: str, path: str) -> Operation:
    """The declared operation at (method, path), whichever table holds it."""
    found = [
        t.operations[(method, path)] for t in TABLES.values() if (method, path) in t.operations
    ]
    assert len(found) == 1, (method, path)
    return found[0]


def test_document_matches_the_routes(keys: dict[str, bytes], tmp_path: Any) -> None:
    """Every declared contract has a live route and appears in the document; every route of ours is declared; request schemas use only keywords the server enforces."""
    app, doc = _document(keys, str(tmp_path))
    routes = set(registered(app))
    contracts = declared(app)
    assert set(contracts) <= routes, set(contracts) - routes
    for table in TABLES.values():
        assert set(table.operations) <= set(contracts)
        ours = {(r.method, r.path) for r in table.routes if isinstance(r, RouteDef)}
        assert len(ours) == len(table.operations)  # every route of the table is declared
    in_doc = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert in_doc == set(contracts)
    for method, path in contracts:
        op = doc["paths"][path][method.lower()]
        if method == "POST" and op["security"] == [{"integrationKey": []}]:
            assert any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"])
        assert not unsupported_keywords(contracts[(method, path)].body or {})
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc)  # a document schemathesis accepts


def test_every_api_v1_route_has_a_contract(keys: dict[str, bytes], tmp_path: Any) -> None:
    """A route under /api/v1 registered without a declared contract fails here: declare it beside its view with @api.operation."""
    app, doc = _document(keys, str(tmp_path))
    assert undeclared(app, declared(app)) == []
    assert "x-undeclared-routes" not in doc
    ours = {(m, p) for m, p in registered(app) if p.startswith("/api/v1/")}
    in_doc = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert ours <= in_doc


def test_every_post_documents_its_idempotency_key(keys: dict[str, bytes], tmp_path: Any) -> None:
    """Every POST under /api/v1 declares Idempotency-Key: required for integration keys, optional (and honoured) for staff tokens; every staff route declares its token and the errors every view can answer."""
    _, doc = _document(keys, str(tmp_path))
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            staff = op["security"] == [{"staffToken": []}]
            if staff:
                assert {"400", "401", "503"} <= set(op["responses"]), (method, path)
                if "{" in path:
                    assert "404" in op["responses"], (method, path)
            if method != "post" or not path.startswith("/api/v1/"):
                continue
            if op["security"] == [{"operatorToken": []}]:
                # The operator's creations are keyed by what they create: a retry is 409.
                assert "409" in op["responses"], (method, path)
                continue
            header = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
            assert len(header) == 1, (method, path)
            assert header[0]["required"] is not staff, (method, path)
            assert "422" in op["responses"], (method, path)


@pytest.fixture
def live(tmp_path: Any, keys: dict[str, bytes]) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path}/fuzz.db"
    server = LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start()
    try:
        yield server
    finally:
        server.stop()


def _real_ids(server: LiveServer) -> dict[str, list[str]]:
    w = server.world
    return {
        "administration_id": [w.admin_children, w.admin_jobs],
        "team_id": [w.team_children, w.team_jobs],
        "owner_id": [w.mette, w.lars],
        "staff_id": [w.mette, w.sofie, w.hanne],
        "substitute_id": [w.sofie, w.lars],
        "person_id": list(w.persons.values()),
        "case_id": list(w.cases.values()),
    }


def _ids_by_kind(server: LiveServer) -> dict[str, list[str]]:
    w = server.world
    return {
        "administration": [w.admin_children, w.admin_jobs],
        "team": [w.team_children, w.team_jobs],
        "staff": [w.mette, w.sofie, w.hanne],
        "person": list(w.persons.values()),
        "case": list(w.cases.values()),
        **server.extra_ids,
    }


def _path_ids(server: LiveServer, method: str, path: str) -> dict[str, list[str]]:
    """Real ids for each path parameter of the operation, by the kind it names."""
    op = _contract(method, path)
    by_kind = _ids_by_kind(server)
    return {name: by_kind.get(op.resource_of(name), []) for name in op.path_params}


def _fuzz(
    operation: Any,
    live: LiveServer,
    session: requests.Session,
    checks: list[Any],
    outcomes: dict[str, set[int]],
) -> None:
    """Run generated cases against one operation, sometimes with ids that exist."""
    staff = operation.definition.raw.get("security") == [{"staffToken": []}]
    path_ids = _path_ids(live, operation.method.upper(), operation.path)
    body_ids = _real_ids(live)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), real=st.booleans(), seed=st.integers(0, 2**16))
    def run(case: Any, real: bool, seed: int) -> None:
        rng = random.Random(seed)
        # A caseworker and their team lead (who may see and change more).
        token = rng.choice([live.world.tokens["mette"], live.world.tokens["hanne"]])
        if not staff:
            token = live.key
        if real and case.path_parameters:
            for name, choices in path_ids.items():
                if choices:
                    case.path_parameters[name] = rng.choice(choices)
        if real and isinstance(case.body, dict):
            for name, choices in body_ids.items():
                if name in case.body:
                    case.body[name] = rng.choice(choices)
        resp = case.call_and_validate(
            base_url=live.base_url,
            session=session,
            headers={"Authorization": f"Bearer {token}"},
            checks=checks,
        )
        outcomes.setdefault(operation.label, set()).add(resp.status_code)

    run()


def test_schemathesis_finds_no_5xx_and_answers_match_the_schema(live: LiveServer) -> None:
    """Generated requests to every operation never get a 5xx, and every answer (status, content type, body) is one the document declares."""
    doc = requests.get(f"{live.base_url}/api/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(doc)
    checks = [
        schemathesis.checks.not_a_server_error,
        schemathesis.checks.status_code_conformance,
        schemathesis.checks.content_type_conformance,
        schemathesis.checks.response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == sum(len(v) for v in doc["paths"].values())
    outcomes: dict[str, set[int]] = {}
    with requests.Session() as session:
        for operation in operations:
            _fuzz(operation, live, session, checks, outcomes)
    succeeded = [label for label, statuses in outcomes.items() if min(statuses) < 300]
    assert len(succeeded) >= len(operations) // 2, outcomes  # deep enough, not just 404s
    staff_ops = [
        f"{m.upper()} {p}"
        for p, ops in doc["paths"].items()
        for m, op in ops.items()
        if op["security"] == [{"staffToken": []}]
    ]
    assert len(staff_ops) >= 40 and all(label in outcomes for label in staff_ops)


def test_a_route_open_to_keys_and_caseworkers_documents_both(
    keys: dict[str, bytes], tmp_path: Any
) -> None:
    """A route that takes an integration key or a staff token lists both schemes, the key's scope per method, and 403 among its errors."""
    _, doc = _document(keys, str(tmp_path))
    ops = doc["paths"]["/api/v1/case-types/{code}/template"]
    assert {m: op["x-scope"] for m, op in ops.items()} == {
        "get": "cases:read",
        "put": "cases:write",
    }
    for op in ops.values():
        assert op["security"] == [{"integrationKey": []}, {"staffToken": []}]
        assert "403" in op["responses"]


def test_an_integration_route_must_name_its_scope() -> None:
    """Declaring a route open to integration keys without a scope fails when the module loads, not at the first request."""
    with pytest.raises(ValueError, match="scope"):
        Api().operation(
            "GET",
            "/api/v1/x",
            summary="x",
            tag="x",
            security="either",
            responses={200: None},
        )

"""The OpenAPI document is built from the routes and stays true: checked by schemathesis."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp.web import RouteDef
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.integration.api import api
from bot.integration.openapi import build_document, registered
from bot.integration.validation import unsupported_keywords
from tests.harness import make_config
from tests.integration.conftest import FRIDAY_MORNING
from tests.integration.live import LiveServer

# Per operation, on SQLite only: both backends doubled the time for no new finding
# (the PostgreSQL paths are covered by the other tests in this package).
EXAMPLES = 10  # per operation and backend: a few seconds in all


def _document(keys: dict[str, bytes], tmp: str) -> tuple[Any, dict[str, Any]]:
    config = make_config(f"sqlite+aiosqlite:///{tmp}/x.db", keys, port=1, sim_url="http://x")
    app = create_app(config)
    return app, build_document(app, api.operations, server="http://127.0.0.1:1")


def test_document_matches_the_routes(keys: dict[str, bytes], tmp_path: Any) -> None:
    """Every declared contract has a live route and appears in the document; every route of ours is declared; request schemas use only keywords the server enforces."""
    app, doc = _document(keys, str(tmp_path))
    routes = set(registered(app))
    declared = set(api.operations)
    assert declared <= routes, declared - routes
    ours = {(r.method, r.path) for r in api.routes if isinstance(r, RouteDef)}
    assert ours <= declared
    in_doc = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert in_doc == declared
    for method, path in declared:
        op = doc["paths"][path][method.lower()]
        if method == "POST" and op["security"] == [{"integrationKey": []}]:
            assert any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"])
        assert not unsupported_keywords(api.operations[(method, path)].body or {})
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc)  # a document schemathesis accepts


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
        "person_id": list(w.persons.values()),
        "case_id": list(w.cases.values()),
    }


def _path_ids(server: LiveServer, path: str) -> list[str]:
    ids = _real_ids(server)
    kind = path.split("/")[3]
    return {
        "administrations": ids["administration_id"],
        "teams": ids["team_id"],
        "staff": ids["owner_id"],
        "persons": ids["person_id"],
        "cases": ids["case_id"],
    }.get(kind, [])


def _fuzz(
    operation: Any,
    live: LiveServer,
    session: requests.Session,
    checks: list[Any],
    outcomes: dict[str, set[int]],
) -> None:
    """Run generated cases against one operation, sometimes with ids that exist."""
    staff = operation.path.startswith("/api/v1/conversations")
    token = live.world.tokens["mette"] if staff else live.key
    path_ids = _path_ids(live, operation.path)
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
        if real and path_ids and case.path_parameters:
            case.path_parameters["id"] = rng.choice(path_ids)
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

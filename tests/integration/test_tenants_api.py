"""Creating a municipality through the API: the operator's token only, clear refusals, 409,
and an Idempotency-Key honoured as for a caseworker's POSTs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.base.config import ConfigError
from bot.domain.integration import idempotency
from bot.domain.integration.credentials import SCOPES, issue_key
from bot.store.schema.core import administrations, teams, tenants
from bot.store.schema.integration import operator_idempotency_keys
from tests.harness import Stack, make_config, start_stack
from tests.integration.conftest import FRIDAY_MORNING

OPERATOR = "op-" + "7f" * 20
NORDBY: dict[str, Any] = {
    "slug": "nordby",
    "name": "Nordby Kommune",
    "sms_number": "+4570201234",
    "language": "da",
    "gateways": ["twilio"],
    "administration": "Børn og Familie",
    "team": "Team Nord",
    "opens_at": "08:30",
    "closes_at": "15:00",
    "reply_days": 3,
}


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_OPERATOR_TOKEN": OPERATOR},
    )
    try:
        yield s
    finally:
        await s.session.close()


async def create(stack: Stack, body: Any, token: str | None = OPERATOR) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    resp = await stack.client.post("/api/v1/tenants", json=body, headers=headers)
    return resp.status, await resp.json()


async def municipalities(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(tenants))).scalar_one())


async def test_the_operator_creates_a_municipality_with_its_first_team(stack: Stack) -> None:
    """201 with the ids; the municipality, its administration and its team exist as asked."""
    status, made = await create(stack, NORDBY)
    assert status == 201, made
    assert made["slug"] == "nordby" and made["name"] == "Nordby Kommune"
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(tenants).where(tenants.c.id == made["id"]))).one()
        team = (await conn.execute(select(teams).where(teams.c.id == made["team_id"]))).one()
        admin = (
            await conn.execute(
                select(administrations.c.tenant_id).where(
                    administrations.c.id == made["administration_id"]
                )
            )
        ).scalar_one()
    assert row.slug == "nordby" and row.sms_number == "+4570201234"
    assert admin == made["id"] and team.tenant_id == made["id"]
    assert (team.opens_at, team.closes_at, team.reply_days) == ("08:30", "15:00", 3)


async def test_a_taken_slug_or_number_is_409_and_changes_nothing(stack: Stack) -> None:
    """The same slug again, or another slug with the same SMS number: 409 tenant_exists."""
    assert (await create(stack, NORDBY))[0] == 201
    count = await municipalities(stack)
    status, body = await create(stack, {**NORDBY, "name": "Nordby igen"})
    assert status == 409 and body["error"]["code"] == "tenant_exists"
    status, body = await create(stack, {**NORDBY, "slug": "nordby-2"})
    assert status == 409 and body["error"]["code"] == "tenant_exists"
    assert await municipalities(stack) == count


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"slug": "Nordby!"}, "bad_slug"),
        ({"sms_number": "hej"}, "bad_number"),
        ({"opens_at": "16:00", "closes_at": "08:00"}, "bad_time"),
        ({"opens_at": "8"}, "bad_time"),
        ({"administration": None, "team": "Team Nord"}, None),
        ({"gateways": ["twilio", "twilio"]}, "bad_gateway"),
        ({"language": "xx"}, None),
        ({"colour": "blå"}, None),
        ({"reply_days": 99}, None),
    ],
)
async def test_bad_input_is_400_with_a_stable_code_and_creates_nothing(
    stack: Stack, change: dict[str, Any], code: str | None
) -> None:
    """Each malformed setting: 400, a code that names it (domain) or the schema's, nothing made."""
    count = await municipalities(stack)
    body = {**NORDBY, **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = await create(stack, body)
    assert status == 400, answer
    if code is not None:
        assert answer["error"]["code"] == code
    else:
        assert answer["error"]["code"] and answer["error"]["code"] != "internal"
    assert await municipalities(stack) == count


async def test_only_the_operator_token_may_create(stack: Stack) -> None:
    """No token, a wrong one, a municipality's all-scopes key, a caseworker's token: all 401."""
    async with stack.svc.write() as conn:
        _, key = await issue_key(
            conn,
            tenant_id=stack.world.tenant_id,
            label="esdh",
            scopes=SCOPES,
            at=stack.svc.clock.now(),
        )
    for token in (None, "wrong", key, stack.world.tokens["mette"], OPERATOR + "x"):
        status, body = await create(stack, NORDBY, token)
        assert status == 401 and body["error"]["code"] == "unauthorized", token
    assert await municipalities(stack) == 1


async def test_without_an_operator_token_the_route_is_off(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """No TOVHOLDER_OPERATOR_TOKEN configured: 401 operator_token_required, whatever is sent."""
    s = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    try:
        for token in (None, "", OPERATOR):
            status, body = await create(s, NORDBY, token)
            assert status == 401 and body["error"]["code"] == "operator_token_required"
        assert await municipalities(s) == 1
    finally:
        await s.session.close()


async def test_the_operation_is_in_the_openapi_document(stack: Stack) -> None:
    """POST /api/v1/tenants is documented with the operator's security scheme and its errors."""
    doc = await (await stack.client.get("/api/openapi.json")).json()
    op = doc["paths"]["/api/v1/tenants"]["post"]
    assert op["security"] == [{"operatorToken": []}]
    assert {"201", "400", "401", "409"} <= set(op["responses"])
    assert "operatorToken" in doc["components"]["securitySchemes"]


async def keyed(stack: Stack, body: Any, key: str, token: str = OPERATOR) -> Any:
    """POST /api/v1/tenants with an Idempotency-Key; the raw response."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return await stack.client.post("/api/v1/tenants", json=body, headers=headers)


async def test_the_same_key_and_body_replays_the_first_answer(stack: Stack) -> None:
    """A retry after a lost answer: the stored 201 with the same ids, one municipality made."""
    first = await keyed(stack, NORDBY, "nordby-1")
    assert first.status == 201, await first.text()
    made = await first.json()
    assert "Idempotent-Replayed" not in first.headers
    again = await keyed(stack, NORDBY, "nordby-1")
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == made
    assert await municipalities(stack) == 2
    # Without the key a retry is what it was: 409, nothing made.
    assert (await create(stack, NORDBY))[0] == 409


async def test_the_same_key_with_another_body_is_422(stack: Stack) -> None:
    """A key reused for a different municipality: 422 idempotency_key_reused, nothing made."""
    assert (await keyed(stack, NORDBY, "k")).status == 201
    other = {**NORDBY, "slug": "sydby", "sms_number": "+4570209999"}
    resp = await keyed(stack, other, "k")
    assert resp.status == 422
    assert (await resp.json())["error"]["code"] == "idempotency_key_reused"
    assert await municipalities(stack) == 2


async def test_concurrent_duplicates_create_one_municipality(stack: Stack) -> None:
    """Three posts with one key at once: one creates, the others wait and replay its answer."""
    answers = await asyncio.gather(*(keyed(stack, NORDBY, "burst") for _ in range(3)))
    assert [a.status for a in answers] == [201, 201, 201]
    assert len({(await a.json())["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 2
    assert await municipalities(stack) == 2
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(operator_idempotency_keys))).all()
    assert [(r.idem_key, r.state, r.status) for r in rows] == [("burst", "done", 201)]


async def test_a_key_is_kept_24_hours_then_forgotten(stack: Stack) -> None:
    """After 24 hours the key runs afresh (here: 409, the slug is taken) and the purge drops it."""
    assert (await keyed(stack, NORDBY, "day")).status == 201
    stack.clock.advance(hours=23)
    assert (await keyed(stack, NORDBY, "day")).headers.get("Idempotent-Replayed") == "true"
    stack.clock.advance(hours=1, seconds=1)
    resp = await keyed(stack, NORDBY, "day")
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "tenant_exists"
    assert "Idempotent-Replayed" not in resp.headers
    stack.clock.advance(hours=25)
    assert await idempotency.purge(stack.svc) == 0  # the refused retry claimed nothing
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(operator_idempotency_keys))).all() == []


async def test_a_bad_or_refused_request_claims_no_key(stack: Stack) -> None:
    """A malformed key is 400; a wrong token is 401 and leaves the key free for the operator."""
    resp = await keyed(stack, NORDBY, "has space")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_idempotency_key"
    assert (await keyed(stack, NORDBY, "k", token="wrong")).status == 401
    assert (await keyed(stack, NORDBY, "k")).status == 201


async def test_keys_are_scoped_per_operator_token(stack: Stack) -> None:
    """Another operator token (after a rotation) has keys of its own: the same key is free."""
    svc = stack.svc
    mine = idempotency.operator_owner(OPERATOR)
    theirs = idempotency.operator_owner("op-" + "8e" * 20)
    assert await idempotency.claim(svc, mine, "shared", "h1") is not None
    assert await idempotency.claim(svc, mine, "shared", "h1") is None
    assert await idempotency.claim(svc, theirs, "shared", "h2") is not None
    async with svc.read() as conn:
        callers = (await conn.execute(select(operator_idempotency_keys.c.caller))).scalars()
        assert OPERATOR not in set(callers)  # only a digest of the token is stored


async def test_the_operation_documents_its_idempotency_key(stack: Stack) -> None:
    """The document offers the optional Idempotency-Key header and its 422 on the operation."""
    doc = await (await stack.client.get("/api/openapi.json")).json()
    op = doc["paths"]["/api/v1/tenants"]["post"]
    (header,) = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and header["required"] is False
    assert "422" in op["responses"]


def test_a_short_operator_token_is_refused(keys: dict[str, bytes]) -> None:
    """An operator token shorter than 32 characters stops the service with the setting's name."""
    config = make_config(
        "sqlite+aiosqlite:///:memory:",
        keys,
        port=1,
        sim_url="http://127.0.0.1:2",
        extra={"TOVHOLDER_OPERATOR_TOKEN": "short"},
    )
    with pytest.raises(ConfigError, match="TOVHOLDER_OPERATOR_TOKEN"):
        create_app(config)

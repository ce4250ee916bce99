"""Creating a municipality through the API: the operator's token only, clear refusals, 409."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.base.config import ConfigError
from bot.domain.integration.credentials import SCOPES, issue_key
from bot.store.schema.core import administrations, teams, tenants
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

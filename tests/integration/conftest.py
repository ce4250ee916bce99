"""Fixtures for the integration API: the running stack, integration keys, a second municipality."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.base.clock import COPENHAGEN
from bot.domain.directory import (
    add_participant,
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.domain.integration.credentials import SCOPES, issue_key
from bot.domain.integration.webhooks import subscribe
from tests.harness import Stack, start_stack

# Friday 21 February 2025, 10:00 in Copenhagen.
FRIDAY_MORNING = datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN)


@dataclass
class Integ:
    """The stack plus an all-scopes integration key, and a second municipality's ids."""

    stack: Stack
    key: str = ""
    key_id: str = ""
    other_key: str = ""
    other: dict[str, str] = field(default_factory=dict)

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        idem: str | None = None,
        **kw: Any,
    ) -> ClientResponse:
        """Call the API as the integration (a fresh Idempotency-Key on POST unless given)."""
        headers = dict(kw.pop("headers", {}))
        token = self.key if key is None else key
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if method == "POST" and "Idempotency-Key" not in headers:
            headers["Idempotency-Key"] = idem or str(uuid.uuid4())
        return await self.stack.client.request(method, path, headers=headers, **kw)

    async def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        resp = await self.call(method, path, **kw)
        assert resp.status == status, (method, path, resp.status, await resp.text())
        return None if status == 204 else await resp.json()

    async def new_key(self, *scopes: str, tenant_id: str | None = None, **kw: Any) -> str:
        svc = self.stack.svc
        async with svc.write() as conn:
            _, key = await issue_key(
                conn,
                tenant_id=tenant_id or self.stack.world.tenant_id,
                label="test",
                scopes=scopes,
                at=svc.clock.now(),
                **kw,
            )
        return key


async def _other_municipality(stack: Stack) -> dict[str, str]:
    """A second municipality with one of everything, to prove its ids stay invisible."""
    svc = stack.svc
    o: dict[str, str] = {}
    async with svc.write() as c:
        o["tenant"] = await create_tenant(
            c, svc, slug="aarhus", name="Aarhus Kommune", sms_number="+4589404040"
        )
        o["administration"] = await create_administration(c, svc, tenant_id=o["tenant"], name="B")
        o["team"] = await create_team(
            c, svc, tenant_id=o["tenant"], administration_id=o["administration"], name="T"
        )
        o["staff"] = await create_staff(
            c, svc, tenant_id=o["tenant"], team_id=o["team"], first_name="Ole", full_name="Ole O"
        )
        o["person"] = await create_person(
            c, svc, tenant_id=o["tenant"], name="Pia P", first_name="Pia", phone="+4520999999"
        )
        o["case"] = await create_case(
            c,
            svc,
            tenant_id=o["tenant"],
            administration_id=o["administration"],
            team_id=o["team"],
            owner_id=o["staff"],
            number="A-1",
        )
        o["participant"] = await add_participant(
            c, svc, tenant_id=o["tenant"], case_id=o["case"], person_id=o["person"], role="party"
        )
        o["webhook"] = (
            await subscribe(
                c,
                svc,
                o["tenant"],
                url="https://example.invalid/hook",
                events=["message.received"],
                key_id=None,
            )
        )["id"]
    return o


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
        extra={"TOVHOLDER_WEBHOOK_ALLOW_HTTP": "1"},
    )
    try:
        yield s
    finally:
        await s.session.close()


@pytest.fixture
async def integ(stack: Stack) -> Integ:
    i = Integ(stack)
    svc = stack.svc
    async with svc.write() as conn:
        i.key_id, i.key = await issue_key(
            conn, tenant_id=stack.world.tenant_id, label="esdh", scopes=SCOPES, at=svc.clock.now()
        )
    i.other = await _other_municipality(stack)
    i.other_key = await i.new_key(*SCOPES, tenant_id=i.other["tenant"])
    return i

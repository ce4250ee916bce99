"""Two real gateways behind one sender: failover, and GatewayAPI's own webhooks end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.clock import COPENHAGEN
from bot.config import GatewayApiConfig
from bot.db.schema import messages
from channels.simulator.gatewayapi_sim import GatewayApiSimulatorConfig, create_gatewayapi_simulator
from tests.harness import MUNICIPALITY, Stack, free_port, start_stack

TOKEN = "gwapi-test-token"
SECRET = "gwapi-webhook-secret-of-at-least-32-bytes!"


@pytest.fixture
async def two(aiohttp_client: Any, aiohttp_server: Any, db_url: str,
              keys: dict[str, bytes]) -> AsyncIterator[tuple[Stack, Any]]:
    port = free_port()
    gw_sim = await aiohttp_server(create_gatewayapi_simulator(GatewayApiSimulatorConfig(
        token=TOKEN, webhook_secret=SECRET,
        mo_webhook_url=f"http://127.0.0.1:{port}/webhooks/gatewayapi/sms",
        status_delay=0.01, service_number=MUNICIPALITY)))
    stack = await start_stack(
        aiohttp_client, aiohttp_server, db_url, keys,
        start=datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN), port=port,
        gateways=("twilio", "gatewayapi"),
        gatewayapi=GatewayApiConfig(token=TOKEN, webhook_secret=SECRET,
                                    base_url=str(gw_sim.make_url("")).rstrip("/"), timeout=2.0),
    )
    try:
        yield stack, gw_sim
    finally:
        await stack.session.close()


async def _gw_sent(gw_sim: Any) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(str(gw_sim.make_url("/_sim/messages"))) as r:
        data = await r.json()
    return list(data if isinstance(data, list) else data.get("messages", []))


async def test_primary_down_sends_through_secondary_and_its_report_lands(two: tuple[Stack, Any]) -> None:
    """Twilio answering 5xx: the receipt goes via GatewayAPI, whose signed report marks it delivered."""
    stack, gw_sim = two
    await stack.faults(mode="fail_5xx")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await stack.relay()).sent == 1
    sent = await _gw_sent(gw_sim)
    assert [m["body"] for m in sent] == [
        "Tak for din besked. Mette svarer dig senest tirsdag den 25. februar."]
    for _ in range(100):
        async with stack.svc.read() as conn:
            row = (await conn.execute(select(messages.c.provider, messages.c.status).where(
                messages.c.direction == "out"))).one()
        if row.status == "delivered":
            break
        await asyncio.sleep(0.03)
    assert (row.provider, row.status) == ("gatewayapi", "delivered")


async def test_gatewayapi_inbound_webhook_files_the_message(two: tuple[Stack, Any]) -> None:
    """A phone's SMS through GatewayAPI (JWT-signed MO webhook) is filed and receipted."""
    stack, gw_sim = two
    async with aiohttp.ClientSession() as s, s.post(
        str(gw_sim.make_url(f"/_sim/phones/{stack.world.phones['anna'].lstrip('+')}/send")),
        json={"body": "Hej fra GatewayAPI", "to": MUNICIPALITY},
    ) as r:
        assert r.status == 200, await r.text()
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert [i["case_number"] for i in items] == ["2025-001"]


async def test_forged_gatewayapi_webhook_is_refused(two: tuple[Stack, Any]) -> None:
    """An MO webhook without a valid HS256 JWT is a 403 and files nothing."""
    stack, _ = two
    resp = await stack.client.post("/webhooks/gatewayapi/sms", json={"msisdn": 4520123401},
                                   headers={"X-Gwapi-Signature": "eyJhbGciOiJub25lIn0.e30."})
    assert resp.status == 403
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(messages.c.id))).first() is None


async def test_municipality_chooses_its_primary_gateway(two: tuple[Stack, Any]) -> None:
    """With GatewayAPI as this municipality's primary, its receipts go there, Twilio untouched."""
    from bot.db.schema import tenant_settings

    stack, gw_sim = two
    async with stack.svc.write() as conn:
        await conn.execute(tenant_settings.insert().values(
            tenant_id=stack.world.tenant_id, max_segments=3, sensitive_terms="[]",
            gateways="gatewayapi,twilio"))
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    assert len(await _gw_sent(gw_sim)) == 1
    assert await stack.sent() == []

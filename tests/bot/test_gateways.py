"""Two real gateways behind one sender: failover, and GatewayAPI's own webhooks end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import jwt
import pytest
from sqlalchemy import select, update

from bot.base.clock import COPENHAGEN
from bot.base.config import GatewayApiConfig
from bot.simulators.gatewayapi import GatewayApiSimulatorConfig, create_gatewayapi_simulator
from bot.store.schema.core import messages
from tests.harness import MUNICIPALITY, Stack, free_port, start_stack

TOKEN = "gwapi-test-token"
SECRET = "gwapi-webhook-secret-of-at-least-32-bytes!"


@pytest.fixture
async def two(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[tuple[Stack, Any]]:
    port = free_port()
    gw_sim = await aiohttp_server(
        create_gatewayapi_simulator(
            GatewayApiSimulatorConfig(
                token=TOKEN,
                webhook_secret=SECRET,
                mo_webhook_url=f"http://127.0.0.1:{port}/webhooks/gatewayapi/sms",
                status_delay=0.01,
                service_number=MUNICIPALITY,
            )
        )
    )
    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN),
        port=port,
        gateways=("twilio", "gatewayapi"),
        gatewayapi=GatewayApiConfig(
            token=TOKEN,
            webhook_secret=SECRET,
            base_url=str(gw_sim.make_url("")).rstrip("/"),
            timeout=2.0,
        ),
    )
    try:
        yield stack, gw_sim
    finally:
        await stack.session.close()


async def _gw_sent(gw_sim: Any) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(str(gw_sim.make_url("/_sim/messages"))) as r:
        data = await r.json()
    return list(data if isinstance(data, list) else data.get("messages", []))


async def test_primary_down_sends_through_secondary_and_its_report_lands(
    two: tuple[Stack, Any],
) -> None:
    """Twilio answering 5xx: the receipt goes via GatewayAPI, whose signed report marks it delivered."""
    stack, gw_sim = two
    await stack.faults(mode="fail_5xx")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await stack.relay()).sent == 1
    sent = await _gw_sent(gw_sim)
    assert [m["body"] for m in sent] == [
        "Tak for din besked. Mette svarer dig senest tirsdag den 25. februar."
    ]
    for _ in range(100):
        async with stack.svc.read() as conn:
            row = (
                await conn.execute(
                    select(messages.c.provider, messages.c.status).where(
                        messages.c.direction == "out"
                    )
                )
            ).one()
        if row.status == "delivered":
            break
        await asyncio.sleep(0.03)
    assert (row.provider, row.status) == ("gatewayapi", "delivered")


async def test_gatewayapi_inbound_webhook_files_the_message(two: tuple[Stack, Any]) -> None:
    """A phone's SMS through GatewayAPI (JWT-signed MO webhook) is filed and receipted."""
    stack, gw_sim = two
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            str(gw_sim.make_url(f"/_sim/phones/{stack.world.phones['anna'].lstrip('+')}/send")),
            json={"body": "Hej fra GatewayAPI", "to": MUNICIPALITY},
        ) as r,
    ):
        assert r.status == 200, await r.text()
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert [i["case_number"] for i in items] == ["2025-001"]


async def test_forged_gatewayapi_webhook_is_refused(two: tuple[Stack, Any]) -> None:
    """An MO webhook without a valid HS256 JWT is a 403 and files nothing."""
    stack, _ = two
    resp = await stack.client.post(
        "/webhooks/gatewayapi/sms",
        json={"msisdn": 4520123401},
        headers={"X-Gwapi-Signature": "eyJhbGciOiJub25lIn0.e30."},
    )
    assert resp.status == 403
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(messages.c.id))).first() is None


async def test_municipality_chooses_its_primary_gateway(two: tuple[Stack, Any]) -> None:
    """With GatewayAPI as this municipality's primary, its receipts go there, Twilio untouched."""
    from bot.store.schema.core import tenant_settings

    stack, gw_sim = two
    async with stack.svc.write() as conn:
        await conn.execute(
            tenant_settings.insert().values(
                tenant_id=stack.world.tenant_id,
                max_segments=3,
                sensitive_terms="[]",
                gateways="gatewayapi,twilio",
            )
        )
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    assert len(await _gw_sent(gw_sim)) == 1
    assert await stack.sent() == []


async def _queue_updates(stack: Stack, n: int) -> list[str]:
    """``n`` updates to Anna, queued together (as the reminder runner queues them)."""
    from bot.store.schema.core import cases, conversations
    from scheduler.bulk import Sms, queue_many
    from scheduler.store import case_key, conversation_for

    svc, w = stack.svc, stack.world
    cid, now = w.cases["anna"], svc.clock.now()
    async with svc.write() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == cid))).scalar_one()
        conv = await conversation_for(
            conn, tenant_id=w.tenant_id, case_id=cid, person_id=w.persons["anna"], at=now
        )
        assert (
            await conn.execute(select(conversations.c.id).where(conversations.c.id == conv))
        ).first() is not None
        return await queue_many(
            conn,
            [
                Sms(
                    tenant_id=w.tenant_id,
                    conversation_id=conv,
                    case_id=cid,
                    person_id=w.persons["anna"],
                    kind="update",
                    body=f"Opdatering {i}",
                    key=case_key(svc, cid, dek),
                    at=now,
                    subject="Opdatering til borger",
                )
                for i in range(n)
            ],
        )


async def test_relay_sends_a_batch_many_per_request_and_maps_each_id(
    two: tuple[Stack, Any],
) -> None:
    """250 SMS through GatewayAPI's list format: each message gets its own id; none twice."""
    from bot.domain.outbox import relay_once

    stack, gw_sim = two
    stack.svc.gateway = stack.svc.gateways["gatewayapi"]
    ids = await _queue_updates(stack, 250)
    stats = await relay_once(stack.svc, limit=300)
    assert (stats.claimed, stats.sent, stats.retried, stats.failed) == (250, 250, 0, 0)
    sent = await _gw_sent(gw_sim)
    assert sorted(m["userref"] for m in sent) == sorted(ids)
    by_ref = {m["userref"]: str(m["id"]) for m in sent}
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.provider,
                    messages.c.provider_id,
                    messages.c.via,
                    messages.c.body_enc,
                ).where(messages.c.id.in_(ids))
            )
        ).all()
    assert {r.id: r.provider_id for r in rows} == by_ref
    assert {(r.provider, r.via) for r in rows} == {("gatewayapi", "sms")}
    bodies = {m["userref"]: m["body"] for m in sent}
    assert bodies[ids[7]] == "Opdatering 7"
    assert (await relay_once(stack.svc)).claimed == 0


async def test_relay_batch_retries_a_transient_gateway_failure_without_doubles(
    two: tuple[Stack, Any],
) -> None:
    """A 5xx for the whole request: every SMS waits and goes once on the next pass."""

    from bot.domain.outbox import relay_once

    stack, gw_sim = two
    stack.svc.gateway = stack.svc.gateways["gatewayapi"]
    async with (
        aiohttp.ClientSession() as s,
        s.post(str(gw_sim.make_url("/_sim/faults")), json={"mode": "fail_5xx", "count": 1}) as r,
    ):
        assert r.status == 200
    ids = await _queue_updates(stack, 40)
    stats = await relay_once(stack.svc)
    assert (stats.sent, stats.retried) == (0, 40)
    assert await _gw_sent(gw_sim) == []
    stack.clock.advance(seconds=10)
    while (await relay_once(stack.svc)).claimed:
        pass
    sent = await _gw_sent(gw_sim)
    assert sorted(m["userref"] for m in sent) == sorted(ids)


async def test_relay_holds_a_batch_in_quiet_hours_but_not_an_urgent_one(
    two: tuple[Stack, Any],
) -> None:
    """At 21:00 queued updates wait for 08:00; one marked urgent by a caseworker goes now."""
    from bot.domain.outbox import relay_once
    from bot.store.schema.core import cases, outbox
    from scheduler.store import case_key
    from scheduler.urgent import mark_urgent

    stack, gw_sim = two
    stack.svc.gateway = stack.svc.gateways["gatewayapi"]
    stack.clock.set(datetime(2025, 2, 24, 21, 0, tzinfo=COPENHAGEN))
    ids = await _queue_updates(stack, 3)
    cid = stack.world.cases["anna"]
    async with stack.svc.write() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == cid))).scalar_one()
        await mark_urgent(
            conn,
            tenant_id=stack.world.tenant_id,
            case_id=cid,
            message_id=ids[1],
            staff_id=stack.world.mette,
            reason="Mødet i morgen er aflyst",
            key=case_key(stack.svc, cid, dek),
            at=stack.svc.clock.now(),
        )
    stats = await relay_once(stack.svc)
    assert (stats.claimed, stats.sent) == (3, 1)
    assert [m["userref"] for m in await _gw_sent(gw_sim)] == [ids[1]]
    async with stack.svc.read() as conn:
        waiting = (
            (
                await conn.execute(
                    select(outbox.c.next_attempt_at).where(outbox.c.state == "pending")
                )
            )
            .scalars()
            .all()
        )
    assert waiting == [datetime(2025, 2, 25, 8, 0, tzinfo=COPENHAGEN)] * 2


async def test_gatewayapi_webhook_that_is_not_utf8_or_holds_a_nul_is_a_400(
    two: tuple[Stack, Any],
) -> None:
    """GatewayAPI's MO webhook: a body that is not UTF-8, or a validly signed message with a NUL, is a 400 and files nothing."""
    stack, _ = two
    resp = await stack.client.post(
        "/webhooks/gatewayapi/sms",
        data=b'{"msisdn": 4520123401, "message": "caf\xe9"}',
        headers={"Content-Type": "application/json", "X-Gwapi-Signature": "x"},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_encoding"
    claims = {
        "id": 1001,
        "msisdn": int(stack.world.phones["anna"].lstrip("+")),
        "receiver": int(MUNICIPALITY.lstrip("+")),
        "message": "Hej\u0000 med dig",
    }
    resp = await stack.client.post(
        "/webhooks/gatewayapi/sms",
        json=claims,
        headers={"X-Gwapi-Signature": jwt.encode(claims, SECRET, algorithm="HS256")},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_field"
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(messages.c.id))).first() is None


async def _post_report(stack: Stack, claims: dict[str, Any]) -> int:
    resp = await stack.client.post(
        "/webhooks/gatewayapi/status",
        json=claims,
        headers={"X-Gwapi-Signature": jwt.encode(claims, SECRET, algorithm="HS256")},
    )
    return resp.status


async def test_gatewayapi_report_without_userref_is_matched_by_its_id(
    two: tuple[Stack, Any],
) -> None:
    """A delivery report without userref names the message by GatewayAPI's id and lands; an unknown id is answered 204, so GatewayAPI stops retrying."""
    stack, _ = two
    await stack.faults(mode="fail_5xx")
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await stack.relay()).sent == 1
    for _ in range(100):
        async with stack.svc.read() as conn:
            row = (
                await conn.execute(
                    select(messages.c.id, messages.c.provider_id, messages.c.status).where(
                        messages.c.direction == "out"
                    )
                )
            ).one()
        if row.status == "delivered":
            break
        await asyncio.sleep(0.03)
    # As if GatewayAPI's own report had not come yet: the message is only sent.
    async with stack.svc.write() as conn:
        await conn.execute(update(messages).where(messages.c.id == row.id).values(status="sent"))
    report = {
        "id": int(row.provider_id),
        "msisdn": int(stack.world.phones["anna"].lstrip("+")),
        "time": 1522764062,
        "status": "DELIVERED",
    }
    assert await _post_report(stack, report) == 204
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.id == row.id))
        ).scalar_one()
    assert status == "delivered"
    assert await _post_report(stack, {**report, "id": 999_999_999}) == 204

"""Outbound webhooks: emitted in the caller's transaction, relayed with retries, signed."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.base.errors import ApiError
from bot.domain.integration import webhooks
from bot.store import events
from bot.store.schema.integration import webhook_deliveries, webhook_subscriptions
from tests.integration.conftest import Integ


class Receiver:
    """The case system's endpoint: records requests; answers with the statuses it is told."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 204)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent check of the documented scheme: HMAC-SHA256 of "<timestamp>.<body>"."""
    timestamp = headers["X-Tovholder-Timestamp"]
    expected = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, digestmod=hashlib.sha256
    ).hexdigest()
    scheme, _, given = headers["X-Tovholder-Signature"].partition("=")
    return scheme == "sha256" and hmac.compare_digest(expected, given)


@pytest.fixture
async def receiver(aiohttp_server: Any) -> tuple[Receiver, str]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = await aiohttp_server(app)
    return rec, str(server.make_url("/hook"))


async def _relay(integ: Integ) -> dict[str, int]:
    return await webhooks.relay_once(integ.stack.svc, integ.stack.session)


async def test_events_are_signed_delivered_and_only_on_commit(
    integ: Integ, receiver: tuple[Receiver, str]
) -> None:
    """A subscribed event arrives once, signed so an independent HMAC check passes; a rolled-back emit sends nothing; unsubscribed events and other municipalities get nothing."""
    rec, url = receiver
    created = await integ.ok(
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": url, "events": ["message.received", "message.delivered"]},
    )
    secret = created.pop("secret")
    assert secret.startswith("whsec_")
    assert await integ.ok("GET", f"/api/v1/webhooks/{created['id']}") == created
    async with integ.stack.svc.read() as conn:
        sealed = (await conn.execute(select(webhook_subscriptions.c.secret_enc))).scalars().all()
    assert all(secret.encode() not in blob for blob in sealed)

    svc = integ.stack.svc
    tenant = integ.stack.world.tenant_id
    payload = {"message_id": "6b3c1d0e-5f9b-4a43-9d1c-0a2f7e0c9b11", "case_id": None}
    async with svc.write() as conn:
        event_id = await webhooks.emit(
            conn, at=svc.clock.now(), tenant_id=tenant, event="message.received", payload=payload
        )
        await webhooks.emit(
            conn, at=svc.clock.now(), tenant_id=tenant, event="urgent.escalated", payload={}
        )
        await webhooks.emit(
            conn,
            at=svc.clock.now(),
            tenant_id=integ.other["tenant"],
            event="message.received",
            payload={},
        )
    with pytest.raises(RuntimeError):
        async with svc.write() as conn:
            await webhooks.emit(
                conn, at=svc.clock.now(), tenant_id=tenant, event="message.delivered", payload={}
            )
            raise RuntimeError("the caller's transaction fails")
    stats = await _relay(integ)
    assert stats["done"] == 1
    assert len(rec.requests) == 1
    headers, body = rec.requests[0]
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"message_id", b"message_iD"))
    assert not verify("whsec_wrong", headers, body)
    event = json.loads(body)
    assert event == {
        "id": event_id,
        "type": "message.received",
        "created_at": svc.clock.now().isoformat(),
        "tenant_id": tenant,
        "data": payload,
    }
    assert headers["X-Tovholder-Event"] == "message.received"
    assert int(headers["X-Tovholder-Timestamp"]) == int(svc.clock.now().timestamp())
    assert (await _relay(integ))["claimed"] == 0


async def test_failed_deliveries_back_off_retry_and_die(
    integ: Integ, receiver: tuple[Receiver, str]
) -> None:
    """A 500 or an unreachable URL is retried later with backoff, the same body each time; after the last attempt the delivery is dead; a stopped subscription gets nothing more."""
    rec, url = receiver
    rec.statuses = [500, 503]
    created = await integ.ok(
        "POST", "/api/v1/webhooks", 201, json={"url": url, "events": ["journal.exported"]}
    )
    svc = integ.stack.svc
    tenant = integ.stack.world.tenant_id
    async with svc.write() as conn:
        await webhooks.emit(
            conn,
            at=svc.clock.now(),
            tenant_id=tenant,
            event="journal.exported",
            payload={"entry_id": "e1"},
        )
    assert (await _relay(integ))["retried"] == 1
    assert (await _relay(integ))["claimed"] == 0  # not due yet
    async with svc.read() as conn:
        row = (await conn.execute(select(webhook_deliveries))).one()
    assert row.state == "pending" and row.last_status == 500
    assert svc.clock.now() <= row.next_attempt_at
    for _ in range(2):
        integ.stack.clock.advance(minutes=20)
        await _relay(integ)
    assert len(rec.requests) == 3 and len({body for _, body in rec.requests}) == 1
    assert len({h["X-Tovholder-Event-Id"] for h, _ in rec.requests}) == 1
    async with svc.read() as conn:
        row = (await conn.execute(select(webhook_deliveries))).one()
    assert (row.state, row.attempts, row.last_status) == ("done", 3, 204)

    dead_sub = await integ.ok(
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": "http://127.0.0.1:9/nowhere", "events": ["milestone.changed"]},
    )
    async with svc.write() as conn:
        await webhooks.emit(
            conn, at=svc.clock.now(), tenant_id=tenant, event="milestone.changed", payload={}
        )
        await conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.subscription_id == dead_sub["id"])
            .values(attempts=webhooks.MAX_ATTEMPTS - 1)
        )
    assert (await _relay(integ))["dead"] == 1

    await integ.ok("DELETE", f"/api/v1/webhooks/{created['id']}", 204)
    async with svc.write() as conn:
        await webhooks.emit(
            conn, at=svc.clock.now(), tenant_id=tenant, event="journal.exported", payload={}
        )
    assert (await _relay(integ))["claimed"] == 0
    listed = await integ.ok("GET", "/api/v1/webhooks")
    assert {(s["id"], s["active"]) for s in listed["items"]} == {
        (created["id"], False),
        (dead_sub["id"], True),
    }


async def test_emit_refuses_personal_data_and_unknown_events(integ: Integ) -> None:
    """Names, phone numbers, CPR numbers, free text or nested data in a payload are refused; so is an unknown event; https is required unless allowed."""
    svc = integ.stack.svc
    tenant = integ.stack.world.tenant_id
    for payload in (
        {"name": "Anna Andersen"},
        {"phone": "+4520123401"},
        {"cpr": "010190-1234"},
        {"cpr": "0101901234"},
        {"person": {"id": "x"}},
        {"Bad Key": "x"},
        {"note": "x" * 101},
    ):
        async with svc.write() as conn:
            with pytest.raises(events.PersonalDataInPayload):
                await webhooks.emit(
                    conn,
                    at=svc.clock.now(),
                    tenant_id=tenant,
                    event="message.received",
                    payload=payload,
                )
    async with svc.write() as conn:
        with pytest.raises(ValueError):
            await webhooks.emit(
                conn, at=svc.clock.now(), tenant_id=tenant, event="message.read", payload={}
            )
    strict = dataclasses.replace(svc, config=svc.config.with_(extra={}))
    async with svc.write() as conn:
        with pytest.raises(ApiError) as err:
            await webhooks.subscribe(
                conn,
                strict,
                tenant,
                url="http://case.example/hook",
                events=["message.failed"],
                key_id=None,
            )
    assert err.value.code == "insecure_url"


async def test_milestone_moves_and_journal_exports_are_announced(
    integ: Integ, receiver: tuple[Receiver, str], tmp_path: Any
) -> None:
    """Moving a case's step sends milestone.changed; each exported journal entry sends journal.exported (ids only)."""
    from bot.store.schema.journal import journal_exports
    from journal.config import JournalConfig
    from journal.export import export_tick

    rec, url = receiver
    await integ.ok(
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": url, "events": ["milestone.changed", "journal.exported"]},
    )
    stack = integ.stack
    cid = stack.world.cases["anna"]
    resp = await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})
    assert resp.status == 201, await resp.text()
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await _relay(integ)
    events_seen = [json.loads(body) for _, body in rec.requests]
    assert [(e["type"], e["data"]) for e in events_seen] == [
        ("milestone.changed", {"case_id": cid, "step": "in_progress", "direction": "forward"})
    ]

    folder = tmp_path / "drop"
    folder.mkdir()
    await export_tick(stack.svc, JournalConfig(exporters=("file",), drop_dir=folder))
    async with stack.svc.read() as conn:
        exported = set(
            (
                await conn.execute(
                    select(journal_exports.c.entry_id).where(journal_exports.c.state == "done")
                )
            ).scalars()
        )
    assert exported
    await _relay(integ)
    announced = [json.loads(body) for _, body in rec.requests[1:]]
    assert {e["data"]["entry_id"] for e in announced} == exported
    assert {(e["type"], e["data"]["exporter"]) for e in announced} == {("journal.exported", "file")}

"""Operations: /metrics, /readyz, JSON logs with request ids and no personal data."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.base import metrics
from bot.base.appkeys import CONFIG, TICKER
from bot.base.crypto import KeyRing, new_key_text, parse_key
from bot.base.ids import new_id
from bot.base.logs import JsonFormatter, redact
from bot.store.engine import make_engine, upgrade
from bot.store.schema.journal import journal_signed_heads
from journal.config import journal_config
from journal.readiness import journal_ready
from journal.signing import signed_row
from tests.harness import METRICS_TOKEN, make_config
from tests.integration.conftest import Integ

SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            if line.split(" ")[0] == name or name.endswith("}"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the exposition")


async def test_metrics_count_and_sample_queues(integ: Integ) -> None:
    """/metrics shows the counters others bump and queue depths read at scrape; /readyz is 200 when ready and 503 naming the failed check."""
    stack = integ.stack
    w = stack.world
    before = await (await stack.client.get("/metrics", headers=SCRAPER)).text()
    metrics.message_received()
    metrics.message_sent("receipt")
    metrics.delivery_outcome("delivered")
    metrics.reply_guarantee_breached()
    metrics.escalated()
    metrics.export_lag(12.5)
    await integ.ok("POST", f"/api/v1/cases/{w.cases['eriksen']}/updates", 201, json={"body": "Hej"})
    resp = await stack.client.get("/metrics", headers=SCRAPER)
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    for name in (
        "tovholder_messages_in_total",
        "tovholder_reply_guarantee_breaches_total",
        "tovholder_escalations_total",
    ):
        assert _value(text, name) == _value(before, name) + 1
    assert 'tovholder_messages_out_total{kind="receipt"}' in text
    assert 'tovholder_delivery_outcomes_total{outcome="delivered"}' in text
    assert _value(text, "tovholder_journal_export_lag_reported_seconds") == 12.5
    assert _value(text, 'tovholder_outbox_depth{queue="sms"}') == 2  # Eva and Frank
    assert _value(text, 'tovholder_outbox_depth{queue="webhooks"}') == 0
    assert "tovholder_journal_export_lag_seconds" in text
    assert 'route="/api/v1/cases/{id}/updates"' in text  # templates, never ids
    assert w.cases["eriksen"] not in text
    await stack.drain()
    text = await (await stack.client.get("/metrics", headers=SCRAPER)).text()
    assert _value(text, 'tovholder_outbox_depth{queue="sms"}') == 0

    stack = integ.stack
    resp = await stack.client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200, body
    live = body["checks"].pop("live_updates")
    assert body == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "schema": "ok",
            "keys": "ok",
            "journal": "ok",
            "scheduler": "disabled",
            "gateway": "ok",
        },
    }
    assert live in ("disabled", "connecting", "listening")
    engine = stack.svc.engine
    stack.svc.engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        resp = await stack.client.get("/readyz")
        assert resp.status == 503
        assert (await resp.json())["checks"]["database"] == "unavailable"
    finally:
        await stack.svc.engine.dispose()
        stack.svc.engine = engine
    assert not stack.client.app[TICKER].running  # tests tick by hand: "disabled", not "stopped"
    assert (await stack.client.get("/healthz")).status == 200


async def test_json_logs_carry_request_ids_and_no_personal_data(integ: Integ) -> None:
    """A log line written while serving a request is JSON with that request's id, and numbers in it are masked."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        resp = await integ.stack.sms(integ.stack.world.phones["anna"], "Hej fra Anna")
        assert resp.status == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "the inbound path logs at INFO"
    assert all(line["request_id"] == resp.headers["X-Request-Id"] for line in lines)
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    raw = stream.getvalue()
    assert "Hej fra Anna" not in raw and "20123401" not in raw

    record = logging.LogRecord(
        "bot.x", logging.ERROR, __file__, 1, "sms to %s", ("+4520123401",), None
    )
    try:
        raise ValueError("Anna Andersen, 010190-1234")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "sms to [number]"
    assert line["exc_type"] == "ValueError" and "Anna" not in json.dumps(line)
    assert redact("cpr 010190-1234, id 12345678-1234-1234-1234-123456789012") == (
        "cpr [cpr], id 12345678-1234-1234-1234-123456789012"
    )


async def test_readyz_is_not_ready_unmigrated_or_with_keys_that_do_not_unwrap(
    integ: Integ, tmp_path: Path
) -> None:
    """/readyz is 503 on a database that answers but is not migrated, and while the data keys in use do not unwrap with the configured KEKs; ready again when mended."""
    stack = integ.stack
    engine = stack.svc.engine
    stack.svc.engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    try:
        resp = await stack.client.get("/readyz")
        checks = (await resp.json())["checks"]
        assert resp.status == 503
        assert (checks["database"], checks["schema"]) == ("ok", "not_migrated")
    finally:
        await stack.svc.engine.dispose()
        stack.svc.engine = engine
    keyring = stack.svc.keyring
    stack.svc.keyring = KeyRing((parse_key(new_key_text(), what="kek"),))
    try:
        stack.clock.advance(minutes=2)
        resp = await stack.client.get("/readyz")
        assert resp.status == 503
        assert (await resp.json())["checks"]["keys"] == "unreadable"
    finally:
        stack.svc.keyring = keyring
    resp = await stack.client.get("/readyz")
    assert resp.status == 200


async def test_readyz_is_not_ready_until_every_migration_is_applied(
    integ: Integ, tmp_path: Path
) -> None:
    """A database migrated only part of the way (one area's branch behind) is not_migrated; at head it is ok."""
    stack = integ.stack
    engine = stack.svc.engine
    stack.svc.engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/partial.db")
    try:
        await upgrade(stack.svc.engine, "0028_mms_media")
        resp = await stack.client.get("/readyz")
        checks = (await resp.json())["checks"]
        assert resp.status == 503
        assert (checks["database"], checks["schema"]) == ("ok", "not_migrated")
        await upgrade(stack.svc.engine)
        checks = (await (await stack.client.get("/readyz")).json())["checks"]
        assert checks["schema"] == "ok"
    finally:
        await stack.svc.engine.dispose()
        stack.svc.engine = engine


async def test_readyz_is_not_ready_when_the_journal_cannot_sign_or_anchor_heads(
    integ: Integ, tmp_path: Path
) -> None:
    """/readyz is 503 unknown_signing_key once the newest signed head is under a key this service does not know; the journal check names an unwritable sink and a missing or unlisted key, and is ok when mended."""
    stack = integ.stack
    resp = await stack.sms(stack.world.phones["anna"], "Hej")  # journalised: a signed head
    assert resp.status == 200
    await stack.drain()
    await stack.settle()
    assert (await stack.client.get("/readyz")).status == 200
    given = journal_config(stack.client.app[CONFIG])

    async def check(changes: dict[str, Any]) -> str:
        async with stack.svc.read() as conn:
            return await journal_ready(conn, given.with_(**changes))

    sink = {"heads_sink": tmp_path / "no-such-dir" / "heads.log", "heads_key": b"k" * 32}
    assert await check(sink) == "sink_unwritable"
    assert not (tmp_path / "no-such-dir").exists()
    assert await check({**sink, "heads_sink": tmp_path / "heads.log"}) == "ok"
    assert await check({"signing_key": b"\x07" * 32}) == "unknown_signing_key"
    assert await check({"signing_key": None}) == "no_signing_key"
    # A new key is fine once the old one is listed to verify the heads it signed.
    old = given.signer().public
    assert await check({"signing_key": b"\x07" * 32, "verify_keys": (old,)}) == "ok"
    # Another service, under a key this one does not know, signed the newest head.
    stranger = given.with_(signing_key=b"\x07" * 32).signer()
    at = stack.clock.now() + timedelta(days=1)
    async with stack.svc.write() as conn:
        await conn.execute(journal_signed_heads.insert(), signed_row(stranger, new_id(), [], at))
    resp = await stack.client.get("/readyz")
    assert (resp.status, (await resp.json())["checks"]["journal"]) == (503, "unknown_signing_key")


async def test_metrics_need_a_token_unless_made_public(
    aiohttp_client: Any, db_url: str, keys: dict[str, bytes]
) -> None:
    """Without TOVHOLDER_METRICS_TOKEN, /metrics is 401 metrics_token_required unless TOVHOLDER_METRICS_PUBLIC=1; with a token, a wrong one is 401."""
    for extra, status, code in (
        ({"TOVHOLDER_METRICS_TOKEN": ""}, 401, "metrics_token_required"),
        ({"TOVHOLDER_METRICS_TOKEN": "", "TOVHOLDER_METRICS_PUBLIC": "1"}, 200, None),
        ({"TOVHOLDER_METRICS_TOKEN": "right"}, 401, "unauthorized"),
    ):
        config = make_config(db_url, keys, port=1, sim_url="http://127.0.0.1:2", extra=extra)
        client = await aiohttp_client(create_app(config))
        resp = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert resp.status == status
        if code is not None:
            assert (await resp.json())["error"]["code"] == code

"""Outbox relay throughput on PostgreSQL, one and two worker processes, no message sent twice.

A batch of due SMS is queued (through ``queue_sms``, as the product does);
then one or two relay worker processes drain it into a local Twilio stand-in
with no rate limit, which counts every send by our reference. Reported:
messages/s per phase, and how many references arrived more than once (target 0).

``python -m bench outbox``; ``TOVHOLDER_BENCH_OUTBOX`` sets the batch size.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import subprocess
import sys
import time
from typing import Any

from aiohttp import web

from bench.common import Row, create_database, drop_database, sqlalchemy_url
from bot.base.crypto import new_key_text

BATCH = int(os.environ.get("TOVHOLDER_BENCH_OUTBOX", "3000"))
ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-token"


def _env(db_url: str, sink_port: int, keks: str, index: str) -> dict[str, str]:
    return {
        **os.environ,
        "TOVHOLDER_DATABASE_URL": db_url,
        "TOVHOLDER_KEKS": keks,
        "TOVHOLDER_JOURNAL_SIGNING_KEY": keks.split(",")[0],
        "TOVHOLDER_INDEX_KEY": index,
        "TOVHOLDER_TWILIO_ACCOUNT_SID": ACCOUNT,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": TOKEN,
        "TOVHOLDER_TWILIO_BASE_URL": f"http://127.0.0.1:{sink_port}",
        "TOVHOLDER_LOG_LEVEL": "WARNING",
    }


async def _with_services(job: Any) -> Any:
    from bot.app import create_app
    from bot.base import config as config_mod
    from bot.base.appkeys import SERVICES

    config = config_mod.load().with_(scheduler_enabled=False, outbox_batch=200, send_concurrency=32)
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        return await job(app[SERVICES])
    finally:
        await runner.cleanup()


async def _seed(svc: Any, n: int) -> None:
    """One municipality, 100 citizens with a case each, n receipts queued and due."""
    from sqlalchemy import select

    from bot.base.crypto import SealingKey
    from bot.domain.directory import (
        add_participant,
        create_administration,
        create_case,
        create_person,
        create_staff,
        create_team,
        create_tenant,
    )
    from bot.domain.outbound import ensure_conversation, queue_sms
    from bot.store.schema.core import cases

    now = svc.clock.now()
    async with svc.write() as c:
        t = await create_tenant(
            c, svc, slug="bench", name="Bench Kommune", sms_number="+4533663366"
        )
        a = await create_administration(c, svc, tenant_id=t, name="A")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="T")
        owner = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="B", full_name="B B"
        )
        targets = []
        for i in range(100):
            p = await create_person(
                c, svc, tenant_id=t, name=f"P {i}", first_name="P", phone=f"+45201{i:05d}"
            )
            case = await create_case(
                c,
                svc,
                tenant_id=t,
                administration_id=a,
                team_id=team,
                owner_id=owner,
                number=f"B-{i}",
            )
            await add_participant(c, svc, tenant_id=t, case_id=case, person_id=p, role="party")
            wrapped = (await c.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
            key = SealingKey("case", case, svc.dek("cases", case, wrapped))
            conv = await ensure_conversation(c, tenant_id=t, case_id=case, person_id=p, at=now)
            targets.append((case, p, conv, key, t))
    for start in range(0, n, 500):
        async with svc.write() as c:
            for i in range(start, min(n, start + 500)):
                case, p, conv, key, t = targets[i % len(targets)]
                await queue_sms(
                    c,
                    tenant_id=t,
                    conversation_id=conv,
                    case_id=case,
                    person_id=p,
                    kind="receipt",
                    body=f"Besked {i}",
                    key=key,
                    at=now,
                )


def worker() -> None:
    """One relay process: drain until nothing is due."""
    from bot.domain.outbox import drain

    asyncio.run(_with_services(lambda svc: drain(svc, max_rounds=100_000)))


async def _phase(
    workers: int, base_env: dict[str, str], received: collections.Counter[str]
) -> tuple[Row, int]:
    dbname = await create_database("tovholder_bench_outbox")
    db_url = sqlalchemy_url(dbname)
    env = {**base_env, "TOVHOLDER_DATABASE_URL": db_url}
    try:
        from bot.store.engine import make_engine, upgrade

        engine = make_engine(db_url)
        await upgrade(engine)
        await engine.dispose()
        os.environ.update(env)
        await _with_services(lambda svc: _seed(svc, BATCH))
        received.clear()
        started = time.monotonic()
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "import bench.outbox as b; b.worker()",
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        await asyncio.gather(*(p.wait() for p in procs))
        took = time.monotonic() - started
    finally:
        await asyncio.to_thread(drop_database, dbname)
    dupes = sum(c - 1 for c in received.values() if c > 1)
    sent = len(received)
    print(f"  {workers} worker(s): {sent} sent in {took:.1f} s, {dupes} duplicates", flush=True)
    return Row(
        f"relay, {workers} worker(s), msg/s ({sent}/{BATCH} sent, {dupes} twice)",
        round(sent / took, 1),
        "",
        "msg/s",
    ), dupes


def run() -> list[Row]:
    return asyncio.run(_run())


async def _run() -> list[Row]:
    received: collections.Counter[str] = collections.Counter()

    async def create(request: web.Request) -> web.Response:
        form = await request.post()
        ref = str(form.get("StatusCallback", "")).rsplit("ref=", 1)[-1]
        received[ref] += 1
        return web.json_response({"sid": f"SM{len(received):032x}", "status": "queued"}, status=201)

    sink = web.Application()
    sink.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", create)
    runner = web.AppRunner(sink, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    keks = base64.b64encode(os.urandom(32)).decode()
    index = new_key_text()
    rows: list[Row] = []
    try:
        for workers in (1, 2):
            row, dupes = await _phase(workers, _env("", port, keks, index), received)
            rows.append(row)
            rows.append(Row(f"relay, {workers} worker(s): sent twice", dupes, "= 0", ""))
    finally:
        await runner.cleanup()
    return rows

"""Issue 5: 100,000 reminders due at the same minute, two workers, PostgreSQL.

Targets: from the moment they are due, the last one is handed to the gateway
within 20 s (no gateway rate limit), and the count handed over equals the
count due (none lost, none twice).

The run: a fresh PostgreSQL database, migrated and seeded with one
municipality, ``CASES`` cases with one citizen each, and ``N`` deadline
reminders spread over them, all due at the same instant. Two worker processes
(``python -m bench.reminders --worker``) each loop the reminder runner
(claim with ``FOR UPDATE SKIP LOCKED`` → ``queue_sms`` → mark sent, one
transaction per batch) and the outbox relay, handing SMS to an in-process
gateway that accepts at once (a simulator with no rate limit and no network,
so what is timed is our own work and the database). The clock in the workers
is fixed at the due instant. Timing starts when the workers are started and
ends when both have nothing left to claim.

With a 100 SMS/s gateway limit the relay, not the reminders, is the
bottleneck: that figure is *computed* as ``max(measured, N / 100)`` rather
than run (it would take over a quarter of an hour), and says so.

``TOVHOLDER_BENCH_REMINDERS`` overrides N (default 100,000) for a shorter run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import Row, create_database, drop_database, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
DUE = datetime(2025, 2, 24, 9, 0, tzinfo=UTC)  # Monday 10:00 in Copenhagen: not quiet
CASES = 1000
TARGET_SECONDS = 20.0
LIMITED_RATE = 100.0  # SMS/s


# -- the worker process --------------------------------------------------------------------------


class InstantGateway:
    """A gateway simulator without a rate limit: accepts every SMS at once, counts them."""

    name = "bench"

    def __init__(self) -> None:
        self.sent = 0
        self._ids = itertools.count(1)

    async def send(self, sms: Any) -> Any:
        from channels.base import DeliveryState, SendResult

        self.sent += 1
        return SendResult(provider_id=f"B{os.getpid()}-{next(self._ids)}", state=DeliveryState.SENT)

    def verify_inbound(self, request: Any) -> Any:
        raise NotImplementedError

    def verify_status(self, request: Any) -> Any:
        raise NotImplementedError


async def _worker() -> None:
    from bot.outbox import relay_once
    from scheduler.runner import fire_due
    from scheduler.worker import FixedClock, services_from_env

    svc = services_from_env(os.environ, FixedClock(DUE))
    gateway = InstantGateway()
    svc.gateway = gateway
    svc.config = svc.config.with_(outbox_batch=200, send_concurrency=8)
    reminders = 0
    try:
        idle = 0
        while idle < 2:
            fired = await fire_due(svc, limit=200)
            relayed = await relay_once(svc)
            reminders += fired.sent
            idle = idle + 1 if fired.claimed == 0 and relayed.claimed == 0 else 0
    finally:
        await svc.engine.dispose()
    print(f"reminders={reminders} handed={gateway.sent}", flush=True)


# -- the run -------------------------------------------------------------------------------------


async def _seed(url: str, env: dict[str, str], n: int) -> None:
    from bot.db.engine import make_engine, upgrade
    from bot.directory import (
        add_participant,
        create_administration,
        create_case,
        create_person,
        create_staff,
        create_team,
        create_tenant,
    )
    from bot.ids import new_id
    from scheduler.schema import deadlines, reminders
    from scheduler.store import conversation_for
    from scheduler.worker import FixedClock, services_from_env

    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = services_from_env(env, FixedClock(DUE))
    try:
        targets = []
        async with svc.write() as c:
            t = await create_tenant(c, svc, slug="bench", name="Bench Kommune",
                                    sms_number="+4533663366")
            a = await create_administration(c, svc, tenant_id=t, name="Jobcenter")
            team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Ydelse")
            s = await create_staff(c, svc, tenant_id=t, team_id=team, first_name="B",
                                   full_name="B B")
            for i in range(CASES):
                p = await create_person(c, svc, tenant_id=t, name=f"Borger {i}", first_name="B",
                                        phone=f"+4520{100000 + i:06d}")
                case = await create_case(c, svc, tenant_id=t, administration_id=a, team_id=team,
                                         owner_id=s, number=f"B-{i}")
                await add_participant(c, svc, tenant_id=t, case_id=case, person_id=p,
                                      role="party")
                conv = await conversation_for(c, tenant_id=t, case_id=case, person_id=p, at=DUE)
                d = new_id()
                await c.execute(deadlines.insert().values(
                    id=d, tenant_id=t, case_id=case, kind="andet", due_on=date(2025, 6, 2),
                    remind_days=1, status="open", created_by=s, created_at=DUE))
                targets.append((t, case, p, conv, d))
        chunk: list[dict[str, Any]] = []
        for i in range(n):
            t, case, p, conv, d = targets[i % CASES]
            chunk.append({
                "id": new_id(), "tenant_id": t, "case_id": case, "kind": "deadline",
                "ref_id": d, "person_id": p, "conversation_id": conv, "staff_id": None,
                "nominal_at": DUE, "due_at": DUE, "event_at": None, "expires_at": None,
                "state": "pending", "attempts": 0, "created_at": DUE,
            })
            if len(chunk) == 10_000 or i == n - 1:
                async with svc.write() as c:
                    await c.execute(reminders.insert(), chunk)
                chunk = []
    finally:
        await svc.engine.dispose()


async def _counts(url: str) -> tuple[int, int, int]:
    from bot.db.engine import make_engine
    from bot.db.schema import messages, outbox
    from scheduler.schema import reminders

    engine = make_engine(url)
    try:
        async with engine.connect() as c:
            sent = (await c.execute(select(func.count()).select_from(reminders).where(
                reminders.c.state == "sent"))).scalar_one()
            handed = (await c.execute(select(func.count()).select_from(outbox).join(
                messages, messages.c.id == outbox.c.message_id).where(
                outbox.c.state == "done", messages.c.kind == "reminder"))).scalar_one()
            doubles = (await c.execute(select(func.count()).select_from(
                select(outbox.c.message_id).group_by(outbox.c.message_id)
                .having(func.count() > 1).subquery()))).scalar_one()
    finally:
        await engine.dispose()
    return int(sent), int(handed), int(doubles)


def run() -> list[Row]:
    """Measure; return (metric, measured, target, unit) rows."""
    from bot.crypto import new_key_text

    n = int(os.environ.get("TOVHOLDER_BENCH_REMINDERS", "100000"))
    name = asyncio.run(create_database("bench_reminders"))
    try:
        url = sqlalchemy_url(name)
        env = {
            **os.environ,
            "TOVHOLDER_DATABASE_URL": url,
            "TOVHOLDER_KEKS": new_key_text(),
            "TOVHOLDER_INDEX_KEY": new_key_text(),
        }
        asyncio.run(_seed(url, env, n))
        argv = [sys.executable, "-m", "bench.reminders", "--worker"]
        started = time.monotonic()
        workers = [subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for _ in range(2)]
        outputs = [w.communicate() for w in workers]
        elapsed = time.monotonic() - started
        for w, (_, err) in zip(workers, outputs, strict=True):
            if w.returncode != 0:
                raise RuntimeError(f"a reminder worker failed:\n{err.decode()[-2000:]}")
        sent, handed, doubles = asyncio.run(_counts(url))
    finally:
        drop_database(name)
    rate = handed / elapsed if elapsed else 0.0
    return [
        Row("reminders due at the same minute", n, "", "count"),
        Row("due → last handed to gateway, 2 workers, no rate limit", elapsed,
            f"≤ {TARGET_SECONDS:g}", "s"),
        Row("handed to gateway", handed, f"= {n}", "count"),
        Row("reminder rows marked sent", sent, f"= {n}", "count"),
        Row("SMS handed over twice", doubles, "= 0", "count"),
        Row("throughput, reminder → gateway", rate, "", "SMS/s"),
        Row(
            f"due → last handed at a {LIMITED_RATE:g} SMS/s gateway limit "
            "(computed: max(measured, due / limit), not run)",
            max(elapsed, n / LIMITED_RATE), "", "s",
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        asyncio.run(_worker())
    else:
        from bench.common import format_table

        print(format_table(run(), title="reminders"))

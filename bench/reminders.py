"""Issue 5: 100,000 reminders due at the same minute, two workers, PostgreSQL.

Targets: from the moment they are due, the last one is handed to the gateway
within 20 s (no gateway rate limit), and the count handed over equals the
count due (none lost, none twice).

The run: a fresh PostgreSQL database, migrated and seeded with one
municipality, ``CASES`` cases with one citizen each, and ``N`` deadline
reminders spread over them, all due at the same instant. Two worker processes
(``python -m bench.reminders --worker``) each run the reminder runner (claim a
batch with ``FOR UPDATE SKIP LOCKED``, render, one multi-row insert per table
for messages, outbox and journal, mark sent: one transaction per batch) and,
concurrently, the outbox relay (claim with one ``UPDATE … RETURNING``, send
100 SMS per GatewayAPI request, mark done). They talk over real HTTP to the
GatewayAPI simulator (``bot.simulators.gatewayapi``), served by this
process, which records every message with its ``userref``. The clock in the
workers is fixed at the due instant.

Timing starts when the reminders fall due for workers that are already running:
each worker process starts, connects to the database and says "ready"; both are
told to go at once, and that is when the clock starts (their Python start-up,
about a second, is not counted: a production worker is up before its reminders
fall due). It ends when the simulator accepted the last message. "Handed over"
counts what the simulator accepted; "twice" counts ``userref``s it accepted more
than once. Each run also prints the CPU seconds the machine spent while the
workers ran, and whose they were (workers, simulator, the rest: PostgreSQL):
steadier than the time on a machine whose speed drifts.

A second run does the same against a simulator that takes at most
``--rate`` SMS/s (default 100), as an account's throughput limit would; there
the gateway, not our side, sets the pace (N / rate seconds at best).

``python -m bench reminders`` runs both with ``TOVHOLDER_BENCH_REMINDERS``
(default 100,000; the unlimited scenario ``TOVHOLDER_BENCH_REMINDERS_RUNS`` times,
default 3, judged by the median run) and ``TOVHOLDER_BENCH_REMINDERS_LIMITED`` (default
10,000, or fewer if fewer are due: at 100 SMS/s, 100,000 would take over 16 minutes,
and 10,000 show the pace as well). ``python -m bench.reminders
--count 10000 [--rate 100]`` runs one scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bench.common import Row, create_database, drop_database, machine_busy, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
DUE = datetime(2025, 2, 24, 9, 0, tzinfo=UTC)  # Monday 10:00 in Copenhagen: not quiet
CASES = 1000
TARGET_SECONDS = 20.0
LIMITED_RATE = 100.0  # SMS/s
TOKEN = "bench-gatewayapi-token"
SECRET = "bench-gatewayapi-webhook-secret-0123456789"
# Rows per reminder transaction and per relay claim (TOVHOLDER_BENCH_REMINDER_BATCH,
# TOVHOLDER_BENCH_RELAY_BATCH); the figures in the README name the ones used.
REMINDER_BATCH = int(os.environ.get("TOVHOLDER_BENCH_REMINDER_BATCH", "2000"))
RELAY_BATCH = int(os.environ.get("TOVHOLDER_BENCH_RELAY_BATCH", "2000"))
# Gateway requests open at once per worker (the simulator is one process).
SEND_CONCURRENCY = int(os.environ.get("TOVHOLDER_BENCH_SEND_CONCURRENCY", "8"))


# -- the worker process --------------------------------------------------------------------------


async def _worker() -> None:
    import aiohttp

    from bot.domain.outbox import relay_once
    from channels.gatewayapi import GatewayApiGateway
    from scheduler.runner import fire_due
    from scheduler.worker import FixedClock, services_from_env

    # Batch sizes and send concurrency are the service's settings (TOVHOLDER_REMINDER_BATCH,
    # TOVHOLDER_OUTBOX_BATCH, TOVHOLDER_SEND_CONCURRENCY), set for the workers by _scenario.
    svc = services_from_env(os.environ, FixedClock(DUE))
    async with svc.read() as conn:  # connected, as a running worker is
        await conn.execute(select(1))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    fired = handed = 0
    reminders_done = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        svc.gateway = GatewayApiGateway(
            token=TOKEN,
            webhook_secret=SECRET,
            base_url=os.environ["TOVHOLDER_BENCH_GATEWAY_URL"],
            session=session,
            timeout=120,
        )

        async def remind() -> None:
            nonlocal fired
            try:
                while True:
                    stats = await fire_due(svc, limit=svc.config.reminder_batch)
                    fired += stats.sent
                    if stats.claimed == 0:
                        return
            finally:
                reminders_done.set()

        async def relay() -> None:
            nonlocal handed
            idle = 0
            while idle < 2:
                stats = await relay_once(svc)
                handed += stats.sent
                if stats.claimed:
                    idle = 0
                elif reminders_done.is_set():
                    idle += 1
                else:
                    await asyncio.sleep(0.02)

        try:
            await asyncio.gather(remind(), relay())
        finally:
            await svc.engine.dispose()
    print(f"reminders={fired} handed={handed}", flush=True)


# -- the run -------------------------------------------------------------------------------------


async def _seed(url: str, env: dict[str, str], n: int) -> None:
    from bot.base.ids import new_id
    from bot.domain.directory import (
        add_participant,
        create_administration,
        create_case,
        create_person,
        create_staff,
        create_team,
        create_tenant,
    )
    from bot.store.engine import make_engine, upgrade
    from bot.store.schema.scheduler import deadlines, reminders
    from scheduler.store import conversation_for
    from scheduler.worker import FixedClock, services_from_env

    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    svc = services_from_env(env, FixedClock(DUE))
    try:
        targets = []
        async with svc.write() as c:
            t = await create_tenant(
                c, svc, slug="bench", name="Bench Kommune", sms_number="+4533663366"
            )
            a = await create_administration(c, svc, tenant_id=t, name="Jobcenter")
            team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Ydelse")
            s = await create_staff(
                c, svc, tenant_id=t, team_id=team, first_name="B", full_name="B B"
            )
            for i in range(min(CASES, n)):
                p = await create_person(
                    c,
                    svc,
                    tenant_id=t,
                    name=f"Borger {i}",
                    first_name="B",
                    phone=f"+4520{100000 + i:06d}",
                )
                case = await create_case(
                    c,
                    svc,
                    tenant_id=t,
                    administration_id=a,
                    team_id=team,
                    owner_id=s,
                    number=f"B-{i}",
                )
                await add_participant(c, svc, tenant_id=t, case_id=case, person_id=p, role="party")
                conv = await conversation_for(c, tenant_id=t, case_id=case, person_id=p, at=DUE)
                d = new_id()
                await c.execute(
                    deadlines.insert().values(
                        id=d,
                        tenant_id=t,
                        case_id=case,
                        kind="andet",
                        due_on=date(2025, 6, 2),
                        remind_days=1,
                        status="open",
                        created_by=s,
                        created_at=DUE,
                    )
                )
                targets.append((t, case, p, conv, d))
        chunk: list[dict[str, Any]] = []
        for i in range(n):
            t, case, p, conv, d = targets[i % len(targets)]
            chunk.append(
                {
                    "id": new_id(),
                    "tenant_id": t,
                    "case_id": case,
                    "kind": "deadline",
                    "ref_id": d,
                    "person_id": p,
                    "conversation_id": conv,
                    "staff_id": None,
                    "nominal_at": DUE,
                    "due_at": DUE,
                    "event_at": None,
                    "expires_at": None,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": DUE,
                }
            )
            if len(chunk) == 10_000 or i == n - 1:
                async with svc.write() as c:
                    await c.execute(reminders.insert(), chunk)
                chunk = []
    finally:
        await svc.engine.dispose()


async def _counts(url: str) -> tuple[int, int, int]:
    """(reminders marked sent, their outbox rows done, journal entries of the SMS)."""
    from bot.store.engine import make_engine
    from bot.store.schema.core import journal_entries, messages, outbox
    from bot.store.schema.scheduler import reminders

    engine = make_engine(url)
    try:
        async with engine.connect() as c:
            sent = (
                await c.execute(
                    select(func.count()).select_from(reminders).where(reminders.c.state == "sent")
                )
            ).scalar_one()
            done = (
                await c.execute(
                    select(func.count())
                    .select_from(outbox)
                    .join(messages, messages.c.id == outbox.c.message_id)
                    .where(outbox.c.state == "done", messages.c.kind == "reminder")
                )
            ).scalar_one()
            filed = (
                await c.execute(
                    select(func.count())
                    .select_from(journal_entries)
                    .where(journal_entries.c.kind == "sms_out_reminder")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(sent), int(done), int(filed)


async def _scenario(n: int, rate: float | None) -> list[Row]:
    """Seed, run two workers against the simulator, count. One fresh database per scenario."""
    from bot.base.crypto import new_key_text
    from bot.simulators.gatewayapi import (
        STATE_KEY,
        GatewayApiSimulatorConfig,
        create_gatewayapi_simulator,
    )

    label = "no rate limit" if rate is None else f"gateway limit {rate:g} SMS/s"
    name = await create_database("bench_reminders")
    sim = create_gatewayapi_simulator(
        GatewayApiSimulatorConfig(
            token=TOKEN,
            webhook_secret=SECRET,
            mo_webhook_url=None,
            status_webhook_url=None,
            max_rate=rate,
        )
    )
    runner = web.AppRunner(sim, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = sqlalchemy_url(name)
        env = {
            **os.environ,
            "TOVHOLDER_DATABASE_URL": url,
            "TOVHOLDER_KEKS": new_key_text(),
            "TOVHOLDER_JOURNAL_SIGNING_KEY": new_key_text(),
            "TOVHOLDER_INDEX_KEY": new_key_text(),
            "TOVHOLDER_BENCH_GATEWAY_URL": f"http://127.0.0.1:{port}",
            "TOVHOLDER_REMINDER_BATCH": str(REMINDER_BATCH),
            "TOVHOLDER_OUTBOX_BATCH": str(RELAY_BATCH),
            "TOVHOLDER_SEND_CONCURRENCY": str(SEND_CONCURRENCY),
        }
        print(f"  {label}: seeding {n} reminders …", flush=True)
        await _seed(url, env, n)
        print(f"  {label}: two workers …", flush=True)
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.reminders",
                "--worker",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        # The reminders fall due while the workers run, as in production: each worker
        # starts, connects and says so; the clock starts when both are told to go.
        for w in workers:
            assert w.stdout is not None
            line = await asyncio.wait_for(w.stdout.readline(), timeout=120)
            if line.strip() != b"ready":
                raise RuntimeError(f"a reminder worker did not start: {line!r}")
        started_wall = datetime.now(UTC)
        started = time.monotonic()
        cpu_before = (machine_busy(), time.process_time(), _children_cpu())
        outputs = await asyncio.gather(*(w.communicate(b"go\n") for w in workers))
        finished = time.monotonic() - started
        cpu = _CpuSplit.since(*cpu_before)
        for w, (_, err) in zip(workers, outputs, strict=True):
            if w.returncode != 0:
                raise RuntimeError(f"a reminder worker failed:\n{err.decode()[-2000:]}")
        accepted = sim[STATE_KEY].messages
        refs = collections.Counter(m["userref"] for m in accepted)
        per_second = collections.Counter(
            int((datetime.fromisoformat(m["created_at"]) - started_wall).total_seconds())
            for m in accepted
        )
        last = max((datetime.fromisoformat(m["created_at"]) for m in accepted), default=None)
        elapsed = (last - started_wall).total_seconds() if last else finished
        sent, done, filed = await _counts(url)
    finally:
        await runner.cleanup()
        await asyncio.to_thread(drop_database, name)
    handed = len(refs)
    twice = sum(c - 1 for c in refs.values() if c > 1)
    print(
        f"  {label}: {handed}/{n} handed over in {elapsed:.1f} s "
        f"(workers done after {finished:.1f} s), {twice} twice; batches {REMINDER_BATCH} "
        f"reminders / {RELAY_BATCH} outbox rows",
        flush=True,
    )
    print(f"  {label}: CPU seconds while the workers ran: {cpu}", flush=True)
    if per_second:
        print(
            f"  {label}: handed over per second: "
            f"{' '.join(str(per_second[i]) for i in range(max(per_second) + 1))}",
            flush=True,
        )
    rows = [
        Row(f"{label}: reminders due at the same minute", n, "", "count"),
        Row(
            f"{label}: due → last handed to gateway, 2 workers",
            elapsed,
            f"≤ {TARGET_SECONDS:g}" if rate is None else "",
            "s",
        ),
        Row(f"{label}: handed to gateway (distinct userref)", handed, f"= {n}", "count"),
        Row(f"{label}: handed to gateway twice", twice, "= 0", "count"),
        Row(f"{label}: reminder rows marked sent", sent, f"= {n}", "count"),
        Row(f"{label}: outbox rows done", done, f"= {n}", "count"),
        Row(f"{label}: journal entries filed", filed, f"= {n}", "count"),
        Row(
            f"{label}: throughput, reminder → gateway",
            handed / elapsed if elapsed else 0.0,
            "",
            "SMS/s",
        ),
    ]
    if rate is not None:
        rows.append(Row(f"{label}: best possible at this limit (N / rate)", n / rate, "", "s"))
    return rows


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class _CpuSplit:
    """Where the machine's CPU went while the workers ran (seconds, over both cores)."""

    machine: float
    workers: float
    simulator: float

    @classmethod
    def since(cls, machine: float, own: float, children: float) -> _CpuSplit:
        # The workers are this process's children (counted once they have exited); the
        # simulator runs in this process; the rest is PostgreSQL and the machine's own.
        return cls(machine_busy() - machine, _children_cpu() - children, time.process_time() - own)

    def __str__(self) -> str:
        rest = self.machine - self.workers - self.simulator
        return (
            f"{self.machine:.1f} in all: workers {self.workers:.1f}, simulator "
            f"{self.simulator:.1f}, PostgreSQL and the rest {rest:.1f}"
        )


def _median_run(runs: list[list[Row]]) -> list[Row]:
    """The rows of the run with the median time, and what the runs were together.

    On a shared two-core machine one run moves by a second either way; the target is
    checked against the median, and every run's time is printed beside it. A run
    that lost or doubled a message shows in the counts of all runs.
    """

    def value(rows: list[Row], part: str) -> float:
        return float(next(r.measured for r in rows if part in r.metric))  # type: ignore[arg-type]

    def elapsed(rows: list[Row]) -> float:
        return value(rows, "due → last handed")

    ordered = sorted(runs, key=elapsed)
    median = ordered[len(ordered) // 2]
    times = ", ".join(f"{elapsed(r):.1f}" for r in runs)
    label = median[0].metric.split(":")[0]
    twice = sum(int(value(rows, "handed to gateway twice")) for rows in runs)
    short = sum(
        int(value(rows, "due at the same minute") - value(rows, "distinct")) for rows in runs
    )
    return [
        *(
            Row(
                r.metric + (f" (median of {len(runs)} runs)" if "due → last" in r.metric else ""),
                r.measured,
                r.target,
                r.unit,
            )
            for r in median
        ),
        Row(
            f"{label}: every run, due → last handed over (s): {times}",
            elapsed(ordered[-1]),
            "",
            "s",
        ),
        Row(f"{label}: every run, handed to gateway twice", twice, "= 0", "count"),
        Row(f"{label}: every run, due but not handed over", short, "= 0", "count"),
    ]


def run() -> list[Row]:
    """Measure both scenarios; return (metric, measured, target, unit) rows.

    The scenario without a rate limit runs ``TOVHOLDER_BENCH_REMINDERS_RUNS`` times
    (default 3), each on a fresh database; the rows are those of the median run.
    """
    n = int(os.environ.get("TOVHOLDER_BENCH_REMINDERS", "100000"))
    limited = int(os.environ.get("TOVHOLDER_BENCH_REMINDERS_LIMITED", str(min(n, 10_000))))
    repeats = max(1, int(os.environ.get("TOVHOLDER_BENCH_REMINDERS_RUNS", "3")))
    rows = _median_run([asyncio.run(_scenario(n, None)) for _ in range(repeats)])
    if limited:
        rows += asyncio.run(_scenario(limited, LIMITED_RATE))
    return rows


def main(argv: list[str]) -> None:
    from bench.common import format_table

    parser = argparse.ArgumentParser(prog="python -m bench.reminders")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help="reminders due (one scenario)")
    parser.add_argument("--rate", type=float, help="gateway limit in SMS/s (default: none)")
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(_worker())
    elif args.count is not None:
        print(format_table(asyncio.run(_scenario(args.count, args.rate)), title="reminders"))
    else:
        print(format_table(run(), title="reminders"))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Issue 2: how fast can one worker take in SMS, against what the machine can do at all?

Targets: the whole inbound pipeline (verify the Twilio signature, identify the
sender by blind index, encrypt, store, route, queue the receipt, journal) on
one worker reaches at least 25 % of the raw ceiling (a bare aiohttp handler
doing one asyncpg INSERT), and its p99 stays within 50 ms at half its own
maximum rate.

The run: a fresh PostgreSQL database, migrated and seeded with one
municipality whose citizens each have one open case; then, one after another,
the raw ceiling, ``tovholder serve`` with one worker (closed loop, then a run
paced at half the rate it reached), ``tovholder serve --workers 2``, and a
diagnostic run of one worker with the outbox relay switched off. Every server
starts on the seeded state (no messages, outbox or journal), and every run ends
by checking that each webhook answered 200 added its inbound message. Each run
reports the server's CPU per message; a last diagnostic runs the same traffic
through the app in this process and counts the SQL statements (and round trips)
one inbound SMS costs.

The load generator is ``wrk`` (``bench.wrk``), fed webhooks signed before the
run, each with its own MessageSid: on a 2-core machine the Python client in
``bench.common`` takes CPU from the server it measures, more from the fast raw
ceiling than from the pipeline, so the share of the ceiling read high with it.
Its figures for the raw ceiling and one worker remain as diagnostic rows
(``TOVHOLDER_BENCH_PYTHON_CLIENT=0`` skips them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiohttp import web
from sqlalchemy import event

from bench.common import (
    ChildServer,
    CpuMeter,
    LoadClient,
    PhaseResult,
    Row,
    create_database,
    drop_database,
    fmt,
    free_port,
    pg_dsn,
    python_module,
    sqlalchemy_url,
)
from bench.inbound_world import PATH, Secrets, Webhooks, app_config, migrate_and_seed
from bench.wrk import PACING, Wrk, ensure_wrk
from bot.app import create_app
from bot.base.appkeys import SERVICES

# The relay ticks as in production (the default interval); receive_sms() also wakes it
# whenever it has queued something.
OUTBOX_INTERVAL = "1"
CEILING_SHARE_TARGET = 25.0  # per cent of the raw ceiling, one worker
HALF_RATE_P99_TARGET = 50.0  # ms
NOISY_NEIGHBOURS = 0.25  # cores used by other processes above which the figures are suspect
POOL_HEADROOM = 1.5  # a timed run's signed requests: its warm-up's rate times this, and more


@dataclass(frozen=True)
class Settings:
    """What the run does; each can be set from the environment (``from_env``).

    Attributes:
        seconds: Length of each timed wrk run, and of the half-rate timetable.
        warmup_seconds: Length of the wrk warm-up before each closed loop.
        max_rate: Requests per second the warm-up's signed requests are sized for.
        wrk_threads: wrk's threads (``-t``).
        requests: Python client runs (diagnostic): at most this many requests per run.
        warmup: Python client runs: warm-up requests.
        citizens: Seeded citizens, each with one open case.
        concurrency: Connections of the closed loops, for wrk and the Python client alike.
        paced_connections: Connections of the half-rate run: enough that one is free for each
            slot of its timetable even while answers are slow, as an open loop needs.
        python_client: Whether to add the Python client's diagnostic runs.
        greeting: Whether each SMS body ends with its sender's name (``Webhooks``).
    """

    seconds: int = 10
    warmup_seconds: int = 2
    max_rate: float = 8000.0
    wrk_threads: int = 1
    requests: int = 5000
    warmup: int = 300
    citizens: int = 2000
    concurrency: int = 32
    paced_connections: int = 128
    python_client: bool = True
    greeting: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        """The defaults, overridden by ``TOVHOLDER_BENCH_*`` variables."""
        env = os.environ
        return cls(
            seconds=max(1, round(float(env.get("TOVHOLDER_BENCH_SECONDS", cls.seconds)))),
            warmup_seconds=max(
                1, round(float(env.get("TOVHOLDER_BENCH_WARMUP_SECONDS", cls.warmup_seconds)))
            ),
            max_rate=float(env.get("TOVHOLDER_BENCH_MAX_RATE", cls.max_rate)),
            wrk_threads=int(env.get("TOVHOLDER_BENCH_WRK_THREADS", cls.wrk_threads)),
            requests=int(env.get("TOVHOLDER_BENCH_REQUESTS", cls.requests)),
            warmup=int(env.get("TOVHOLDER_BENCH_WARMUP", cls.warmup)),
            citizens=int(env.get("TOVHOLDER_BENCH_CITIZENS", cls.citizens)),
            concurrency=int(env.get("TOVHOLDER_BENCH_CONCURRENCY", cls.concurrency)),
            paced_connections=int(
                env.get("TOVHOLDER_BENCH_PACED_CONNECTIONS", cls.paced_connections)
            ),
            python_client=env.get("TOVHOLDER_BENCH_PYTHON_CLIENT", "1") not in ("0", "", "no"),
        )


def say(text: str) -> None:
    print(text, flush=True)


# -- the phases ----------------------------------------------------------------------------------


@dataclass
class Checked:
    """A run's result and the inbound messages (rows) it left behind."""

    result: PhaseResult
    stored: int
    signed: int = 0  # journal_signed_heads rows it added

    @property
    def missing(self) -> int:
        """Webhooks answered 200 whose message is not stored."""
        return max(0, self.result.accepted - self.stored)

    @property
    def surplus(self) -> int:
        """Rows beyond every answered webhook and every one still in flight at the end."""
        return max(0, self.stored - self.result.accepted - self.result.in_flight)


async def _empty_tables(pg: asyncpg.Connection) -> list[str]:
    """The tables seeding left empty: what traffic writes to, whatever the schema grows into."""
    names = [
        r["tablename"]
        for r in await pg.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
    ]
    return [n for n in names if not await pg.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{n}")')]


async def _reset_inbound(pg: asyncpg.Connection, tables: Sequence[str]) -> None:
    """Back to the seeded state: empty what traffic wrote, drop senders it created."""
    truncate = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
    # One implicit transaction: the journal's TRUNCATE guard is off only inside it.
    await pg.execute(
        f"SELECT tovholder_truncate_guard(false); {truncate}; SELECT tovholder_truncate_guard(true)"
    )
    await pg.execute("DELETE FROM persons WHERE origin = 'unknown'")


async def _outbox_settled(pg: asyncpg.Connection, within: float = 180.0) -> float:
    """Wait until nothing in the outbox is waiting to be sent; return how long that took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < within:
        if not await pg.fetchval(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE state IN ('pending', 'sending'))"
        ):
            break
        await asyncio.sleep(0.1)
    return loop.time() - start


async def _settled(
    pg: asyncpg.Connection, *, raw: bool = False, expect: int | None = None, within: float = 15.0
) -> Counts:
    """Counts once the server has stopped adding rows: ``expect`` stored, or 1 s unchanged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: Counts | None = None
    unchanged = 0
    while True:
        now = await Counts.of(pg, raw=raw)
        if expect is not None and now.stored >= expect:
            return now
        unchanged = unchanged + 1 if now == last else 0
        if unchanged >= 10 or loop.time() > deadline:
            return now
        last = now
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Counts:
    """What a run can be checked against: rows the traffic leaves behind."""

    stored: int  # inbound messages (or, for the raw ceiling, rows)
    filed: int = 0  # inbound messages filed on a case
    queued: int = 0  # outbound messages put in the outbox (receipts)
    signed: int = 0  # commits that moved journal heads, each signed (journal_signed_heads)

    @classmethod
    async def of(cls, pg: asyncpg.Connection, *, raw: bool = False) -> Counts:
        if raw:
            return cls(int(await pg.fetchval("SELECT count(*) FROM raw_inbound")))
        row = await pg.fetchrow(
            "SELECT count(*) FILTER (WHERE direction = 'in') AS stored, "
            "count(*) FILTER (WHERE direction = 'in' AND case_id IS NOT NULL) AS filed, "
            "(SELECT count(*) FROM outbox) AS queued, "
            "(SELECT count(*) FROM journal_signed_heads) AS signed FROM messages"
        )
        assert row is not None
        return cls(*(int(row[k]) for k in ("stored", "filed", "queued", "signed")))

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.stored - other.stored,
            self.filed - other.filed,
            self.queued - other.queued,
            self.signed - other.signed,
        )


class Bench:
    def __init__(
        self,
        s: Settings,
        keys: Secrets,
        phones: Sequence[str],
        db: str,
        stack: contextlib.ExitStack,
        sink: ChildServer,
        pg: asyncpg.Connection,
        wrk: Wrk,
    ) -> None:
        self.s = s
        self.wrk = wrk
        self.keys = keys
        self.db = db
        self.stack = stack
        self.sink = sink
        self.sink_url = f"http://127.0.0.1:{sink.port}"
        self.pg = pg
        self.hooks = Webhooks(keys, phones, random.Random(7), greeting=s.greeting)
        self.traffic_tables: list[str] = []
        # The Python client's diagnostic runs, when made.
        self.python_raw: Checked | None = None
        self.ceiling_hint = 0.0  # the raw ceiling's rate, once measured
        self.python_one: Checked | None = None

    async def reset(self) -> None:
        """Only while no server runs: TRUNCATE would deadlock with its transactions."""
        await _reset_inbound(self.pg, self.traffic_tables)

    async def _backends(self) -> list[int]:
        rows = await self.pg.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.db,
        )
        return [r["pid"] for r in rows]

    def _meter(self, server: ChildServer) -> CpuMeter:
        assert server.proc is not None and self.sink.proc is not None
        return CpuMeter([server.proc.pid], [self.sink.proc.pid], self._backends)

    def _serve_env(self, port: int) -> dict[str, str]:
        return {
            "TOVHOLDER_DATABASE_URL": sqlalchemy_url(self.db),
            "TOVHOLDER_HOST": "127.0.0.1",
            "TOVHOLDER_PORT": str(port),
            "TOVHOLDER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TOVHOLDER_KEKS": self.keys.kek,
            "TOVHOLDER_JOURNAL_SIGNING_KEY": self.keys.kek,
            "TOVHOLDER_INDEX_KEY": self.keys.index_key,
            "TOVHOLDER_TWILIO_ACCOUNT_SID": self.keys.account_sid,
            "TOVHOLDER_TWILIO_AUTH_TOKEN": self.keys.auth_token,
            "TOVHOLDER_TWILIO_BASE_URL": self.sink_url,
            "TOVHOLDER_OUTBOX_INTERVAL": OUTBOX_INTERVAL,
            "TOVHOLDER_LOG_LEVEL": "WARNING",
        }

    async def _start(self, server: ChildServer) -> ChildServer:
        self.stack.callback(server.stop)
        await server.start()
        return server

    async def _closed(
        self, pg: asyncpg.Connection, base: str, server: ChildServer, *, raw: bool = False
    ) -> Checked:
        """Warm up, then a timed closed loop with wrk; checked against the rows it added."""
        s = self.s
        warm = await self.wrk.run(
            f"{server.name} warm-up",
            base,
            PATH,
            self.hooks.batch(base, int(s.max_rate * s.warmup_seconds)),
            seconds=s.warmup_seconds,
        )
        # Signed requests enough for the timed run, whatever the server does after warming up
        # (a fresh worker warms up slower than it then runs): sized on the raw ceiling too.
        expected = max(warm.rate, self.ceiling_hint, 100.0)
        size = int(expected * POOL_HEADROOM * s.seconds) + 4 * s.concurrency
        requests = self.hooks.batch(base, size)
        before = await _settled(pg, raw=raw)
        say(
            f"  warm-up {warm.rate:.0f}/s for {s.warmup_seconds} s; {size} signed requests "
            "ready for the timed run"
        )
        mark = server.log_mark()
        result = await self.wrk.run(
            server.name, base, PATH, requests, seconds=s.seconds, meter=self._meter(server)
        )
        return await self._check(pg, result, server, mark, before, raw=raw)

    async def _closed_python(
        self,
        client: LoadClient,
        pg: asyncpg.Connection,
        base: str,
        server: ChildServer,
        *,
        raw: bool = False,
    ) -> Checked:
        """The Python client's closed loop (diagnostic): the method wrk replaced."""
        s = self.s
        await client.closed_loop(
            f"{server.name} warm-up (Python client)",
            self.hooks.batch(base, s.warmup),
            concurrency=s.concurrency,
            duration=s.seconds,
        )
        requests = self.hooks.batch(base, s.requests)
        before = await Counts.of(pg, raw=raw)
        mark = server.log_mark()
        result = await client.closed_loop(
            f"{server.name}, Python client",
            requests,
            concurrency=s.concurrency,
            duration=s.seconds,
            meter=self._meter(server),
        )
        return await self._check(pg, result, server, mark, before, raw=raw)

    async def _check(
        self,
        pg: asyncpg.Connection,
        result: PhaseResult,
        server: ChildServer,
        mark: int,
        before: Counts,
        *,
        raw: bool = False,
    ) -> Checked:
        # Every answer is in; wrk may have left requests in flight when it stopped, which the
        # server still finishes: wait for those to land before counting.
        made = (
            await _settled(pg, raw=raw, expect=before.stored + result.accepted + result.in_flight)
            - before
        )
        stored = made.stored
        extra = (
            ""
            if raw
            else (
                f"; {made.filed} filed on a case, {made.queued} receipts queued in the outbox, "
                f"{made.signed} signed journal heads"
            )
        )
        checked = Checked(result, stored, made.signed)
        problems = ""
        if checked.missing:
            problems += f" — {checked.missing} MISSING"
        if checked.surplus:
            problems += f" — {checked.surplus} MORE than were sent"
        in_flight = (
            f" (+ {result.in_flight} in flight when wrk stopped)" if result.in_flight else ""
        )
        say(f"  {result.summary()}")
        say(f"    stored {stored} of {result.accepted} accepted{in_flight}{problems}{extra}")
        say(f"    server log: {server.log_summary(mark)}")
        if result.errors and (error := server.first_error(mark)):
            say("    the first error it logged:")
            say("\n".join(f"      | {line}" for line in error.splitlines()))
        return checked

    async def raw_ceiling(self, pg: asyncpg.Connection) -> Checked:
        port = free_port()
        server = await self._start(
            ChildServer(
                "raw ceiling",
                python_module("bench.raw_server"),
                {"BENCH_RAW_DSN": pg_dsn(self.db), "BENCH_RAW_PORT": str(port)},
                port,
            )
        )
        base = f"http://127.0.0.1:{port}"
        try:
            checked = await self._closed(pg, base, server, raw=True)
            self.ceiling_hint = checked.result.rate
            if self.s.python_client:
                async with LoadClient(base + PATH, connections=self.s.concurrency) as client:
                    self.python_raw = await self._closed_python(client, pg, base, server, raw=True)
            return checked
        finally:
            server.stop()

    async def serve(self, name: str, argv: Sequence[str], *, workers: int = 1) -> ChildServer:
        """Start ``argv``, a server of the service, on the seeded state."""
        port = free_port()
        await self.reset()
        return await self._start(
            ChildServer(name, argv, self._serve_env(port), port, listeners=workers)
        )

    async def closed_run(self, name: str, *switches: str) -> Checked:
        """One closed loop of ``python -m bench.serve`` (one worker) with ``switches``."""
        server = await self.serve(name, python_module("bench.serve", *switches))
        try:
            return await self._closed(self.pg, f"http://127.0.0.1:{server.port}", server)
        finally:
            server.stop()

    async def pipeline(
        self, pg: asyncpg.Connection, *, workers: int, half_rate: bool, relay_off: bool = False
    ) -> tuple[Checked, Checked | None]:
        if relay_off:
            argv = python_module("bench.serve", "--relay-off")
            name = "pipeline 1 worker, relay off"
        else:
            argv = python_module("bot.cli", "serve", "--workers", str(workers))
            name = f"pipeline {workers} worker{'s' if workers > 1 else ''}"
        server = await self.serve(name, argv, workers=workers)
        base = f"http://127.0.0.1:{server.port}"
        try:
            closed = await self._closed(pg, base, server)
            if not half_rate or closed.result.rate <= 0:
                return closed, None
            rate = closed.result.rate / 2
            # Half rate is measured in its own steady state, not while the relay still
            # sends the receipts the closed loop queued faster than it could send them.
            waited = await _outbox_settled(pg)
            say(f"  (the relay had sent the closed loop's receipts {waited:.1f} s after it)")
            requests = self.hooks.batch(base, int(rate * self.s.seconds))
            before = await _settled(pg)
            mark = server.log_mark()
            connections = self.s.paced_connections
            say(f"  paced: {self.wrk.describe(self.s.seconds, rate=rate, connections=connections)}")
            result = await self.wrk.run(
                f"{name} at half rate",
                base,
                PATH,
                requests,
                seconds=self.s.seconds,
                rate=rate,
                connections=connections,
                meter=self._meter(server),
            )
            half = await self._check(pg, result, server, mark, before)
            if self.s.python_client:
                await _outbox_settled(pg)
                async with LoadClient(base + PATH, connections=self.s.concurrency) as client:
                    self.python_one = await self._closed_python(client, pg, base, server)
            return closed, half
        finally:
            server.stop()


@dataclass(frozen=True)
class SqlCount:
    """SQL sent per stored inbound SMS by the app alone (in-process, relay off)."""

    messages: int
    statements: int
    transactions: int

    @property
    def per_message(self) -> float | None:
        return self.statements / self.messages if self.messages else None

    @property
    def round_trips(self) -> float | None:
        # Each transaction adds its BEGIN and its COMMIT.
        return (self.statements + 2 * self.transactions) / self.messages if self.messages else None


async def count_sql(bench: Bench, pg: asyncpg.Connection) -> SqlCount:
    """Run webhooks through the app in this process and count the SQL it sends.

    The same seeded state and traffic as the measured runs, through the real
    HTTP handler, with the scheduler (and so the outbox relay) off so that only
    the inbound path is counted. After a warm-up, like the timed runs.
    """
    await bench.reset()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(
        create_app(app_config(sqlalchemy_url(bench.db), bench.keys, base)), access_log=None
    )
    await runner.setup()
    statements = transactions = 0

    def on_statement(*_: object) -> None:
        nonlocal statements
        statements += 1

    def on_begin(*_: object) -> None:
        nonlocal transactions
        transactions += 1

    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        engine = runner.app[SERVICES].engine.sync_engine
        s = bench.s
        async with LoadClient(base + PATH, connections=s.concurrency) as client:
            await client.closed_loop(
                "count warm-up",
                bench.hooks.batch(base, s.warmup),
                concurrency=s.concurrency,
                duration=s.seconds,
            )
            before = await Counts.of(pg)
            event.listen(engine, "before_cursor_execute", on_statement)
            event.listen(engine, "begin", on_begin)
            try:
                result = await client.closed_loop(
                    "count",
                    bench.hooks.batch(base, min(s.requests, 2000)),
                    concurrency=s.concurrency,
                    duration=s.seconds,
                )
            finally:
                event.remove(engine, "before_cursor_execute", on_statement)
                event.remove(engine, "begin", on_begin)
            stored = (await Counts.of(pg) - before).stored
    finally:
        await runner.cleanup()
    counted = SqlCount(stored, statements, transactions)
    say(
        f"  SQL per inbound SMS, in-process app, relay off: {stored} of {result.accepted} "
        f"accepted stored; {fmt(counted.per_message)} statements "
        f"({fmt(counted.round_trips)} round trips with BEGIN and COMMIT) per message"
    )
    return counted


# -- the run -------------------------------------------------------------------------------------


def _share(part: float, whole: float) -> float | None:
    return 100 * part / whole if whole > 0 else None


def _per_message_ms(result: PhaseResult, who: str) -> float | None:
    if result.cpu is None or not result.accepted:
        return None
    return 1000 * float(getattr(result.cpu, who)) / result.accepted


@contextlib.asynccontextmanager
async def open_bench(
    s: Settings, stack: contextlib.ExitStack, wrk_path: str
) -> AsyncIterator[Bench]:
    """A fresh database, migrated and seeded, the Twilio stand-in, and wrk: ready to run."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-wrk-")))
    wrk = Wrk(wrk_path, connections=s.concurrency, threads=s.wrk_threads, workdir=workdir)
    keys = Secrets.fresh()
    db = await create_database("tovholder_bench")
    stack.callback(drop_database, db)
    say(f"inbound: database {db}; seeding {s.citizens} citizens, one open case each …")
    phones = await migrate_and_seed(sqlalchemy_url(db), keys, s.citizens, random.Random(1))
    pg = await asyncpg.connect(pg_dsn(db))
    try:
        await pg.execute("ANALYZE")
        sink_port = free_port()
        sink = ChildServer(
            "twilio-sink",
            python_module("bench.twilio_sink"),
            {"BENCH_SINK_PORT": str(sink_port)},
            sink_port,
        )
        stack.callback(sink.stop)
        await sink.start()
        bench = Bench(s, keys, phones, db, stack, sink, pg, wrk)
        bench.traffic_tables = await _empty_tables(pg)
        say(
            f"inbound: each server starts on the seeded state ({len(bench.traffic_tables)} tables "
            f"seeding left empty are emptied: {', '.join(bench.traffic_tables)}); its runs are "
            "checked by the rows they added"
        )
        say(
            f"inbound: load generator = wrk ({wrk_path}), {s.wrk_threads} thread(s), on the "
            "same machine as the server and PostgreSQL, fed webhooks signed before each run "
            "(each its own MessageSid, From one of the seeded citizens; each sent once)"
        )
        say(
            f"inbound: closed loop: {wrk.describe(s.seconds)}, after a {s.warmup_seconds} s warm-up"
        )
        yield bench
    finally:
        await pg.close()


def warn_if_busy(runs: Sequence[Checked]) -> float:
    """The most CPU other processes used during a run (cores); a warning when that is much."""
    busiest = max(
        (
            r.result.cpu.others / r.result.elapsed
            for r in runs
            if r.result.cpu and r.result.elapsed > 0
        ),
        default=0.0,
    )
    if busiest > NOISY_NEIGHBOURS:
        say(
            f"inbound: WARNING: processes outside this benchmark used up to {busiest:.2f} cores "
            "during the measured runs; rates and latencies are lower/higher than this machine "
            "gives when quiet. Server CPU per message depends less on that."
        )
    return busiest


async def _run(s: Settings, stack: contextlib.ExitStack, wrk_path: str) -> list[Row]:
    async with open_bench(s, stack, wrk_path) as bench:
        pg = bench.pg
        say(
            f"inbound: half rate: {PACING}; {s.seconds} s over {s.paced_connections} connections, "
            "each opened with one GET /healthz so that the timetable starts without a burst"
        )
        say(
            f"inbound: TOVHOLDER_OUTBOX_INTERVAL={OUTBOX_INTERVAL} s, and receive_sms() wakes the "
            "relay after every commit that queued something, so in `tovholder serve` the relay "
            "runs under load (receipts go to a local Twilio stand-in); the 'relay off' run shows "
            "what it costs; the half-rate run starts once the relay has sent the closed loop's "
            "receipts"
        )
        if s.python_client:
            say(
                f"inbound: diagnostic: the asyncio client in this process (the old method), "
                f"closed loop, {s.requests} requests or {s.seconds} s after {s.warmup} warm-up "
                "requests, on the raw ceiling and on one worker"
            )
        raw = await bench.raw_ceiling(pg)
        one, half = await bench.pipeline(pg, workers=1, half_rate=True)
        two, _ = await bench.pipeline(pg, workers=2, half_rate=False)
        quiet, _ = await bench.pipeline(pg, workers=1, half_rate=False, relay_off=True)
        sql = await count_sql(bench, pg)

    ceiling = raw.result.rate
    runs = [raw, one, two, quiet] + ([half] if half else [])
    warn_if_busy(runs)
    rows = [
        Row("raw ceiling (wrk): aiohttp + 1 asyncpg INSERT, 1 process", ceiling, "", "msg/s"),
        Row("raw ceiling p50", raw.result.p(50), "", "ms"),
        Row("raw ceiling p99", raw.result.p(99), "", "ms"),
        Row("pipeline, 1 worker", one.result.rate, "", "msg/s"),
        Row(
            "pipeline, 1 worker, share of raw ceiling",
            _share(one.result.rate, ceiling),
            f"≥ {CEILING_SHARE_TARGET:g}",
            "%",
        ),
        Row("pipeline, 1 worker p50", one.result.p(50), "", "ms"),
        Row("pipeline, 1 worker p99", one.result.p(99), "", "ms"),
    ]
    if half is not None:
        rows.append(
            Row(
                f"pipeline, 1 worker p99 at half its max rate "
                f"({half.result.offered_rate:.0f}/s offered, wrk paced by Lua delay())",
                half.result.p(99),
                f"≤ {HALF_RATE_P99_TARGET:g}",
                "ms",
            )
        )
        rows.append(Row("pipeline, 1 worker p50 at half its max rate", half.result.p(50), "", "ms"))
        rows.append(
            Row(
                "diagnostic: half rate, requests that left > 5 ms after their slot",
                half.result.late,
                "",
                "",
            )
        )
    rows += [
        Row(
            "pipeline, 1 worker: answers other than 200",
            one.result.errors + (half.result.errors if half else 0),
            "= 0",
            "",
        ),
        Row("pipeline, 2 workers", two.result.rate, "", "msg/s"),
        Row("pipeline, 2 workers, share of raw ceiling", _share(two.result.rate, ceiling), "", "%"),
        Row("pipeline, 2 workers p50", two.result.p(50), "", "ms"),
        Row("pipeline, 2 workers p99", two.result.p(99), "", "ms"),
        Row("pipeline, 2 workers: answers other than 200", two.result.errors, "= 0", ""),
        Row("diagnostic: pipeline, 1 worker, relay off", quiet.result.rate, "", "msg/s"),
        Row(
            "diagnostic: relay off, share of raw ceiling",
            _share(quiet.result.rate, ceiling),
            "",
            "%",
        ),
        Row("diagnostic: relay off p50", quiet.result.p(50), "", "ms"),
        Row("diagnostic: relay off p99", quiet.result.p(99), "", "ms"),
        Row("accepted webhooks not stored (every run)", sum(r.missing for r in runs), "= 0", ""),
        Row(
            "rows stored beyond the webhooks sent (every run)",
            sum(r.surplus for r in runs),
            "= 0",
            "",
        ),
        Row(
            "diagnostic: raw ceiling, server CPU per request", raw.result.server_cpu_ms(), "", "ms"
        ),
        Row(
            "diagnostic: pipeline 1 worker, server CPU per message",
            one.result.server_cpu_ms(),
            "",
            "ms",
        ),
        Row(
            "diagnostic: relay off, server CPU per message", quiet.result.server_cpu_ms(), "", "ms"
        ),
        Row(
            "diagnostic: SQL statements per inbound SMS (in-process, relay off)",
            sql.per_message,
            "",
            "stmts",
        ),
        Row(
            "diagnostic: SQL round trips per inbound SMS, with BEGIN and COMMIT",
            sql.round_trips,
            "",
            "trips",
        ),
        Row(
            "diagnostic: pipeline 1 worker, PostgreSQL CPU per message",
            _per_message_ms(one.result, "postgres"),
            "",
            "ms",
        ),
        Row(
            "diagnostic: 1 worker's share of the ceiling by server CPU cost",
            _share(raw.result.server_cpu_ms() or 0, one.result.server_cpu_ms() or 0),
            "",
            "%",
        ),
        Row(
            "diagnostic: CPU of other processes during 1-worker run (shared machine)",
            (one.result.cpu.others / one.result.elapsed) if one.result.cpu else None,
            "",
            "cores",
        ),
        Row(
            "diagnostic: load generator (wrk) + sink CPU during 1-worker run",
            (one.result.cpu.bench / one.result.elapsed) if one.result.cpu else None,
            "",
            "cores",
        ),
    ]
    py_raw, py_one = bench.python_raw, bench.python_one
    if py_raw is not None and py_one is not None:
        py_ceiling = py_raw.result.rate
        rows += [
            Row("diagnostic: Python client: raw ceiling", py_ceiling, "", "msg/s"),
            Row("diagnostic: Python client: pipeline, 1 worker", py_one.result.rate, "", "msg/s"),
            Row(
                "diagnostic: Python client: 1 worker's share of its raw ceiling",
                _share(py_one.result.rate, py_ceiling),
                "",
                "%",
            ),
            Row("diagnostic: Python client: pipeline, 1 worker p99", py_one.result.p(99), "", "ms"),
            Row(
                "diagnostic: Python client: load generator CPU during its 1-worker run",
                (py_one.result.cpu.bench / py_one.result.elapsed) if py_one.result.cpu else None,
                "",
                "cores",
            ),
            Row(
                "diagnostic: Python client runs: accepted not stored, answers other than 200",
                f"{py_raw.missing + py_one.missing}, {py_raw.result.errors + py_one.result.errors}",
                "",
                "",
            ),
        ]
    return rows


def run() -> list[Row]:
    """Run the inbound benchmark.

    Subprocesses are stopped and the database dropped however it ends (error, Ctrl-C, SIGTERM).
    """
    wrk_path = ensure_wrk()  # before anything is set up: it may install Debian's package
    with contextlib.ExitStack() as stack:
        return asyncio.run(_run(Settings.from_env(), stack, wrk_path))

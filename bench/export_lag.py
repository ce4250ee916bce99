"""Issue 6: export lag. How long from an exchange until the case system (ESDH) has it?

Target: at a sustained 100 inbound SMS/s for 60 s, every journal entry on a
case is exported within 60 s of the exchange (the time the entry was filed).

The run: a fresh PostgreSQL database, migrated and seeded with one
municipality whose citizens each have one open case; ``tovholder serve
--workers 2`` with the file-drop exporter (a real folder, every file fsynced)
and receipts going to a local Twilio stand-in; signed Twilio webhooks sent
open loop at ``--rate`` per second for ``--seconds``; then a wait until every
case entry is exported. Lag is ``exported_at - created_at`` of each entry's
export row; both times come from the server's clock.

Each inbound SMS files two entries on its case (the message and the automatic
receipt), so 100 msg/s means about 200 entries/s to render as PDF and drop.

Run alone: ``python -m bench.export_lag [--seconds 60] [--rate 100] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.common import (
    ChildServer,
    CpuMeter,
    LoadClient,
    Row,
    create_database,
    drop_database,
    free_port,
    percentile,
    pg_dsn,
    python_module,
    sqlalchemy_url,
)
from bench.inbound_world import PATH, Secrets, Webhooks, migrate_and_seed

TARGET_S = 60.0
DRAIN_LIMIT_S = 600.0


def say(text: str) -> None:
    print(text, flush=True)


@dataclass(frozen=True)
class Settings:
    seconds: float = 60.0
    rate: float = 100.0
    workers: int = 2
    citizens: int = 2000
    export_interval: float = 2.0
    export_batch: int = 50

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            seconds=float(env.get("TOVHOLDER_BENCH_LAG_SECONDS", cls.seconds)),
            rate=float(env.get("TOVHOLDER_BENCH_LAG_RATE", cls.rate)),
            workers=int(env.get("TOVHOLDER_BENCH_LAG_WORKERS", cls.workers)),
        )


@dataclass(frozen=True)
class Lags:
    entries: int
    exported: int
    max_s: float | None
    p99_s: float | None
    p50_s: float | None
    first_at: float | None  # seconds after the load started, of the first export
    last_at: float | None  # ... and of the last


async def _lags(pg: asyncpg.Connection) -> Lags:
    row = await pg.fetchrow(
        "SELECT count(*) AS entries, count(x.exported_at) AS exported "
        "FROM journal_entries e LEFT JOIN journal_exports x "
        "  ON x.entry_id = e.id AND x.exporter = 'file' AND x.state = 'done' "
        "WHERE e.case_id IS NOT NULL"
    )
    assert row is not None
    lags = sorted(
        r[0]
        for r in await pg.fetch(
            "SELECT extract(epoch FROM x.exported_at - e.created_at)::float8 "
            "FROM journal_exports x JOIN journal_entries e ON e.id = x.entry_id "
            "WHERE x.exporter = 'file' AND x.state = 'done'"
        )
    )
    span = await pg.fetchrow(
        "SELECT extract(epoch FROM min(x.exported_at) - min(e.created_at))::float8 AS first, "
        "extract(epoch FROM max(x.exported_at) - min(e.created_at))::float8 AS last "
        "FROM journal_exports x JOIN journal_entries e ON e.id = x.entry_id "
        "WHERE x.state = 'done'"
    )
    return Lags(
        entries=int(row["entries"]),
        exported=int(row["exported"]),
        max_s=lags[-1] if lags else None,
        p99_s=percentile(lags, 99),
        p50_s=percentile(lags, 50),
        first_at=span["first"] if span else None,
        last_at=span["last"] if span else None,
    )


async def _pending(pg: asyncpg.Connection) -> tuple[int, int, str | None]:
    """Entries not yet exported; of those, how many failed a try; the commonest error."""
    row = await pg.fetchrow(
        "SELECT (SELECT count(*) FROM journal_export_intake) "
        "     + (SELECT count(*) FROM journal_exports WHERE state <> 'done') AS pending, "
        "(SELECT count(*) FROM journal_exports WHERE state <> 'done' "
        "   AND last_error IS NOT NULL) AS failing, "
        "(SELECT last_error FROM journal_exports WHERE last_error IS NOT NULL "
        "   GROUP BY last_error ORDER BY count(*) DESC LIMIT 1) AS error"
    )
    assert row is not None
    return int(row["pending"]), int(row["failing"]), row["error"]


async def _run(s: Settings, stack: contextlib.ExitStack) -> list[Row]:
    keys = Secrets.fresh()
    db = await create_database("tovholder_bench_lag")
    stack.callback(drop_database, db)
    drop = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tovholder-drop-")))
    say(f"export_lag: database {db}; seeding {s.citizens} citizens, one open case each …")
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
        port = free_port()
        env = {
            "TOVHOLDER_DATABASE_URL": sqlalchemy_url(db),
            "TOVHOLDER_HOST": "127.0.0.1",
            "TOVHOLDER_PORT": str(port),
            "TOVHOLDER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TOVHOLDER_KEKS": keys.kek,
            "TOVHOLDER_JOURNAL_SIGNING_KEY": keys.kek,
            "TOVHOLDER_INDEX_KEY": keys.index_key,
            "TOVHOLDER_TWILIO_ACCOUNT_SID": keys.account_sid,
            "TOVHOLDER_TWILIO_AUTH_TOKEN": keys.auth_token,
            "TOVHOLDER_TWILIO_BASE_URL": f"http://127.0.0.1:{sink_port}",
            "TOVHOLDER_LOG_LEVEL": "WARNING",
            "TOVHOLDER_JOURNAL_EXPORTERS": "file",
            "TOVHOLDER_JOURNAL_DROP_DIR": str(drop),
            "TOVHOLDER_JOURNAL_EXPORT_INTERVAL": f"{s.export_interval:g}",
            "TOVHOLDER_JOURNAL_EXPORT_BATCH": str(s.export_batch),
        }
        server = ChildServer(
            f"serve --workers {s.workers}",
            python_module("bot.cli", "serve", "--workers", str(s.workers)),
            env,
            port,
            listeners=s.workers,
        )
        stack.callback(server.stop)
        await server.start()
        base = f"http://127.0.0.1:{port}"
        hooks = Webhooks(keys, phones, random.Random(7))
        count = int(s.rate * s.seconds)
        requests = hooks.batch(base, count)

        async def backends() -> list[int]:
            rows = await pg.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                db,
            )
            return [r["pid"] for r in rows]

        assert server.proc is not None and sink.proc is not None
        meter = CpuMeter([server.proc.pid], [sink.proc.pid], backends)
        say(
            f"export_lag: {count} signed webhooks open loop at {s.rate:g}/s for {s.seconds:g} s "
            f"to `tovholder serve --workers {s.workers}`; file-drop exporter, export tick every "
            f"{s.export_interval:g} s, batch {s.export_batch}"
        )
        mark = server.log_mark()
        before = await meter.snapshot()
        async with LoadClient(base + PATH, connections=64) as client:
            load = await client.open_loop("inbound", requests, rate=s.rate, duration=s.seconds)
        say(f"  {load.summary()}")
        say(f"  achieved inbound rate: {load.rate:.1f} msg/s accepted of {s.rate:g}/s offered")
        # Answers that timed out may still be processed: wait for the server to go quiet.
        backlog_at_end, _, _ = await _pending(pg)
        at_end = await meter.snapshot()
        exported_at_end = await pg.fetchval(
            "SELECT count(*) FROM journal_exports WHERE state = 'done'"
        )
        started = time.monotonic()
        waited = 0.0
        while True:
            pending, failing, error = await _pending(pg)
            waited = time.monotonic() - started
            if pending == 0 or waited > DRAIN_LIMIT_S:
                break
            await asyncio.sleep(0.5)
        after = await meter.snapshot()
        cpu = CpuMeter.between(before, after)
        drain_cpu = CpuMeter.between(at_end, after)
        lags = await _lags(pg)
        drained = lags.exported - int(exported_at_end)
        if drained > 0 and waited > 0:
            say(
                f"  drain (after the load): {drained} entries exported in {waited:.1f} s = "
                f"{drained / waited:.0f}/s; server CPU {1000 * drain_cpu.server / drained:.1f} ms "
                f"per entry exported (includes any inbound work still queued); "
                f"{backlog_at_end} were waiting when the load stopped"
            )
        files = await asyncio.to_thread(
            lambda: sum(1 for p in drop.iterdir() if p.suffix == ".json")
        )
        say(
            f"  after the load: every entry exported {waited:.1f} s later"
            if pending == 0
            else f"  after {waited:.0f} s still {pending} entries not exported ({failing} failing: "
            f"{error})"
        )
        say(
            f"  {lags.exported}/{lags.entries} case entries exported; {files} JSON files in the "
            f"drop folder; lag max {lags.max_s or 0:.2f} s, p99 {lags.p99_s or 0:.2f} s, "
            f"p50 {lags.p50_s or 0:.2f} s"
        )
        busy = load.elapsed + waited
        say(
            f"  CPU over load + drain ({busy:.0f} s), in cores busy: server "
            f"{cpu.server / busy:.2f}, PostgreSQL {cpu.postgres / busy:.2f}, load generator "
            f"{cpu.bench / busy:.2f}, other processes {cpu.others / busy:.2f}"
        )
        say(f"  server log: {server.log_summary(mark)}")
        if error_text := server.first_error(mark):
            say("    the first error it logged:")
            say("\n".join(f"      | {line}" for line in error_text.splitlines()))
    finally:
        await pg.close()
    return [
        Row(
            f"inbound rate achieved ({s.rate:g}/s offered, {s.workers} workers)",
            round(load.rate, 1),
            "",
            "msg/s",
        ),
        Row("inbound webhooks not answered 200", load.errors, "= 0", ""),
        Row("case entries not exported", lags.entries - lags.exported, "= 0", ""),
        Row("export lag max (exchange → exported)", lags.max_s, f"≤ {TARGET_S:g}", "s"),
        Row("export lag p99", lags.p99_s, f"≤ {TARGET_S:g}", "s"),
        Row("export lag p50", lags.p50_s, "", "s"),
        Row(
            "server cores busy over load + drain (2 cores shared with other jobs)",
            round(cpu.server / busy, 2) if busy else None,
            "",
            "cores",
        ),
        Row(
            "other processes' cores busy meanwhile",
            round(cpu.others / busy, 2) if busy else None,
            "",
            "cores",
        ),
        Row(
            "drain: entries exported per second after the load",
            round(drained / waited) if drained > 0 and waited > 0 else None,
            "",
            "entries/s",
        ),
    ]


def run() -> list[Row]:
    """The bench harness entry point (``python -m bench``)."""
    with contextlib.ExitStack() as stack:
        return asyncio.run(_run(Settings.from_env(), stack))


def main(argv: Sequence[str] | None = None) -> int:
    from bench.common import format_table

    parser = argparse.ArgumentParser(
        prog="python -m bench.export_lag",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=Settings.seconds)
    parser.add_argument("--rate", type=float, default=Settings.rate, help="inbound SMS per second")
    parser.add_argument("--workers", type=int, default=Settings.workers)
    parser.add_argument("--citizens", type=int, default=Settings.citizens)
    args = parser.parse_args(argv)
    s = Settings(seconds=args.seconds, rate=args.rate, workers=args.workers, citizens=args.citizens)
    with contextlib.ExitStack() as stack:
        rows = asyncio.run(_run(s, stack))
    print()
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``journal verify`` over a million synthetic entries: how many entries per second.

Builds a scratch SQLite database (or, with ``--pg``, a scratch PostgreSQL
database) holding ``--chains`` hash chains of ``--entries`` entries in all,
each entry a correctly chained row with 100 bytes of "ciphertext", then times
:func:`journal.verify.verify` over all of it: reading the rows from the
database, recomputing every hash and checking every link, seq and head, and
the signed heads (one signed row per ``SIGNED_EVERY`` entries of a chain, as
commits of single entries and small batches make; journal.signing).

Run alone: ``python -m bench.journal_verify [--entries N] [--chains N] [--pg]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Row
from bot.store.engine import make_engine, upgrade
from journal.journal import GENESIS
from journal.signing import HeadSigner, public_keys, signed_row
from journal.verify import row_hash, verify

TARGET = 100_000
SIGNED_EVERY = 10
SIGNER = HeadSigner.from_seed(os.urandom(32))
_SIGNED_COLS = ["id", "key_id", "at", "heads", "signature"]
PG_ADMIN_DSN = os.environ.get("TOVHOLDER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def synthetic(entries: int, chains: int) -> Iterator[tuple[object, ...]]:
    """Chained journal rows in insertion order, hashes computed as append would."""
    tenant = str(uuid.uuid4())
    start = datetime(2025, 1, 1, tzinfo=UTC)
    per_chain = max(entries // chains, 1)
    made = 0
    for c in range(chains):
        case_id = str(uuid.uuid4())
        chain = f"case:{case_id}"
        prev = GENESIS
        signed = 0
        n = per_chain if c < chains - 1 else entries - made
        for seq in range(1, n + 1):
            at = start + timedelta(seconds=made, microseconds=made % 1000)
            eid = str(uuid.uuid4())
            content = os.urandom(100)
            mid = str(uuid.uuid4())
            iso = at.isoformat()
            row = (
                eid, tenant, chain, seq, case_id, "sms_in", "in", "sms", "SMS fra borger",
                "case", case_id, content, mid, "citizen", at, prev,
            )  # fmt: skip
            h = row_hash(prev, row, iso)
            yield (*row, h)
            prev = h
            made += 1
            if seq % SIGNED_EVERY == 0 or seq == n:
                r = signed_row(SIGNER, str(uuid.uuid4()), [(chain, signed, seq, h)], at)
                yield ("SIGNED", *(r[k] for k in _SIGNED_COLS))
                signed = seq
        yield ("HEAD", chain, tenant, n, prev)


_COLS = (
    "id, tenant_id, chain, seq, case_id, kind, direction, channel, subject, key_scope, "
    "key_owner_id, content_enc, message_id, actor, created_at, prev_hash, hash"
)


def _fill_sqlite(path: Path, entries: int, chains: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    rows: list[tuple[object, ...]] = []
    heads: list[tuple[object, ...]] = []
    signed: list[tuple[object, ...]] = []

    def flush() -> None:
        db.executemany(f"INSERT INTO journal_entries ({_COLS}) VALUES ({','.join('?' * 17)})", [
            r[:14] + (r[14].replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),) + r[15:]  # type: ignore[attr-defined]
            for r in rows
        ])  # fmt: skip
        db.executemany(
            "INSERT INTO journal_heads (chain, tenant_id, seq, hash) VALUES (?, ?, ?, ?)", heads
        )
        db.executemany(
            f"INSERT INTO journal_signed_heads ({', '.join(_SIGNED_COLS)}) VALUES (?, ?, ?, ?, ?)",
            signed,
        )
        rows.clear()
        heads.clear()
        signed.clear()

    for r in synthetic(entries, chains):
        if r[0] == "HEAD":
            heads.append(r[1:])
        elif r[0] == "SIGNED":
            signed.append(r[1:])
        else:
            rows.append(r)
        if len(rows) >= 20_000:
            flush()
    flush()
    db.commit()
    db.close()


async def _fill_pg(url: str, entries: int, chains: int) -> None:
    """COPY the synthetic rows in, 50,000 at a time, then ANALYZE (as autovacuum would)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    columns = [c.strip() for c in _COLS.split(",")]
    try:
        rows: list[tuple[object, ...]] = []
        heads: list[tuple[object, ...]] = []
        signed: list[tuple[object, ...]] = []
        # Synthetic cases and tenants do not exist: skip the foreign-key triggers.
        await conn.execute("SET session_replication_role = replica")
        for r in synthetic(entries, chains):
            if r[0] == "HEAD":
                heads.append(r[1:])
            elif r[0] == "SIGNED":
                signed.append(r[1:])
            else:
                rows.append(r)
            if len(rows) >= 50_000:
                await conn.copy_records_to_table("journal_entries", records=rows, columns=columns)
                rows.clear()
        await conn.copy_records_to_table("journal_entries", records=rows, columns=columns)
        await conn.copy_records_to_table(
            "journal_heads", records=heads, columns=["chain", "tenant_id", "seq", "hash"]
        )
        await conn.copy_records_to_table(
            "journal_signed_heads", records=signed, columns=_SIGNED_COLS
        )
        # Without statistics the planner sorts the whole table instead of walking the
        # (chain, seq) index; a live database has them.
        await conn.execute("ANALYZE journal_entries")
        await conn.execute("ANALYZE journal_heads")
    finally:
        await conn.close()


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


async def _measure(url: str, workers: int | None) -> tuple[int, float, float, bool]:
    cpu = _cpu()
    started = time.perf_counter()
    report = await verify(url, workers=workers, signing_keys=public_keys([SIGNER.public]))
    elapsed = time.perf_counter() - started
    return report.entries, elapsed, _cpu() - cpu, report.ok


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def measure(
    entries: int = 1_000_000,
    chains: int = 1_000,
    pg: bool = False,
    workers: int | None = None,
    keep: Path | None = None,
) -> list[Row]:
    """Build the synthetic journal, verify it, and return entries per second.

    Args:
        keep: a SQLite file to build into and keep (reused as is when it exists).
    """
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        path = keep or Path(tmp) / "journal.db"
        if pg:
            name = f"tovholder_bench_verify_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
            base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            url = f"{base}/{name}"
        else:
            url = f"sqlite+aiosqlite:///{path}"
        try:
            if pg or not path.exists():
                asyncio.run(_upgrade(make_engine(url)))
                print(f"  building {entries:,} entries in {chains:,} chains …", flush=True)
                t0 = time.perf_counter()
                if pg:
                    asyncio.run(_fill_pg(url, entries, chains))
                else:
                    _fill_sqlite(path, entries, chains)
                print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
            load = os.getloadavg()[0]
            print(f"  verifying (load average {load:.1f} on {os.cpu_count()} CPUs) …", flush=True)
            checked, elapsed, cpu, ok = asyncio.run(_measure(url, workers))
        finally:
            if pg:
                asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if not ok or (keep is None and checked != entries):
        raise RuntimeError(f"verify did not pass the synthetic journal ({checked} entries)")
    rate = checked / elapsed
    backend = "PostgreSQL" if pg else "SQLite"
    print(f"  journal verify ({backend}): {checked:,} entries in {elapsed:.2f} s", flush=True)
    print(
        f"  = {rate:,.0f} entries/s; the verifying process(es) used {cpu:.2f} CPU-s "
        f"({checked / cpu:,.0f} entries per CPU-second; the database's own CPU not counted)"
    )
    return [
        Row(f"journal verify, {backend} (entries/s)", round(rate), f"≥ {TARGET}", "entries/s"),
        Row(
            f"journal verify, {backend}: CPU of the verifying process(es)",
            round(cpu, 2),
            "",
            "CPU-s",
        ),
    ]


async def _upgrade(engine: object) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def run() -> list[Row]:
    """The bench harness entry point (``python -m bench``): PostgreSQL, then SQLite."""
    return measure(pg=True) + measure()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.journal_verify", description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--chains", type=int, default=1_000)
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: auto)")
    parser.add_argument("--keep", type=Path, help="SQLite file to build into and reuse")
    args = parser.parse_args(argv)
    row = measure(args.entries, args.chains, args.pg, args.workers, args.keep)[0]
    verdict = "met" if isinstance(row.measured, int) and row.measured >= TARGET else "MISSED"
    print(f"{row.metric}: {row.measured:,} (target {row.target}) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Nøglerotation: re-wrap every data key under the primary key-encryption key, online.

Each case, person and staff member has its own data key (DEK), stored in the
row's ``dek`` column wrapped by a key-encryption key (KEK). Rotating the KEK
means putting the new KEK first in ``TOVHOLDER_KEKS`` (keeping the old one
after it), restarting every process so new keys are wrapped under the new KEK,
and then running `rotate`: it re-wraps the remaining DEKs. The data sealed
under a DEK is never touched, so rotation is cheap and safe while the service
keeps running. When `check` shows no key left under the old KEK, the old KEK
can be dropped from the configuration.

Which KEK wrapped a DEK is recorded inside the wrapped blob, so rows cannot be
filtered by KEK in SQL: we page through each table by id and decide in Python.
Every batch is its own short write transaction, and every update is a
compare-and-set on the old blob, so a concurrent writer is never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Table, select, update

from bot.base.crypto import DecryptionError, KeyRing
from bot.base.services import Services
from bot.store.schema.core import cases, persons, staff
from bot.store.schema.integration import idempotency_keys, webhook_subscriptions
from bot.store.schema.triage import triage_models

log = logging.getLogger(__name__)

# The tables whose ``dek`` column holds a wrapped data key, bound to AAD
# f"dek:{table}:{row_id}" (see Services.dek).
WRAPPED_KEY_TABLES: tuple[Table, ...] = (
    cases,
    persons,
    staff,
    webhook_subscriptions,
    idempotency_keys,
    triage_models,
)

# `check` counts blobs it cannot even parse under this name instead of a KEK id.
INVALID = "invalid"


@dataclass
class TableRotation:
    """What one rotation pass did to one table's wrapped data keys."""

    rewrapped: int = 0
    already_current: int = 0
    # The row changed (or vanished) between our read and our compare-and-set;
    # it was left alone. Running `rotate` again picks it up.
    changed_concurrently: int = 0
    # Wrapped by a KEK this process does not hold, or corrupt: cannot be re-wrapped.
    unreadable: int = 0


@dataclass
class RotationReport:
    """The outcome of `rotate`: per-table counts, under which primary KEK."""

    primary_kek: str
    tables: dict[str, TableRotation] = field(default_factory=dict)

    @property
    def rewrapped(self) -> int:
        """Data keys re-wrapped under the primary KEK in this pass, over all tables."""
        return sum(t.rewrapped for t in self.tables.values())

    @property
    def already_current(self) -> int:
        """Data keys that were already wrapped under the primary KEK, over all tables."""
        return sum(t.already_current for t in self.tables.values())

    @property
    def complete(self) -> bool:
        """True when every data key seen is now under the primary KEK."""
        return all(t.changed_concurrently == 0 and t.unreadable == 0 for t in self.tables.values())

    def summary(self) -> str:
        """One plain sentence: complete or not, under which KEK, and the counts."""
        counts = f"{self.rewrapped} re-wrapped, {self.already_current} already current"
        if self.complete:
            return f"Key rotation to KEK {self.primary_kek} is complete: {counts}."
        left = sum(t.changed_concurrently + t.unreadable for t in self.tables.values())
        return (
            f"Key rotation to KEK {self.primary_kek} is NOT complete: {counts}, "
            f"{left} left as they were (changed meanwhile: run it again; "
            "unreadable: under a KEK missing from TOVHOLDER_KEKS, or corrupt)."
        )


def describe_table(name: str, done: TableRotation) -> str:
    """One line of progress for one table."""
    line = f"{name}: {done.rewrapped} re-wrapped, {done.already_current} already current"
    if done.changed_concurrently:
        line += f", {done.changed_concurrently} changed meanwhile"
    if done.unreadable:
        line += f", {done.unreadable} unreadable"
    return line


async def rotate(
    svc: Services,
    *,
    batch: int = 500,
    progress: Callable[[str, TableRotation], None] | None = None,
) -> RotationReport:
    """Re-wrap every data key that is not yet under the keyring's primary KEK.

    Safe to run while the service serves traffic, and safe to run again: a key
    already under the primary KEK is counted and left alone.

    Args:
        svc: services whose keyring has the new KEK first and every KEK still
            in use after it.
        batch: rows read and updated per write transaction.
        progress: told each table's counts as soon as the table is done.

    Returns:
        Per-table counts. ``report.complete`` is false when some keys could not
        be re-wrapped (unknown KEK, corrupt, or changed concurrently).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = RotationReport(primary_kek=svc.keyring.primary_id)
    for table in WRAPPED_KEY_TABLES:
        done = report.tables[table.name] = await _rotate_table(svc, table, batch)
        if progress is not None:
            progress(table.name, done)
    log.info(
        "key rotation to KEK %s: %d re-wrapped, %d already current, complete=%s",
        report.primary_kek,
        report.rewrapped,
        report.already_current,
        report.complete,
    )
    return report


async def _rotate_table(svc: Services, table: Table, batch: int) -> TableRotation:
    counts = TableRotation()
    async for rows in _pages(svc, table, batch):
        # Unwrap and re-wrap before opening the write transaction, to keep it short.
        pending: list[tuple[str, bytes, bytes]] = []
        for row in rows:
            try:
                new = svc.keyring.rewrap(row.dek, f"dek:{table.name}:{row.id}")
            except (DecryptionError, ValueError):
                # Unknown KEK or tampering; `check` shows which KEK ids are in use.
                # (ValueError: bot.base.crypto lets some corrupt blobs through as
                # UnicodeDecodeError or a bad-nonce ValueError.)
                counts.unreadable += 1
                log.warning(
                    "data key %s:%s cannot be unwrapped with this keyring; not rotated",
                    table.name,
                    row.id,
                )
                continue
            if new is None:
                counts.already_current += 1
            else:
                pending.append((row.id, row.dek, new))
        if pending:
            async with svc.write() as conn:
                for row_id, old, new in pending:
                    result = await conn.execute(
                        update(table)
                        .where(table.c.id == row_id, table.c.dek == old)
                        .values(dek=new)
                    )
                    if result.rowcount == 1:
                        counts.rewrapped += 1
                    else:
                        counts.changed_concurrently += 1
                        log.info(
                            "data key %s:%s changed during rotation; left for the next run",
                            table.name,
                            row_id,
                        )
        log.debug("rotated a batch of %d %s rows up to id %s", len(rows), table.name, rows[-1].id)
    log.info(
        "rotated %s: %d re-wrapped, %d already current, %d changed concurrently, %d unreadable",
        table.name,
        counts.rewrapped,
        counts.already_current,
        counts.changed_concurrently,
        counts.unreadable,
    )
    return counts


async def _pages(svc: Services, table: Table, batch: int) -> AsyncIterator[Sequence[Row[Any]]]:
    """(id, dek) rows of ``table`` in id order, ``batch`` at a time, each page its own read.

    Keyset paging (``id > last seen``) rather than OFFSET, so rows inserted or
    deleted meanwhile neither shift the pages nor make us skip a row that existed
    when we started.
    """
    after: str | None = None
    while True:
        query = select(table.c.id, table.c.dek).order_by(table.c.id).limit(batch)
        if after is not None:
            query = query.where(table.c.id > after)
        async with svc.read() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def check(svc: Services, *, batch: int = 1000) -> dict[str, dict[str, int]]:
    """How many data keys each KEK wraps, per table (for `tovholder keys status`).

    Args:
        svc: services to read the database through; the keyring is not used.
        batch: rows read per query.

    Returns:
        ``{table: {kek_id: count}}`` for every table holding wrapped keys (an
        empty dict for an empty table). Blobs in an unknown format are counted
        under ``"invalid"``.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    status: dict[str, dict[str, int]] = {}
    for table in WRAPPED_KEY_TABLES:
        counts: dict[str, int] = {}
        async for rows in _pages(svc, table, batch):
            for row in rows:
                try:
                    kid = KeyRing.wrapped_by(row.dek)
                except (DecryptionError, ValueError):
                    kid = INVALID
                counts[kid] = counts.get(kid, 0) + 1
        status[table.name] = counts
    return status


async def keys_readable(svc: Services, *, sample: int = 20) -> bool:
    """Do the data keys in use unwrap with this process's KEKs? (A readiness check.)

    Unwraps a few data keys of every table that holds them. A service started
    with the wrong ``TOVHOLDER_KEKS`` would fail every read of a thread: it is
    not ready, however well the database answers.
    """
    async with svc.read() as conn:
        for table in WRAPPED_KEY_TABLES:
            rows = (await conn.execute(select(table.c.id, table.c.dek).limit(sample))).all()
            for row in rows:
                try:
                    svc.dek(table.name, row.id, row.dek)
                except (DecryptionError, ValueError):
                    log.warning("readiness: a data key in %s does not unwrap", table.name)
                    return False
    return True

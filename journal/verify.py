"""``journal verify``: prove the journal complete and untampered, or name where it is not.

Every chain is read in ``seq`` order. For each entry the hash is recomputed
from its fields and its ``prev_hash`` must be the previous entry's hash; seq
numbers must run 1, 2, 3, … without a gap; the chain's head must name the
last entry. Finally the heads written to the external sink (see
:mod:`journal.sink`) must still be in the chain with the same hash: that
catches a rewrite of the whole database, which the chain alone cannot.

A case journal removed at the end of its retention period (see
:mod:`journal.retention`) left a ``journal_retention`` record and a ``retired``
line in the sink naming its final head: the sink's anchors of that chain up to
the retired line are set aside, so the removal is not reported. A chain that is
gone without both — or whose sink anchors contradict the record — still is.

Only the first problem of each chain is reported: after it, every later
entry is suspect anyway.

Speed matters (a municipality's journal grows by millions of entries):

- rows are read with the database driver itself (sqlite3, asyncpg), not
  through SQLAlchemy's result machinery, and the database formats the time;
- :func:`row_hash` produces exactly the bytes :func:`journal.journal.entry_hash`
  hashes by string formatting, falling back to the generic JSON encoder only
  when a value would need escaping;
- a large journal is split by chain into ranges verified in parallel worker
  processes.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import hashlib
import multiprocessing
import os
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from journal.sinkfile import Anchor, read_sink

# The fields of an entry, in the order verify reads them.
COLUMNS = (
    "id",
    "tenant_id",
    "chain",
    "seq",
    "case_id",
    "kind",
    "direction",
    "channel",
    "subject",
    "key_scope",
    "key_owner_id",
    "content_enc",
    "message_id",
    "actor",
    "created_at",
    "prev_hash",
    "hash",
)

# The canonical serialisation entry_hash builds (sorted keys, compact separators).
_TEMPLATE = (
    '%s\n{"actor":"%s","case_id":%s,"chain":"%s","channel":"%s","content_enc":%s,'
    '"created_at":"%s","direction":"%s","id":"%s","key_owner_id":%s,"key_scope":%s,'
    '"kind":"%s","message_id":%s,"seq":%d,"subject":"%s","tenant_id":"%s"}'
)
_b64 = binascii.b2a_base64
_sha256 = hashlib.sha256
# Exactly what json.dumps(..., ensure_ascii=False) escapes in a string: without any of
# these, a value goes into the template as it is.
_needs_escape = re.compile(r'[\x00-\x1f"\\]').search

# The hash an empty chain starts from (journal.journal.GENESIS; this module imports
# only the standard library, so verify's worker processes start fast).
GENESIS = "0" * 64

# Below this many entries, verify in this process; above, in worker processes.
PARALLEL_FROM = 200_000


def iso_utc(text: str) -> str:
    """``datetime.isoformat()`` of a UTC time written ``YYYY-MM-DD?HH:MM:SS[.ffffff]``."""
    if len(text) == 26 and text[19] == ".":
        if text.endswith("000000"):
            return f"{text[:10]}T{text[11:19]}+00:00"
        return f"{text[:10]}T{text[11:]}+00:00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def row_hash(prev_hash: str, r: Sequence[Any], created_iso: str) -> str:
    """Exactly ``entry_hash(row, prev_hash)`` for a row in :data:`COLUMNS` order.

    Args:
        prev_hash: the hash this entry is chained to.
        r: the entry's fields in :data:`COLUMNS` order (only the first 14 are read).
        created_iso: ``created_at.isoformat()`` of the entry's (UTC) time.
    """
    (id_, tenant, chain, seq, case_id, kind, direction, channel, subject,
     key_scope, key_owner, content, message_id, actor) = r[:14]  # fmt: skip
    try:
        text = "|".join(
            (id_, tenant, chain, kind, direction, channel, subject, actor, created_iso,
             case_id or "", key_scope or "", key_owner or "", message_id or "")
        )  # fmt: skip
        # Anything JSON would escape (", \\, control characters) takes the slow path.
        fast = type(seq) is int and _needs_escape(text) is None
    except TypeError:  # a None or a non-string where text belongs
        fast = False
    if not fast:
        return _slow_hash(prev_hash, r, created_iso)
    data = _TEMPLATE % (
        prev_hash,
        actor,
        "null" if case_id is None else f'"{case_id}"',
        chain,
        channel,
        f'"{_b64(content, newline=False).decode()}"' if content else "null",
        created_iso,
        direction,
        id_,
        "null" if key_owner is None else f'"{key_owner}"',
        "null" if key_scope is None else f'"{key_scope}"',
        kind,
        "null" if message_id is None else f'"{message_id}"',
        seq,
        subject,
        tenant,
    )
    return _sha256(data.encode()).hexdigest()


class _IsoTime(datetime):
    """A datetime whose isoformat is a given string, to feed entry_hash unchanged."""

    iso = ""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return self.iso


def _slow_hash(prev_hash: str, r: Sequence[Any], created_iso: str) -> str:
    from journal.journal import entry_hash

    row = dict(zip(COLUMNS[:14], r[:14], strict=True))
    stamp = _IsoTime(2000, 1, 1)
    stamp.iso = created_iso
    row["created_at"] = stamp
    return entry_hash(row, prev_hash)


# -- the report ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with one chain.

    kind: ``changed`` (an entry's fields no longer match its hash),
    ``reordered`` (an entry does not follow the one before it: moved, or an
    entry before it removed or replaced), ``backdated`` (dated before the
    entry it follows), ``removed`` (a seq number is
    missing, or the head or the sink names entries that are gone), ``head``
    (the head row disagrees with the chain), ``rewritten`` (the chain differs
    from the copy in the heads sink) or ``sink`` (the sink file is damaged).
    """

    chain: str
    kind: str
    seq: int | None
    entry_id: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.chain} #{self.seq}" if self.seq is not None else self.chain
        who = f" (entry {self.entry_id})" if self.entry_id else ""
        return f"{where}{who}: {self.kind}: {self.detail}"


@dataclass(slots=True)
class VerifyReport:
    """What verify found: counts, and the first problem of every damaged chain."""

    chains: int = 0
    entries: int = 0
    anchors_checked: int = 0
    sink: str = "not configured"
    problems: list[Problem] = field(default_factory=list)
    # Chains removed by the retention job: records the heads sink confirms (``unproven``:
    # records it does not, or every record when verify has no sink to ask).
    retired: int = 0
    unproven: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        facts = (
            f"{self.entries} entries in {self.chains} chains; "
            f"heads sink: {self.sink} ({self.anchors_checked} anchors checked)"
        )
        if self.retired:
            facts += f"; {self.retired} chains removed at the end of their retention period"
        if self.unproven:
            facts += f"; {self.unproven} retention records not proven by the heads sink"
        if self.ok:
            return f"journal OK: {facts}"
        lines = [f"journal NOT OK: {len(self.problems)} problem(s); {facts}"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


# -- the checker --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


Anchors = dict[str, dict[int, list[Anchor]]]


@dataclass(slots=True)
class RangeResult:
    """One checker's findings, mergeable with others (and picklable)."""

    chains: int = 0
    entries: int = 0
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    # Chains that had no head when the heads were read (new since, or tampered with):
    # their last seq and every hash, to judge against the heads read again at the end.
    headless: dict[str, tuple[int, dict[int, str]]] = field(default_factory=dict)


class ChainChecker:
    """Feed it entries sorted by (chain, seq); it collects what is wrong.

    Args:
        heads: every chain's head row (at least those of the chains fed).
        anchors: per chain, seq → what the heads sink holds for it.
    """

    def __init__(self, heads: dict[str, Head], anchors: Anchors | None = None) -> None:
        self.heads = heads
        self.anchors = anchors or {}
        self.result = RangeResult()
        self._chain: str | None = None
        self._expect = 1
        self._prev = GENESIS
        self._failed = False
        self._last_id: str | None = None
        self._last_at = ""
        self._head_seq: int | None = None
        self._at_head: str | None = None
        self._hashes: dict[int, str] | None = None

    def feed(self, rows: Iterable[Sequence[Any]]) -> None:
        """Check rows in :data:`COLUMNS` order, ``created_at`` as UTC text.

        Rows of one chain may arrive over several calls, as long as the order holds.
        """
        # The state lives in locals while the loop runs (this runs once per entry, and
        # a local is cheaper than an attribute); the rare turns are methods.
        result = self.result
        problems = result.problems
        chain_now, expect, prev = self._chain, self._expect, self._prev
        failed, last_id, last_at = self._failed, self._last_id, self._last_at
        head_seq, at_head, hashes = self._head_seq, self._at_head, self._hashes
        anchors = self.anchors.get(chain_now) if chain_now is not None else None
        count = 0
        for r in rows:
            count += 1
            (id_, tenant, chain, seq, case_id, kind, direction, channel, subject, key_scope,
             key_owner, content, message_id, actor, text, prev_hash, stored) = r  # fmt: skip
            if chain != chain_now:
                if chain_now is not None:
                    self._finish(chain_now, expect - 1, last_id, failed, at_head, hashes)
                chain_now, expect, prev, failed, last_id, at_head, last_at = (
                    chain,
                    1,
                    GENESIS,
                    False,
                    None,
                    None,
                    "",
                )
                head_seq, hashes, anchors = self._start(chain)
            if failed:
                continue
            if seq != expect:
                problems.append(_gap(chain, expect, seq))
                failed = True
                continue
            # iso_utc, written out: a call per entry costs more than the rest of this.
            if len(text) == 26 and text[19] == ".":
                if text.endswith("000000"):
                    created = f"{text[:10]}T{text[11:19]}+00:00"
                else:
                    created = f"{text[:10]}T{text[11:]}+00:00"
            else:
                created = iso_utc(text)
            if prev_hash != prev:
                altered = row_hash(prev_hash, r, created) != stored
                problems.append(_misplaced(chain, seq, id_, altered=altered))
                failed = True
                continue
            if row_hash(prev, r, created) != stored:
                problems.append(
                    Problem(
                        chain,
                        "changed",
                        seq,
                        id_,
                        "its fields no longer match its hash: the entry was altered",
                    )
                )
                failed = True
                continue
            # A chain's time runs forward (appends lock its head): an entry earlier than
            # the one before it was backdated, or forged and slipped in after it.
            if created < last_at:
                problems.append(_backdated(chain, seq, id_, created, last_at))
                failed = True
                continue
            if anchors is not None and seq in anchors:
                rewritten = self._check_anchors(chain, seq, id_, stored, anchors[seq])
                if rewritten is not None:
                    problems.append(rewritten)
                    failed = True
                    continue
            prev = stored
            last_id = id_
            last_at = created
            expect += 1
            if seq == head_seq:
                at_head = stored
            if hashes is not None:
                hashes[seq] = stored
        result.entries += count
        self._chain, self._expect, self._prev = chain_now, expect, prev
        self._failed, self._last_id, self._last_at = failed, last_id, last_at
        self._head_seq, self._at_head, self._hashes = head_seq, at_head, hashes

    def _start(
        self, chain: str
    ) -> tuple[int | None, dict[int, str] | None, dict[int, list[Anchor]] | None]:
        """Count a new chain in; its head's seq, its hashes to keep and its sink anchors.

        The hashes are kept (an empty dict to fill) only for a chain without a head row:
        it is judged at the end, against the heads read again.
        """
        head = self.heads.get(chain)
        self.result.seen.add(chain)
        self.result.chains += 1
        if head is None:
            return None, {}, self.anchors.get(chain)
        return head.seq, None, self.anchors.get(chain)

    def _check_anchors(
        self, chain: str, seq: int, entry_id: str, stored: str, group: list[Anchor]
    ) -> Problem | None:
        """Count the sink's anchors of entry ``seq``; the problem if one has another hash."""
        found = None
        for a in group:
            self.result.anchors_checked += 1
            if a.hash != stored and found is None:
                found = Problem(
                    chain,
                    "rewritten",
                    seq,
                    entry_id,
                    f"differs from the head anchored in the sink at {a.at} "
                    f"(line {a.line}): the chain was rewritten at or before #{seq}",
                )
        return found

    def _finish(
        self,
        chain: str,
        last_seq: int,
        last_id: str | None,
        failed: bool,
        at_head: str | None,
        hashes: dict[int, str] | None,
    ) -> None:
        if failed:
            return
        head = self.heads.get(chain)
        if head is None:
            self.result.headless[chain] = (last_seq, hashes or {})
            return
        self.result.problems += judge_head(chain, head, last_seq, last_id, at_head, self.anchors)

    def close(self) -> RangeResult:
        """Finish the last chain fed."""
        if self._chain is not None:
            self._finish(
                self._chain,
                self._expect - 1,
                self._last_id,
                self._failed,
                self._at_head,
                self._hashes,
            )
            self._chain = None
        return self.result


def _gap(chain: str, expect: int, seq: int) -> Problem:
    """Entry ``expect`` is missing: the chain goes on at ``seq``."""
    return Problem(
        chain,
        "removed",
        expect,
        None,
        f"entry #{expect} is missing: the chain jumps from #{expect - 1} to #{seq}",
    )


def _backdated(chain: str, seq: int, entry_id: str, created: str, before: str) -> Problem:
    """Entry ``seq`` is dated before the entry it follows."""
    return Problem(
        chain,
        "backdated",
        seq,
        entry_id,
        f"dated {created}, before #{seq - 1} ({before}): time runs backwards, "
        "so the entry was backdated or forged",
    )


def _misplaced(chain: str, seq: int, entry_id: str, *, altered: bool) -> Problem:
    """Entry ``seq`` does not name the one before it (``altered``: nor matches its own hash)."""
    detail = (
        f"does not follow #{seq - 1}: it was moved, or an entry before it was removed or replaced"
    )
    if altered:
        detail = "its fields no longer match its hash, and it " + detail
        return Problem(chain, "changed", seq, entry_id, detail)
    return Problem(chain, "reordered", seq, entry_id, detail)


def _cut_short(chain: str, last_seq: int, detail: str) -> list[Problem]:
    """The chain ends at ``last_seq`` where something says it goes on."""
    return [Problem(chain, "removed", last_seq + 1, None, detail)]


def judge_head(
    chain: str,
    head: Head,
    last_seq: int,
    last_id: str | None,
    at_head: str | None,
    anchors: Anchors,
) -> list[Problem]:
    """Does an intact chain end where its head and the heads sink say it does?

    The chain may run past its head: entries appended while verify was reading
    (the head was read first). It may not stop short of it.
    """
    if head.seq > last_seq:
        return _cut_short(
            chain,
            last_seq,
            f"the head names #{head.seq} but the chain ends at #{last_seq}: "
            "its last entries were removed",
        )
    if head.hash != at_head:
        return [
            Problem(
                chain,
                "head",
                head.seq,
                last_id if head.seq == last_seq else None,
                f"the head does not match entry #{head.seq}: the head or the entry was altered",
            )
        ]
    later = [a for seq, group in anchors.get(chain, {}).items() if seq > last_seq for a in group]
    if later:
        a = min(later, key=lambda x: x.seq)
        return _cut_short(
            chain,
            last_seq,
            f"the heads sink anchored #{a.seq} at {a.at} (line {a.line}) but the chain "
            f"ends at #{last_seq}: entries were removed",
        )
    return []


def _missing_chains(
    heads: dict[str, Head], anchors: Anchors, seen: set[str], retired: Retired | None = None
) -> list[Problem]:
    """Chains the heads or the sink know of that have no entries at all."""
    retired = retired or {}
    problems = []
    for chain, head in sorted(heads.items()):
        if chain not in seen and head.seq > 0:
            problems.append(
                Problem(chain, "removed", 1, None,
                        f"the head names #{head.seq} but the chain has no entries")
            )  # fmt: skip
    for chain, by_seq in sorted(anchors.items()):
        if chain not in seen and chain not in heads:
            why = (
                "; the retention record has no matching retired line in the sink"
                if chain in retired
                else ""
            )
            problems.append(
                Problem(chain, "removed", 1, None,
                        f"the heads sink anchored #{max(by_seq)} but the chain is gone{why}")
            )  # fmt: skip
        elif chain not in seen and heads[chain].seq == 0:
            problems.append(
                Problem(chain, "removed", 1, None,
                        f"the heads sink anchored #{max(by_seq)} but the chain is empty")
            )  # fmt: skip
    return problems


# -- reading the database -----------------------------------------------------------

_SQLITE_SELECT = f"SELECT {', '.join(COLUMNS)} FROM journal_entries"
_PG_SELECT = "SELECT " + ", ".join(
    c
    if c != "created_at"
    else "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    for c in COLUMNS
) + " FROM journal_entries"  # fmt: skip


def _where(lo: str | None, hi: str | None, mark: str) -> tuple[str, list[str]]:
    clauses, args = [], []
    if lo is not None:
        args.append(lo)
        clauses.append(f"chain >= {mark if mark == '?' else f'${len(args)}'}")
    if hi is not None:
        args.append(hi)
        clauses.append(f"chain < {mark if mark == '?' else f'${len(args)}'}")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return where + " ORDER BY chain, seq", args


def _pg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` → the libpq-style DSN asyncpg takes."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise ValueError("not a PostgreSQL URL")
    return f"postgresql://{rest}"


def _sqlite_path(url: str) -> str:
    """``sqlite+aiosqlite:///path`` → ``path``."""
    _, sep, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if not sep or not path or path == ":memory:":
        raise ValueError("verify needs a file-backed SQLite database")
    return path


def _sqlite_ro(url: str) -> sqlite3.Connection:
    """A read-only connection: verify never writes, not even by accident."""
    return sqlite3.connect(f"{Path(_sqlite_path(url)).resolve().as_uri()}?mode=ro", uri=True)


def _check_sqlite(
    url: str, lo: str | None, hi: str | None, heads: dict[str, Head], anchors: Anchors,
    batch: int,
) -> RangeResult:  # fmt: skip
    checker = ChainChecker(heads, anchors)
    where, args = _where(lo, hi, "?")
    db = _sqlite_ro(url)
    try:
        cur = db.execute(_SQLITE_SELECT + where, args)
        while rows := cur.fetchmany(batch):
            checker.feed(rows)
    finally:
        db.close()
    return checker.close()


async def _check_pg(
    url: str, lo: str | None, hi: str | None, heads: dict[str, Head], anchors: Anchors,
    batch: int,
) -> RangeResult:  # fmt: skip
    import asyncpg

    checker = ChainChecker(heads, anchors)
    where, args = _where(lo, hi, "$")
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        async with conn.transaction(readonly=True):
            cur = await conn.cursor(_PG_SELECT + where, *args)
            ahead = asyncio.ensure_future(cur.fetch(batch))
            try:
                while rows := await ahead:
                    # Ask for the next batch before checking this one, and let the request
                    # go out: PostgreSQL reads and sends while this process hashes.
                    ahead = asyncio.ensure_future(cur.fetch(batch))
                    await asyncio.sleep(0)
                    checker.feed(rows)
            finally:
                if not ahead.done():  # the connection must be idle before it is closed
                    with contextlib.suppress(Exception):
                        await ahead
    finally:
        await conn.close()
    return checker.close()


def _check_range(
    url: str, lo: str | None, hi: str | None, heads: dict[str, Head], anchors: Anchors,
    batch: int,
) -> RangeResult:  # fmt: skip
    """One worker's share (runs in a worker process)."""
    if url.startswith("sqlite"):
        return _check_sqlite(url, lo, hi, heads, anchors, batch)
    # A forked child still believes the parent's event loop is running in this
    # thread (Python < 3.12), so its own loop runs in a fresh thread.
    with ThreadPoolExecutor(max_workers=1) as one:
        return one.submit(asyncio.run, _check_pg(url, lo, hi, heads, anchors, batch)).result()


def _sqlite_heads(url: str) -> tuple[list[Any], int, list[Any]]:
    db = _sqlite_ro(url)
    try:
        rows = db.execute(_HEADS_SQL).fetchall()
        anchored = int(db.execute(_ANCHORED_SQL).fetchone()[0])
        return rows, anchored, db.execute(_RETIRED_SQL).fetchall()
    finally:
        db.close()


_HEADS_SQL = "SELECT chain, seq, hash FROM journal_heads"
_ANCHORED_SQL = "SELECT count(*) FROM journal_anchors"


async def _load_heads(url: str) -> tuple[dict[str, Head], int, Retired]:
    """Every chain head, how many chains the heads sink should know, and retired chains."""
    if url.startswith("sqlite"):
        # Read here, not in a thread: worker processes fork best from one thread.
        rows, anchored, records = _sqlite_heads(url)
    else:
        import asyncpg

        conn = await asyncpg.connect(_pg_dsn(url))
        try:
            rows = list(await conn.fetch(_HEADS_SQL))
            anchored = int(await conn.fetchval(_ANCHORED_SQL))
            records = list(await conn.fetch(_RETIRED_SQL))
        finally:
            await conn.close()
    retired: Retired = defaultdict(set)
    for r in records:
        retired[r[0]].add((r[1], r[2]))
    return {r[0]: Head(r[1], r[2]) for r in rows}, anchored, dict(retired)


def _pool_context() -> BaseContext:
    """fork when this process has one thread (cheap, nothing re-imported), else spawn."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _split(heads: dict[str, Head], parts: int) -> list[tuple[str | None, str | None]]:
    """Chain ranges [lo, hi) of about equal entry counts covering every possible chain."""
    if parts <= 1 or len(heads) < parts:
        return [(None, None)]
    chains = sorted(heads)
    total = sum(h.seq for h in heads.values())
    bounds: list[str | None] = [None]
    acc = 0
    for chain in chains:
        if acc >= total * len(bounds) / parts and len(bounds) < parts:
            bounds.append(chain)
        acc += heads[chain].seq
    bounds.append(None)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


# chain -> the (final seq, final hash) of every retention record of that chain.
Retired = dict[str, set[tuple[int, str]]]

_RETIRED_SQL = "SELECT chain, final_seq, final_hash FROM journal_retention"


def retire_anchors(found: Sequence[Anchor], retired: Retired) -> list[Anchor]:
    """The sink's anchors, without those of chains the retention job removed.

    A chain's anchors are set aside up to its last retired line that matches a
    retention record (and, after it, any anchor of that same final head: a heads
    tick racing the removal). Retired lines without a record set nothing aside.
    """
    cut: dict[str, int] = {}
    for a in found:
        if a.retired and (a.seq, a.hash) in retired.get(a.chain, ()):
            cut[a.chain] = max(cut.get(a.chain, 0), a.line)
    return [
        a
        for a in found
        if not a.retired
        and not (a.chain in cut and (a.line <= cut[a.chain] or (a.seq, a.hash) in retired[a.chain]))
    ]


def proven_retirements(found: Sequence[Anchor], retired: Retired) -> set[str]:
    """The retired chains whose retention record matches a retired line of the sink."""
    return {a.chain for a in found if a.retired and (a.seq, a.hash) in retired.get(a.chain, ())}


def group_anchors(anchors: Iterable[Anchor]) -> Anchors:
    grouped: dict[str, dict[int, list[Anchor]]] = defaultdict(lambda: defaultdict(list))
    for a in anchors:
        grouped[a.chain][a.seq].append(a)
    return {c: dict(s) for c, s in grouped.items()}


async def _read_heads_sink(
    report: VerifyReport, sink: Path, sink_key: bytes, anchored: int, retired: Retired
) -> tuple[Anchors, set[str]]:
    """Read the heads sink into the report: its anchors, and the retirements it proves."""
    if not await asyncio.to_thread(sink.exists):
        report.sink = "missing"
        if anchored:
            report.problems.append(
                Problem(str(sink), "sink", None, None,
                        f"the heads sink is missing, but {anchored} chains were anchored")
            )  # fmt: skip
        return {}, set()
    found, damage = await asyncio.to_thread(read_sink, sink, sink_key)
    report.sink = f"{len(found)} lines"
    report.problems += [
        Problem(str(sink), "sink", None, None, f"line {d.line}: {d.reason}") for d in damage
    ]
    return group_anchors(retire_anchors(found, retired)), proven_retirements(found, retired)


async def _check_all(
    database_url: str, heads: dict[str, Head], anchors: Anchors, workers: int | None, batch: int
) -> list[RangeResult]:
    """Check every chain: in this process, or split by chain over worker processes."""
    if workers is None:
        total = sum(h.seq for h in heads.values())
        workers = min(os.cpu_count() or 1, 8) if total >= PARALLEL_FROM else 0
    ranges = _split(heads, workers)
    if workers <= 1 or len(ranges) == 1:
        if database_url.startswith("sqlite"):
            return [
                await asyncio.to_thread(
                    _check_sqlite, database_url, None, None, heads, anchors, batch
                )
            ]
        return [await _check_pg(database_url, None, None, heads, anchors, batch)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=_pool_context()) as pool:
        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(
                        pool, _check_range, database_url, lo, hi, heads, anchors, batch
                    )
                    for lo, hi in ranges
                )
            )
        )


async def _judge_headless(
    database_url: str, headless: dict[str, tuple[int, dict[int, str]]], anchors: Anchors
) -> list[Problem]:
    """Chains begun while we read, or whose head row is gone: judged on the heads read again."""
    if not headless:
        return []
    problems: list[Problem] = []
    fresh, _, _ = await _load_heads(database_url)
    for chain, (last_seq, hashes) in sorted(headless.items()):
        head = fresh.get(chain)
        if head is None:
            problems.append(Problem(chain, "head", None, None, "the chain has no head row"))
        elif head.seq <= last_seq:
            problems += judge_head(chain, head, last_seq, None, hashes.get(head.seq), anchors)
    return problems


def _unproven_retirements(
    retired: Retired, proven: set[str], heads: dict[str, Head], named: set[str]
) -> list[Problem]:
    """Retention records of vanished chains that the heads sink does not confirm."""
    return [
        Problem(chain, "retention", max(seq for seq, _ in finals), None,
                "a retention record names this chain, but the heads sink has no retired line "
                "for it: the removal is not proven")
        for chain, finals in sorted(retired.items())
        if chain not in proven and chain not in named and chain not in heads
    ]  # fmt: skip


async def verify(
    database_url: str,
    *,
    sink: Path | None = None,
    sink_key: bytes | None = None,
    workers: int | None = None,
    batch: int = 5000,
) -> VerifyReport:
    """Verify every chain in the database, and against the heads sink when one is given.

    Args:
        database_url: the SQLAlchemy URL of the database (SQLite file or PostgreSQL).
        sink: the heads-sink file (``TOVHOLDER_JOURNAL_HEADS_SINK``), if any.
        sink_key: its HMAC key.
        workers: processes to verify in; by default one per CPU for a large journal
            (at least :data:`PARALLEL_FROM` entries), else none (this process).
        batch: rows fetched per round trip.
    """
    report = VerifyReport()
    anchors: Anchors = {}
    heads, anchored, retired = await _load_heads(database_url)
    proven: set[str] = set()
    if sink is not None and sink_key is not None:
        anchors, proven = await _read_heads_sink(report, sink, sink_key, anchored, retired)
    results = await _check_all(database_url, heads, anchors, workers, batch)
    seen: set[str] = set()
    headless: dict[str, tuple[int, dict[int, str]]] = {}
    for r in results:
        report.chains += r.chains
        report.entries += r.entries
        report.anchors_checked += r.anchors_checked
        report.problems += r.problems
        seen |= r.seen
        headless |= r.headless
    report.problems += await _judge_headless(database_url, headless, anchors)
    report.problems += _missing_chains(heads, anchors, seen, retired)
    # A retention record is written by whoever can write the database: only one the sink
    # confirms (a retired line under the key the database never sees) counts as removed.
    report.retired = len(proven)
    report.unproven = len(retired) - len(proven)
    if sink is not None and sink_key is not None:
        report.problems += _unproven_retirements(
            retired, proven, heads, {p.chain for p in report.problems}
        )
    return report

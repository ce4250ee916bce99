"""``journal verify``: prove the journal complete and untampered, or name where it is not.

Every chain is read in ``seq`` order. For each entry the hash is recomputed
from its fields and its ``prev_hash`` must be the previous entry's hash; seq
numbers must run 1, 2, 3, … without a gap; the chain's head must name the
last entry; time runs forward. With the signer's public keys, every entry
must lie under a signed head (:mod:`journal.signing`) that still matches. The
heads in the external sink (:mod:`journal.sink`) must still be in the chain:
that catches a rewrite of the whole database, which the chain alone cannot.

A case journal removed at the end of its retention period (see
:mod:`journal.retention`) left a ``journal_retention`` record and a ``retired``
line in the sink naming its final head: the sink's anchors of that chain up to
the retired line are set aside, so the removal is not reported. A chain that is
gone without both — or whose sink anchors contradict the record — still is.

An unassigned entry whose content went with its removed case keeps its hash
unrecomputed only under a signed redaction that pins the rest of it
(:mod:`journal.redacted`); a cleared entry without one is ``changed``.

Only the first problem of each chain is reported: after it, every later
entry is suspect anyway.

Speed matters (a municipality's journal grows by millions of entries):

- rows are read with the database driver itself (sqlite3, asyncpg), not
  through SQLAlchemy's result machinery, and the database formats the time;
- hashes are recomputed by string formatting (:mod:`journal.rowhash`);
- a large journal is split by chain into ranges verified in parallel worker
  processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from journal.dbread import pg_dsn, queries, query, sqlite_ro
from journal.redacted import COLUMNS as REDACTION_COLUMNS
from journal.redacted import REDACTED, Redacted
from journal.redacted import judge as judge_redactions
from journal.rowhash import COLUMNS, iso_utc, row_hash
from journal.signing import Points, SignedHeads, compare_sink, last_good, signed_heads
from journal.sinkfile import (
    Anchor,
    Retired,
    SignedLine,
    proven_retirements,
    read_sink_all,
    retire_anchors,
)

# The hash an empty chain starts from (journal.journal.GENESIS; this module imports
# only the standard library, so verify's worker processes start fast).
GENESIS = "0" * 64

# How far an entry may be dated before the one it follows: appends read the clock
# before they lock the head (a batch, a slow lock), and hosts' clocks differ a little.
BACKDATE_TOLERANCE = timedelta(minutes=5)

_ALTERED = "its fields no longer match its hash: the entry was altered"

# Below this many entries, verify in this process; above, in worker processes.
PARALLEL_FROM = 200_000

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
    from the copy in the heads sink or from a signed head), ``unsigned`` (entries
    no signed head covers), ``signature`` (a signed head's signature is wrong),
    ``retention`` (a removal the sink does not prove) or ``sink`` (the sink file
    is damaged).
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
    signed: str = "not checked"
    problems: list[Problem] = field(default_factory=list)
    # Chains removed by the retention job: records the heads sink confirms (``unproven``:
    # records it does not, or every record when verify has no sink to ask).
    retired: int = 0
    unproven: int = 0
    # Entries whose content retention removed with their case, under a signed redaction.
    redacted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        facts = (
            f"{self.entries} entries in {self.chains} chains; "
            f"heads sink: {self.sink} ({self.anchors_checked} anchors checked); "
            f"signatures: {self.signed}"
        )
        if self.retired:
            facts += f"; {self.retired} chains removed at the end of their retention period"
        if self.unproven:
            facts += f"; {self.unproven} retention records not proven by the heads sink"
        if self.redacted:
            facts += f"; {self.redacted} entries' content removed with their case (redacted)"
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
    redacted: int = 0
    problems: list[Problem] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    # Chains that had no head when the heads were read (new since, or tampered with):
    # their last seq and every hash, to judge against the heads read again at the end.
    headless: dict[str, tuple[int, dict[int, str]]] = field(default_factory=dict)
    # Chains that run past their last signed head (signed since, or forged): the last
    # signed seq, the last seq and its hash, to judge against the signed heads read again.
    unsigned: dict[str, tuple[int, int, str]] = field(default_factory=dict)


class ChainChecker:
    """Feed it entries sorted by (chain, seq); it collects what is wrong.

    Args:
        heads: every chain's head row (at least those of the chains fed).
        anchors: per chain, seq → what the heads sink holds for it.
    """

    def __init__(
        self,
        heads: dict[str, Head],
        anchors: Anchors | None = None,
        signed: Points | None = None,
        redacted: Redacted | None = None,
    ) -> None:
        self.heads = heads
        self.anchors = anchors or {}
        # Per chain, seq → the signed redaction of its content (journal.redacted).
        self.redacted = redacted or {}
        # Per chain, seq → its signed head (journal.signing); None: signatures not checked.
        self.signed = signed
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
        # The current chain's sink anchors and signed heads, and the seqs they name.
        self._anchors: dict[int, list[Anchor]] = {}
        self._signed: dict[int, tuple[str, str, int]] = {}
        self._watch: set[int] = set()

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
        watch = self._watch
        count = 0
        for r in rows:
            count += 1
            (id_, tenant, chain, seq, case_id, kind, direction, channel, subject, key_scope,
             key_owner, content, message_id, actor, text, prev_hash, stored) = r  # fmt: skip
            if chain != chain_now:
                if chain_now is not None:
                    self._finish(chain_now, expect - 1, last_id, failed, at_head, hashes, prev)
                chain_now, expect, prev, failed, last_id, at_head, last_at = (
                    chain,
                    1,
                    GENESIS,
                    False,
                    None,
                    None,
                    "",
                )
                head_seq, hashes, watch = self._start(chain)
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
                if content is not None or not self._redaction_holds(chain, seq, r, created):
                    problems.append(Problem(chain, "changed", seq, id_, _ALTERED))
                    failed = True
                    continue
                result.redacted += 1
            # Time running backwards, or a head the sink or a signature vouches for.
            if seq in watch or created < last_at:
                found = self._rare(chain, seq, id_, stored, created, last_at)
                if found is not None:
                    problems.append(found)
                    failed = True
                    continue
                created = max(created, last_at)  # a tolerated step back keeps the latest
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
        self._watch = watch

    def _redaction_holds(self, chain: str, seq: int, r: Sequence[Any], created: str) -> bool:
        """Was entry ``seq``'s content removed under a signed redaction that pins the rest?"""
        point = self.redacted.get(chain, {}).get(seq)
        return point is not None and (
            point[0] == r[-1] and row_hash(REDACTED, r, created) == point[1]
        )

    def _rare(
        self, chain: str, seq: int, entry_id: str, stored: str, created: str, last_at: str
    ) -> Problem | None:
        """The checks few entries need: time order, sink anchors, signed heads."""
        # A chain's time runs forward (appends lock its head): an entry earlier than
        # the one before it was backdated, or forged and slipped in after it. Writers
        # read the clock before they lock the head, so a small step back is honest.
        if created < last_at:
            back = datetime.fromisoformat(last_at) - datetime.fromisoformat(created)
            if back > BACKDATE_TOLERANCE:
                return _backdated(chain, seq, entry_id, created, last_at)
        group = self._anchors.get(seq)
        if group is not None:
            rewritten = self._check_anchors(chain, seq, entry_id, stored, group)
            if rewritten is not None:
                return rewritten
        point = self._signed.get(seq)
        if point is not None and point[0] != stored:
            return _unlike_signed(chain, seq, entry_id, self._signed)
        return None

    def _start(self, chain: str) -> tuple[int | None, dict[int, str] | None, set[int]]:
        """Count a new chain in; its head's seq, its hashes to keep, the seqs to watch.

        The hashes are kept (an empty dict to fill) only for a chain without a head row:
        it is judged at the end, against the heads read again. The seqs watched are
        those the sink anchored or a signature covers.
        """
        head = self.heads.get(chain)
        self.result.seen.add(chain)
        self.result.chains += 1
        self._anchors = self.anchors.get(chain, {})
        self._signed = self.signed.get(chain, {}) if self.signed is not None else {}
        watch = set(self._anchors) | set(self._signed)
        if head is None:
            return None, {}, watch
        return head.seq, None, watch

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
        last_hash: str = GENESIS,
    ) -> None:
        if failed:
            return
        head = self.heads.get(chain)
        if self.signed is not None:
            found = self._judge_signed(chain, head, last_seq, last_hash)
            if found is not None:
                self.result.problems.append(found)
                return
        if head is None:
            self.result.headless[chain] = (last_seq, hashes or {})
            return
        self.result.problems += judge_head(chain, head, last_seq, last_id, at_head, self.anchors)

    def _judge_signed(
        self, chain: str, head: Head | None, last_seq: int, last_hash: str
    ) -> Problem | None:
        """Does the chain end at its last signed head? (Past it: judged at the end.)"""
        assert self.signed is not None
        top = max(self.signed.get(chain) or (0,))
        if last_seq < top:
            return Problem(chain, "removed", last_seq + 1, None,
                           f"#{top} was signed but the chain ends at #{last_seq}: "
                           "its last entries were removed")  # fmt: skip
        if head is not None and head.seq < top:
            return Problem(chain, "head", head.seq, None,
                           f"the head names #{head.seq} but #{top} was signed: "
                           "the head was moved back")  # fmt: skip
        if last_seq > top:
            self.result.unsigned[chain] = (top, last_seq, last_hash)
        return None

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
                self._prev,
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


def _unlike_signed(
    chain: str, seq: int, entry_id: str, points: dict[int, tuple[str, str, int]]
) -> Problem:
    """Entry ``seq`` is not the head signed there: name the first entry after the last match."""
    good = last_good(points, seq)
    return Problem(
        chain,
        "rewritten",
        good + 1,
        entry_id if good + 1 == seq else None,
        f"the chain differs from the head signed at #{seq} (signed heads {points[seq][1]}) "
        f"but matches the one signed at #{good}: it was rewritten from #{good + 1} on",
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


def _check_sqlite(
    url: str, lo: str | None, hi: str | None, heads: dict[str, Head], anchors: Anchors,
    batch: int, signed: Points | None = None, redacted: Redacted | None = None,
) -> RangeResult:  # fmt: skip
    checker = ChainChecker(heads, anchors, signed, redacted)
    where, args = _where(lo, hi, "?")
    db = sqlite_ro(url)
    try:
        cur = db.execute(_SQLITE_SELECT + where, args)
        while rows := cur.fetchmany(batch):
            checker.feed(rows)
    finally:
        db.close()
    return checker.close()


async def _check_pg(
    url: str, lo: str | None, hi: str | None, heads: dict[str, Head], anchors: Anchors,
    batch: int, signed: Points | None = None, redacted: Redacted | None = None,
) -> RangeResult:  # fmt: skip
    import asyncpg

    checker = ChainChecker(heads, anchors, signed, redacted)
    where, args = _where(lo, hi, "$")
    conn = await asyncpg.connect(pg_dsn(url))
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
    batch: int, signed: Points | None = None, redacted: Redacted | None = None,
) -> RangeResult:  # fmt: skip
    """One worker's share (runs in a worker process)."""
    if url.startswith("sqlite"):
        return _check_sqlite(url, lo, hi, heads, anchors, batch, signed, redacted)
    # A forked child still believes the parent's event loop is running in this
    # thread (Python < 3.12), so its own loop runs in a fresh thread.
    with ThreadPoolExecutor(max_workers=1) as one:
        job = _check_pg(url, lo, hi, heads, anchors, batch, signed, redacted)
        return one.submit(asyncio.run, job).result()


_HEADS_SQL = "SELECT chain, seq, hash FROM journal_heads"
_ANCHORED_SQL = "SELECT count(*) FROM journal_anchors"


async def _load_heads(url: str) -> tuple[dict[str, Head], int, Retired]:
    """Every chain head, how many chains the heads sink should know, and retired chains."""
    rows, anchored, records = await queries(
        url, (_HEADS_SQL, ()), (_ANCHORED_SQL, ()), (_RETIRED_SQL, ())
    )
    retired: Retired = defaultdict(set)
    for r in records:
        retired[r[0]].add((r[1], r[2]))
    return {r[0]: Head(r[1], r[2]) for r in rows}, int(anchored[0][0]), dict(retired)


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


_RETIRED_SQL = "SELECT chain, final_seq, final_hash FROM journal_retention"


def group_anchors(anchors: Iterable[Anchor]) -> Anchors:
    grouped: dict[str, dict[int, list[Anchor]]] = defaultdict(lambda: defaultdict(list))
    for a in anchors:
        grouped[a.chain][a.seq].append(a)
    return {c: dict(s) for c, s in grouped.items()}


async def _read_heads_sink(
    report: VerifyReport, sink: Path, sink_key: bytes, anchored: int, retired: Retired
) -> tuple[Anchors, set[str], list[SignedLine]]:
    """Read the heads sink into the report: its anchors, and the retirements it proves."""
    if not await asyncio.to_thread(sink.exists):
        report.sink = "missing"
        if anchored:
            report.problems.append(
                Problem(str(sink), "sink", None, None,
                        f"the heads sink is missing, but {anchored} chains were anchored")
            )  # fmt: skip
        return {}, set(), []
    found, damage, lines = await asyncio.to_thread(read_sink_all, sink, sink_key)
    report.sink = f"{len(found)} lines"
    report.problems += [
        Problem(str(sink), "sink", None, None, f"line {d.line}: {d.reason}") for d in damage
    ]
    return group_anchors(retire_anchors(found, retired)), proven_retirements(found, retired), lines


async def _check_all(
    database_url: str, heads: dict[str, Head], anchors: Anchors, workers: int | None, batch: int,
    signed: Points | None, redacted: Redacted,
) -> list[RangeResult]:  # fmt: skip
    """Check every chain: in this process, or split by chain over worker processes."""
    if workers is None:
        total = sum(h.seq for h in heads.values())
        workers = min(os.cpu_count() or 1, 8) if total >= PARALLEL_FROM else 0
    ranges = _split(heads, workers)
    if workers <= 1 or len(ranges) == 1:
        if database_url.startswith("sqlite"):
            return [
                await asyncio.to_thread(
                    _check_sqlite,
                    database_url,
                    None,
                    None,
                    heads,
                    anchors,
                    batch,
                    signed,
                    redacted,
                )
            ]
        return [await _check_pg(database_url, None, None, heads, anchors, batch, signed, redacted)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=_pool_context()) as pool:
        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(
                        pool,
                        _check_range,
                        database_url,
                        lo,
                        hi,
                        heads,
                        anchors,
                        batch,
                        signed,
                        redacted,
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


_SIGNED_SQL = "SELECT id, key_id, at, heads, signature FROM journal_signed_heads"
_REDACTIONS_SQL = f"SELECT {', '.join(REDACTION_COLUMNS)} FROM journal_redactions"
_ENTRY_ID_SQL = "SELECT id FROM journal_entries WHERE chain = $1 AND seq = $2"


async def _judge_unsigned(
    url: str, keys: dict[str, bytes], unsigned: dict[str, tuple[int, int, str]]
) -> list[Problem]:
    """Chains that ran past their last signed head: signed since verify began, or forged."""
    if not unsigned:
        return []
    fresh = signed_heads(await query(url, _SIGNED_SQL), keys)
    problems = []
    for chain, (top, last_seq, last_hash) in sorted(unsigned.items()):
        points = fresh.points.get(chain, {})
        now_top = max(points, default=0)
        if now_top < last_seq or (last_seq in points and points[last_seq][0] != last_hash):
            problems.append(
                Problem(chain, "unsigned", top + 1, None,
                        f"entries #{top + 1}…#{last_seq} run past the last signed head "
                        f"(#{top}): filed without the signing key")
            )  # fmt: skip
    return problems


async def _name_entries(url: str, problems: list[Problem]) -> list[Problem]:
    """Fill in the entry id of a problem that names an entry by seq only."""
    named = []
    for p in problems:
        if p.entry_id is None and p.seq and p.kind in ("rewritten", "unsigned"):
            found = await query(url, _ENTRY_ID_SQL, p.chain, p.seq)
            if found:
                p = Problem(p.chain, p.kind, p.seq, str(found[0][0]), p.detail)
        named.append(p)
    return named


def _first_per_chain(problems: list[Problem]) -> list[Problem]:
    """Only the first problem of each chain: after it, every later entry is suspect anyway."""
    firsts: dict[str, Problem] = {}
    for p in problems:
        firsts.setdefault(p.chain, p)
    return [p for p in problems if p.kind == "sink" or firsts[p.chain] is p]


def _signed_gone(signed: SignedHeads, seen: set[str], retired: Retired) -> list[Problem]:
    """Chains with signed heads but no entries, and no retention record for the last one."""
    return [
        Problem(chain, "removed", 1, None,
                f"#{max(points)} was signed but the chain has no entries")
        for chain, points in sorted(signed.points.items())
        if points and chain not in seen
        and (max(points), points[max(points)][0]) not in retired.get(chain, set())
    ]  # fmt: skip


async def verify(
    database_url: str,
    *,
    sink: Path | None = None,
    sink_key: bytes | None = None,
    workers: int | None = None,
    batch: int = 5000,
    signing_keys: dict[str, bytes] | None = None,
) -> VerifyReport:
    """Verify every chain in the database, and against the heads sink when one is given.

    Args:
        database_url: the SQLAlchemy URL of the database (SQLite file or PostgreSQL).
        sink: the heads-sink file (``TOVHOLDER_JOURNAL_HEADS_SINK``), if any.
        sink_key: its HMAC key.
        workers: processes to verify in; by default one per CPU for a large journal
            (at least :data:`PARALLEL_FROM` entries), else none (this process).
        batch: rows fetched per round trip.
        signing_keys: the public keys of the head signer (by key id), to check the
            signed heads with; None: signatures are not checked.
    """
    report = VerifyReport()
    anchors: Anchors = {}
    signed: SignedHeads | None = None
    if signing_keys is not None:
        # Before the heads: a head never runs behind what was signed when it was read.
        signed = signed_heads(await query(database_url, _SIGNED_SQL), signing_keys)
        report.signed = f"{signed.records} signed heads, {signed.signatures_checked} checked"
        report.problems += [Problem(c, k, q, None, d) for c, k, q, d in signed.findings]
    heads, anchored, retired = await _load_heads(database_url)
    proven: set[str] = set()
    if sink is not None and sink_key is not None:
        anchors, proven, lines = await _read_heads_sink(report, sink, sink_key, anchored, retired)
        if signed is not None and signing_keys is not None:
            found = compare_sink(signed, lines, signing_keys, str(sink))
            report.problems += [Problem(c, k, q, None, d) for c, k, q, d in found]
    points = signed.points if signed is not None else None
    redacted, wrong = judge_redactions(
        await query(database_url, _REDACTIONS_SQL), signing_keys, retired
    )
    report.problems += [Problem(c, k, q, e, d) for c, k, q, e, d in wrong]
    results = await _check_all(database_url, heads, anchors, workers, batch, points, redacted)
    seen: set[str] = set()
    headless: dict[str, tuple[int, dict[int, str]]] = {}
    unsigned: dict[str, tuple[int, int, str]] = {}
    for r in results:
        report.chains += r.chains
        report.entries += r.entries
        report.anchors_checked += r.anchors_checked
        report.redacted += r.redacted
        report.problems += r.problems
        seen |= r.seen
        headless |= r.headless
        unsigned |= r.unsigned
    report.problems += await _judge_headless(database_url, headless, anchors)
    report.problems += _missing_chains(heads, anchors, seen, retired)
    if signed is not None and signing_keys is not None:
        report.problems += await _judge_unsigned(database_url, signing_keys, unsigned)
        report.problems += _signed_gone(signed, seen, retired)
        report.problems = await _name_entries(database_url, _first_per_chain(report.problems))
    # A retention record is written by whoever can write the database: only one the sink
    # confirms (a retired line under the key the database never sees) counts as removed.
    report.retired = len(proven)
    report.unproven = len(retired) - len(proven)
    if sink is not None and sink_key is not None:
        report.problems += _unproven_retirements(
            retired, proven, heads, {p.chain for p in report.problems}
        )
    return report

"""Group commit: work items that arrive together are handled together.

Under load, many webhooks are in flight at once. Handling each in its own
transaction costs a BEGIN, a COMMIT and a few statements apiece, and on a
small machine those per-statement costs (in the driver, on the wire and in
PostgreSQL) are most of what an SMS costs. A :class:`GroupCommit` queues the
items, and a few *lanes* each take what is waiting and hand it to one
``handle`` call: one transaction and the same few statements for the lot.
With a quiet queue an item goes at once, alone; under load a new batch waits
a moment to gather several.

Items with the same key are never in two running batches at once (nor twice
in one), so a batch never waits on rows another batch holds for the same
sender. ``handle`` answers ``None`` for an item it leaves to the caller, who
then handles it alone inside :meth:`GroupCommit.turn`: until that block ends,
no batch takes another item with its key. If ``handle`` raises, nothing it did
is kept (its transaction rolled back) and every item of the batch is the
caller's again (or, for the exception types given as ``passes``, the exception
is raised to every caller).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False, slots=True)
class _Entry(Generic[T, R]):
    item: T
    key: Hashable
    future: asyncio.Future[R | None]
    since: float  # when it began to wait (the loop's clock)
    held: bool = False  # the key stays busy until the caller's turn ends
    gone: bool = False  # the caller's turn ended before its batch did


@dataclass(slots=True)
class BatchCounts:
    """What a batcher has done, for metrics and tests."""

    batches: int = 0
    items: int = 0
    failed: int = 0
    sizes: dict[int, int] = field(default_factory=dict)


class GroupCommit(Generic[T, R]):
    """Batches of items handled by ``handle``, at most ``lanes`` batches at a time.

    Args:
        handle: handles a batch, answering one result (or None) per item, in order.
        key: items with equal keys never run concurrently.
        size: the most items in one batch.
        lanes: the most batches running at once.
        gather: while another batch runs, a new one waits until this many items wait
            (or ``linger`` has passed): under load, batches stay large and cheap.
        linger: the longest an item waits for company (seconds); an item that finds
            no batch running never waits.
        passes: exceptions from ``handle`` that every caller of the batch gets (e.g.
            "the database is down"), instead of handling its item alone.
        name: for logs and task names.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]],
        *,
        key: Callable[[T], Hashable],
        size: int,
        lanes: int,
        gather: int = 2,
        linger: float = 0.0,
        passes: tuple[type[Exception], ...] = (),
        name: str,
    ) -> None:
        if size < 1 or lanes < 1:
            raise ValueError("a batch needs room for one item and one lane")
        self._handle = handle
        self._key = key
        self._size = size
        self._lanes = lanes
        self._gather = min(gather, size) if linger > 0 else 1
        self._linger = linger
        self._passes = passes
        self._name = name
        self._waiting: list[_Entry[T, R]] = []
        self._busy: set[Hashable] = set()
        self._running: dict[asyncio.Task[None], list[_Entry[T, R]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.counts = BatchCounts()

    @property
    def running(self) -> int:
        """Batches being handled now."""
        return len(self._running)

    @asynccontextmanager
    async def turn(self, item: T) -> AsyncIterator[R | None]:
        """Hand ``item`` to the next batch; yield its result, or None: handle it yourself.

        Handle a None item inside the block: until it ends, no batch takes another
        item with the same key (the sender's next SMS, or a retry of this one).
        """
        if self._closed:
            yield None
            return
        loop = asyncio.get_running_loop()
        entry: _Entry[T, R] = _Entry(item, self._key(item), loop.create_future(), loop.time())
        self._waiting.append(entry)
        self._start()
        try:
            # The batch carries on for its other items if this caller goes away.
            yield await asyncio.shield(entry.future)
        finally:
            entry.gone = True
            if entry in self._waiting:  # never taken
                self._waiting.remove(entry)
            elif entry.held:
                self._release(entry)

    async def aclose(self) -> None:
        """Take no more items; wait for the running batches; send the waiting ones back."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for entry in self._waiting:
            if not entry.future.done():
                entry.future.set_result(None)
        self._waiting.clear()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _release(self, entry: _Entry[T, R]) -> None:
        entry.held = False
        self._busy.discard(entry.key)
        if not self._closed:
            self._start()

    def _take(self) -> list[_Entry[T, R]]:
        taken: list[_Entry[T, R]] = []
        left: list[_Entry[T, R]] = []
        keys: set[Hashable] = set()
        for entry in self._waiting:
            if len(taken) < self._size and entry.key not in self._busy and entry.key not in keys:
                keys.add(entry.key)
                taken.append(entry)
            else:
                left.append(entry)
        self._waiting = left
        self._busy |= keys
        return taken

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        while len(self._running) < self._lanes and self._waiting:
            # Under load more items are about to come: wait for them a moment, the
            # longest-waiting item no longer than ``linger`` in all.
            left = self._linger - (loop.time() - self._waiting[0].since)
            if self._running and len(self._waiting) < self._gather and left > 0:
                self._timer = loop.call_later(left, self._lingered)
                return
            batch = self._take()
            if not batch:
                return  # everything waiting has a key in a running batch or turn
            task = asyncio.get_running_loop().create_task(
                self._run(batch), name=f"{self._name}-batch"
            )
            self._running[task] = batch
            task.add_done_callback(self._finished)

    def _lingered(self) -> None:
        self._timer = None
        if not self._closed:
            self._start()

    async def _run(self, batch: list[_Entry[T, R]]) -> None:
        counts = self.counts
        counts.batches += 1
        counts.items += len(batch)
        counts.sizes[len(batch)] = counts.sizes.get(len(batch), 0) + 1
        results: Sequence[R | None]
        try:
            results = await self._handle([e.item for e in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except self._passes as exc:
            counts.failed += 1
            for entry in batch:
                self._busy.discard(entry.key)
                if not entry.future.done():
                    entry.future.set_exception(exc)
            return
        except Exception as exc:
            counts.failed += 1
            # A database error's text may quote a row: its kind only. Anything else is a
            # fault in the code, and its traceback is what finds it.
            if type(exc).__module__.startswith("sqlalchemy"):
                log.warning(
                    "%s: a batch of %d failed (%s); each item goes on its own",
                    self._name,
                    len(batch),
                    type(exc).__name__,
                )
            else:
                log.error("%s: a batch of %d failed", self._name, len(batch), exc_info=exc)
            results = [None] * len(batch)
        self._settle(batch, results)

    def _settle(self, batch: list[_Entry[T, R]], results: Sequence[R | None]) -> None:
        for entry, result in zip(batch, results, strict=True):
            if result is None and not entry.gone and not entry.future.done():
                entry.held = True  # the caller handles it alone, its key still busy
            else:
                self._busy.discard(entry.key)
            if not entry.future.done():
                entry.future.set_result(result)

    def _finished(self, task: asyncio.Task[None]) -> None:
        batch = self._running.pop(task, [])
        if task.cancelled() or task.exception() is not None:
            # Cancelled (or broken) before it answered: its items are their callers' again.
            if not task.cancelled():
                log.error("%s: batch task failed", self._name, exc_info=task.exception())
            self._settle(batch, [None] * len(batch))
        if not self._closed:
            self._start()

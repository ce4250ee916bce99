"""Group commit: work items that arrive together are handled together.

Under load, many webhooks are in flight at once. Handling each in its own
transaction costs a BEGIN, a COMMIT and a few statements apiece, and on a
small machine those per-statement costs (in the driver, on the wire and in
PostgreSQL) are most of what an SMS costs. A :class:`GroupCommit` queues the
items, and a few *lanes* each take everything waiting and hand it to one
``handle`` call: one transaction and the same few statements for the lot.
With a quiet queue an item goes at once, alone; nothing waits for a batch to
fill.

Items with the same key are never in two running batches at once (nor twice
in one), so a batch never waits on rows another batch holds for the same
sender. ``handle`` answers ``None`` for an item it leaves to the caller's
one-at-a-time path; if it raises, every item of its batch is answered
``None`` and nothing it did is kept (its transaction rolled back).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


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
        name: str,
    ) -> None:
        if size < 1 or lanes < 1:
            raise ValueError("a batch needs room for one item and one lane")
        self._handle = handle
        self._key = key
        self._size = size
        self._lanes = lanes
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R | None]]] = []
        self._busy: set[Hashable] = set()
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self._gather = min(gather, size) if linger > 0 else 1
        self._linger = linger
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> int:
        """Batches being handled now."""
        return len(self._running)

    async def submit(self, item: T) -> R | None:
        """Handle ``item`` in the next batch; None: the caller handles it itself."""
        if self._closed:
            return None
        future: asyncio.Future[R | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._start()
        # The batch carries on for its other items if this caller goes away.
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Take no more items; wait for the running batches; send the waiting ones back."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, future in self._waiting:
            if not future.done():
                future.set_result(None)
        self._waiting.clear()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _take(self) -> list[tuple[T, asyncio.Future[R | None]]]:
        taken: list[tuple[T, asyncio.Future[R | None]]] = []
        left: list[tuple[T, asyncio.Future[R | None]]] = []
        keys: set[Hashable] = set()
        for entry in self._waiting:
            key = self._key(entry[0])
            if len(taken) < self._size and key not in self._busy and key not in keys:
                keys.add(key)
                taken.append(entry)
            else:
                left.append(entry)
        self._waiting = left
        self._busy |= keys
        return taken

    def _start(self, *, lingered: bool = False) -> None:
        if self._timer is not None and (lingered or len(self._waiting) >= self._gather):
            self._timer.cancel()
            self._timer = None
        while len(self._running) < self._lanes and self._waiting:
            if not lingered and self._running and len(self._waiting) < self._gather:
                # Under load more items are about to come: wait for them a moment.
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(
                        self._linger, self._lingered
                    )
                return
            lingered = False
            batch = self._take()
            if not batch:
                return  # everything waiting has a key in a running batch
            task = asyncio.get_running_loop().create_task(
                self._run(batch), name=f"{self._name}-batch"
            )
            self._running.add(task)
            task.add_done_callback(self._finished)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R | None]]]) -> None:
        results: Sequence[R | None]
        try:
            results = await self._handle([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            # Only the exception's kind: its text may quote a row.
            log.warning(
                "%s: a batch of %d failed (%s); each item goes on its own",
                self._name,
                len(batch),
                type(exc).__name__,
            )
            results = [None] * len(batch)
        finally:
            for item, _ in batch:
                self._busy.discard(self._key(item))
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _lingered(self) -> None:
        self._timer = None
        if not self._closed:
            self._start(lingered=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: batch task failed", self._name, exc_info=exc)
        if not self._closed:
            self._start()

"""Group commit (bot.base.batcher): batches form under load, keys never overlap, failures fall back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.base.batcher import GroupCommit


class Recorder:
    """A ``handle`` that answers each item doubled, one batch at a time when told to go."""

    def __init__(self, *, fail_on: object = None, error: Exception | None = None) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.running: list[set[str]] = []
        self.gate = asyncio.Event()
        self.fail_on = fail_on
        self.error = error or RuntimeError("boom")
        self._now: set[str] = set()

    async def __call__(self, items: Sequence[tuple[str, int]]) -> list[int | None]:
        keys = {k for k, _ in items}
        assert not keys & self._now, "a key in two running batches"
        self._now |= keys
        self.running.append(set(self._now))
        self.batches.append(list(items))
        try:
            await self.gate.wait()
            if any(v == self.fail_on for _, v in items):
                raise self.error
            return [None if v < 0 else 2 * v for _, v in items]
        finally:
            self._now -= keys


async def settle() -> None:
    """Let every task that can run, run (submits, then the batches they start)."""
    for _ in range(5):
        await asyncio.sleep(0)


def batcher(
    handle: Recorder, *, size: int = 10, lanes: int = 1, gather: int = 2, linger: float = 0.0
) -> Group:
    return Group(
        GroupCommit(
            handle,
            key=lambda item: item[0],
            size=size,
            lanes=lanes,
            gather=gather,
            linger=linger,
            passes=(LookupError,),
            name="test",
        )
    )


class Group:
    """A GroupCommit as callers use it: a turn each; an item left to them is done at once."""

    def __init__(self, group: GroupCommit[tuple[str, int], int]) -> None:
        self.group = group

    @property
    def running(self) -> int:
        return self.group.running

    async def submit(self, item: tuple[str, int]) -> int | None:
        async with self.group.turn(item) as result:
            return result

    async def aclose(self) -> None:
        await self.group.aclose()


async def test_items_that_wait_together_go_in_one_batch() -> None:
    """The first item goes at once, alone; those arriving meanwhile share the next batch."""
    rec = Recorder()
    group = batcher(rec)
    calls = [asyncio.ensure_future(group.submit((f"k{i}", i))) for i in range(5)]
    await settle()
    assert [len(b) for b in rec.batches] == [1]
    rec.gate.set()
    assert await asyncio.gather(*calls) == [0, 2, 4, 6, 8]
    assert [len(b) for b in rec.batches] == [1, 4]


async def test_a_batch_takes_at_most_its_size() -> None:
    """Past ``size`` items, the rest wait for the next batch."""
    rec = Recorder()
    group = batcher(rec, size=2)
    calls = [asyncio.ensure_future(group.submit((f"k{i}", i))) for i in range(5)]
    await settle()
    rec.gate.set()
    await asyncio.gather(*calls)
    assert [len(b) for b in rec.batches] == [1, 2, 2]


async def test_one_key_is_never_in_two_running_batches_nor_twice_in_one() -> None:
    """Two items of one sender go one after the other, whatever the lanes."""
    rec = Recorder()
    group = batcher(rec, lanes=3)
    calls = [asyncio.ensure_future(group.submit(("same", i))) for i in range(3)]
    calls += [asyncio.ensure_future(group.submit((f"other{i}", 10 + i))) for i in range(3)]
    await settle()
    rec.gate.set()
    assert await asyncio.gather(*calls) == [0, 2, 4, 20, 22, 24]
    assert all(sum(k == "same" for k, _ in b) <= 1 for b in rec.batches)
    assert len(rec.batches) >= 3


async def test_lanes_run_batches_side_by_side() -> None:
    """With two lanes, a second batch starts while the first is still running."""
    rec = Recorder()
    group = batcher(rec, lanes=2)
    calls = [asyncio.ensure_future(group.submit((f"k{i}", i))) for i in range(4)]
    await settle()
    assert group.running == 2
    assert [len(b) for b in rec.batches] == [1, 1]
    rec.gate.set()
    await asyncio.gather(*calls)
    assert [len(b) for b in rec.batches] == [1, 1, 2]


async def test_a_failed_batch_sends_every_item_back_and_the_next_batch_runs() -> None:
    """``handle`` raising answers None for each item of that batch; later batches go on."""
    rec = Recorder(fail_on=3)
    group = batcher(rec)
    calls = [asyncio.ensure_future(group.submit((f"k{i}", i))) for i in range(4)]
    await settle()
    rec.gate.set()
    assert await asyncio.gather(*calls) == [0, None, None, None]
    assert await group.submit(("k9", 9)) == 18


async def test_an_item_the_handler_leaves_is_answered_none() -> None:
    """``handle`` may leave single items to the caller."""
    rec = Recorder()
    rec.gate.set()
    group = batcher(rec)
    assert await group.submit(("k", -1)) is None


async def test_a_caller_that_goes_away_does_not_stop_the_batch() -> None:
    """Cancelling one waiting caller leaves the others' batch running to the end."""
    rec = Recorder()
    group = batcher(rec)
    first = asyncio.ensure_future(group.submit(("a", 1)))
    second = asyncio.ensure_future(group.submit(("b", 2)))
    await settle()
    first.cancel()
    rec.gate.set()
    assert await second == 4
    with pytest.raises(asyncio.CancelledError):
        await first
    assert [len(b) for b in rec.batches] == [1, 1]


async def test_closing_waits_for_running_batches_and_sends_waiting_items_back() -> None:
    """aclose: the running batch finishes; items not yet taken get None, as do later ones."""
    rec = Recorder()
    group = batcher(rec)
    running = asyncio.ensure_future(group.submit(("a", 1)))
    waiting = asyncio.ensure_future(group.submit(("b", 2)))
    await settle()
    closing = asyncio.ensure_future(group.aclose())
    await settle()
    assert await waiting is None
    assert not closing.done()
    rec.gate.set()
    await closing
    assert await running == 2
    assert await group.submit(("c", 3)) is None


async def test_under_load_a_lone_item_waits_a_moment_for_company() -> None:
    """While a batch runs, a lone item lingers; the next one to come shares its batch."""
    rec = Recorder()
    group = batcher(rec, lanes=2, linger=5.0)
    calls = [asyncio.ensure_future(group.submit(("a", 1)))]
    await settle()
    calls.append(asyncio.ensure_future(group.submit(("b", 2))))
    await settle()
    assert [len(b) for b in rec.batches] == [1]  # b waits for company
    calls.append(asyncio.ensure_future(group.submit(("c", 3))))
    await settle()
    assert [len(b) for b in rec.batches] == [1, 2]
    rec.gate.set()
    assert await asyncio.gather(*calls) == [2, 4, 6]


async def test_under_load_a_batch_gathers_several_items_before_it_starts() -> None:
    """With ``gather`` 3, a second batch starts once three items wait, not before."""
    rec = Recorder()
    group = batcher(rec, lanes=2, gather=3, linger=5.0)
    calls = [asyncio.ensure_future(group.submit(("a", 1)))]
    await settle()
    for key in "bc":
        calls.append(asyncio.ensure_future(group.submit((key, 2))))
        await settle()
        assert [len(b) for b in rec.batches] == [1]
    calls.append(asyncio.ensure_future(group.submit(("d", 3))))
    await settle()
    assert [len(b) for b in rec.batches] == [1, 3]
    rec.gate.set()
    assert await asyncio.gather(*calls) == [2, 4, 4, 6]


async def test_a_lingering_item_goes_alone_when_no_company_comes() -> None:
    """The linger is short: then the lone item goes in a batch of its own."""
    rec = Recorder()
    group = batcher(rec, lanes=2, linger=0.01)
    first = asyncio.ensure_future(group.submit(("a", 1)))
    await settle()
    second = asyncio.ensure_future(group.submit(("b", 2)))
    await asyncio.sleep(0.05)
    assert [len(b) for b in rec.batches] == [1, 1]
    rec.gate.set()
    assert (await first, await second) == (2, 4)


async def test_a_quiet_queue_never_lingers() -> None:
    """With nothing running, an item starts at once, whatever the linger."""
    rec = Recorder()
    rec.gate.set()
    group = batcher(rec, linger=5.0)
    assert await asyncio.wait_for(group.submit(("a", 1)), 1.0) == 2


def test_a_batcher_needs_room() -> None:
    """Size and lanes are at least one."""
    with pytest.raises(ValueError):
        GroupCommit(Recorder(), key=lambda item: item, size=0, lanes=1, name="x")


async def test_a_key_stays_busy_while_its_caller_handles_a_left_item() -> None:
    """An item answered None: no batch takes the same key until the caller's turn ends."""
    rec = Recorder()
    rec.gate.set()
    group = batcher(rec, lanes=2)
    release = asyncio.Event()

    async def alone() -> None:
        async with group.group.turn(("k", -1)) as result:
            assert result is None
            await release.wait()  # handling it alone

    first = asyncio.ensure_future(alone())
    await settle()
    second = asyncio.ensure_future(group.submit(("k", 2)))
    other = asyncio.ensure_future(group.submit(("x", 3)))
    await settle()
    assert await other == 6
    assert not second.done()  # waits for the first caller
    release.set()
    await first
    assert await second == 4


async def test_a_passed_exception_reaches_every_caller_of_the_batch() -> None:
    """An exception type given as ``passes`` is raised to each caller (and keys freed)."""
    rec = Recorder(fail_on=3, error=LookupError("down"))
    group = batcher(rec)
    calls = [asyncio.ensure_future(group.submit((f"k{i}", i))) for i in range(4)]
    await settle()
    rec.gate.set()
    done = await asyncio.gather(*calls, return_exceptions=True)
    assert done[0] == 0 and all(isinstance(d, LookupError) for d in done[1:])
    rec.fail_on = None
    assert await group.submit(("k1", 5)) == 10
    assert group.group.counts.failed == 1


async def test_a_cancelled_batch_gives_its_items_back() -> None:
    """A batch task cancelled mid-way answers None to its callers and frees their keys."""
    rec = Recorder()
    group = batcher(rec)
    call = asyncio.ensure_future(group.submit(("k", 1)))
    await settle()
    (task,) = list(group.group._running)
    task.cancel()
    assert await call is None
    rec.gate.set()
    assert await group.submit(("k", 2)) == 4

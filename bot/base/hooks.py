"""Extension points in the inbound path.

An inbound hook sees a citizen's SMS right after it has been filed on a case
(stored, journalised, inside the same transaction) and may answer it itself:
"STATUS" answered with the case's current step, "OK" confirming an
appointment. The first hook that returns an outcome wins.

In a batch (bot.domain.inbound_batch) a hook may fetch first, for all the batch's
SMS it may act on, what it would otherwise ask one SMS at a time, and say which of
them it will pass over after all (``prefetches``): those are answered with the
batch's first write, as plain SMS are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

# The hook's types live beside Services, which holds the hooks.
from bot.base.services import FiledSms, HookOutcome, InboundHook

__all__ = [
    "FiledSms",
    "HookOutcome",
    "InboundHook",
    "acts_on",
    "may_act",
    "prefetch",
    "prefetches",
]

_H = TypeVar("_H", bound=Callable[..., Any])


_ACTS_ON = "tovholder_acts_on"
_PREFETCH = "tovholder_prefetch"

# Fetches, for the SMS of a batch (each with ``batch`` set, one dict shared by all), what the
# hook will ask for each of them, and keeps it in that dict under the hook's own keys; returns
# the positions of those it may act on (for the others it returns None: nothing to act on).
Prefetch = Callable[[Sequence[FiledSms]], Awaitable[Collection[int]]]


def acts_on(words: Callable[[str], bool]) -> Callable[[_H], _H]:
    """Declare which SMS bodies a hook may act on; for all others it returns None unread.

    The inbound path files SMS that no hook may act on in batches (several in
    one transaction), without calling the hooks; a hook that declares nothing
    is asked about every SMS, one at a time.
    """

    def mark(hook: _H) -> _H:
        setattr(hook, _ACTS_ON, words)
        return hook

    return mark


def may_act(hooks: Sequence[InboundHook], body: str) -> bool:
    """Might any of ``hooks`` act on an SMS with this body? (True for undeclared hooks.)"""
    for hook in hooks:
        words = getattr(hook, _ACTS_ON, None)
        if words is None or words(body):
            return True
    return False


def prefetches(fetch: Prefetch) -> Callable[[_H], _H]:
    """Declare how a hook fetches, in one statement, what it needs for a whole batch.

    The batch fetches before it writes its SMS; the hook still runs one SMS at a
    time after the write, reads what ``fetch`` kept in ``FiledSms.batch``, and
    asks the database itself when that is None (alone) or holds nothing for the
    SMS. What it fetched must be what it would read then: in a batch an SMS that
    a hook may answer is the only one of its case, and the batch's write touches
    none of what hooks read (appointments, timelines).
    """

    def mark(hook: _H) -> _H:
        setattr(hook, _PREFETCH, fetch)
        return hook

    return mark


async def prefetch(hooks: Sequence[InboundHook], filed: Sequence[FiledSms]) -> set[int]:
    """Let each hook that declares it fetch at once what it needs for all of ``filed``.

    Returns:
        The positions in ``filed`` of the SMS some hook may still act on (a hook that
        fetches nothing may act on any SMS its words allow).
    """
    maybe: set[int] = set()
    for hook in hooks:
        fetch: Prefetch | None = getattr(hook, _PREFETCH, None)
        if fetch is None:
            maybe.update(i for i, f in enumerate(filed) if may_act([hook], f.body))
        elif filed:
            maybe.update(await fetch(filed))
    return maybe

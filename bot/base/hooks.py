"""Extension points in the inbound path.

An inbound hook sees a citizen's SMS right after it has been filed on a case
(stored, journalised, inside the same transaction) and may answer it itself:
"STATUS" answered with the case's current step, "OK" confirming an
appointment. The first hook that returns an outcome wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

# The hook's types live beside Services, which holds the hooks.
from bot.base.services import FiledSms, HookOutcome, InboundHook

__all__ = ["FiledSms", "HookOutcome", "InboundHook", "acts_on", "may_act"]

_H = TypeVar("_H", bound=Callable[..., Any])


_ACTS_ON = "tovholder_acts_on"


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

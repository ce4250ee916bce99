"""Extension points in the inbound path.

An inbound hook sees a citizen's SMS right after it has been filed on a case
(stored, journalised, inside the same transaction) and may answer it itself:
"STATUS" answered with the case's current step, "OK" confirming an
appointment. The first hook that returns an outcome wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from journal.journal import SealingKey

if TYPE_CHECKING:
    from bot.services import Services

_H = TypeVar("_H", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class FiledSms:
    """A citizen's SMS as filed on a case, with what a hook needs to act on it."""

    svc: Services
    conn: AsyncConnection
    tenant_id: str
    case_id: str
    person_id: str
    conversation_id: str
    message_id: str
    body: str
    language: str
    key: SealingKey
    now: datetime


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What the hook decided.

    Attributes:
        reply: sent to the citizen instead of the standard receipt (None: the
            standard receipt, if one is due).
        awaiting_reply: False when no caseworker needs to answer (e.g. "OK").
    """

    reply: str | None = None
    awaiting_reply: bool = True


class InboundHook(Protocol):
    async def __call__(self, filed: FiledSms) -> HookOutcome | None: ...


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

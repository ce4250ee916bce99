"""Extension points in the inbound path.

An inbound hook sees a citizen's SMS right after it has been filed on a case
(stored, journalised, inside the same transaction) and may answer it itself:
"STATUS" answered with the case's current step, "OK" confirming an
appointment. The first hook that returns an outcome wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from journal.journal import SealingKey

if TYPE_CHECKING:
    from bot.services import Services


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

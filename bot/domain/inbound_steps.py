"""The steps of filing one inbound SMS, as the modules that share them use them.

:class:`bot.domain.inbound_filing.Intake` implements them; STOP/START
(bot.domain.inbound_consent), the which-case question (bot.domain.inbound_choice)
and the natural intents (bot.domain.intents) take it as this Protocol, so that
none of them imports the filing module it is called from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from bot.base.crypto import SealingKey
    from bot.base.services import Services
    from bot.base.workdays import WorkingCalendar
    from bot.domain.dispatch import Decision
    from bot.domain.inbound_result import InboundResult
    from bot.domain.outbound import OutboundSms
    from bot.domain.triage import Triage
    from bot.store.inbound import OpenCase, Person
    from journal.journal import NewEntry


class IntakeSteps(Protocol):
    """One SMS being filed inside one write transaction (bot.domain.inbound_filing.Intake)."""

    svc: Services
    conn: AsyncConnection
    sms: Any
    tenant: Any
    sender: str
    now: datetime
    cases: Mapping[str, OpenCase]
    intent: str | None

    async def triage(self) -> Triage: ...
    async def file(self, case: OpenCase, person: Person) -> InboundResult: ...
    async def conversation(
        self, case_id: str | None, person_id: str, *, journal_next: bool = True
    ) -> tuple[str, datetime | None]: ...
    def case_key(self, case: OpenCase) -> SealingKey: ...
    def person_key(self, person: Person) -> SealingKey: ...
    def inbound_row(
        self, *, conv_id: str, case_id: str | None, person_id: str, key: SealingKey, status: str
    ) -> dict[str, Any]: ...
    def sms_in(self, case_id: str | None, key: SealingKey, mid: str, subject: str) -> NewEntry: ...
    def owner_first_name(self, case: OpenCase) -> str: ...
    async def emit(self, mid: str, conv_id: str, case_id: str | None) -> None: ...
    async def decide(
        self, case: OpenCase, calendar: WorkingCalendar, *, body: str | None = None
    ) -> Decision: ...
    async def dispatched(
        self, case: OpenCase, decision: Decision, message_id: str, key: SealingKey
    ) -> list[NewEntry]: ...
    async def case_receipt(
        self,
        conv_id: str,
        case: OpenCase,
        person: Person,
        key: SealingKey,
        reply_by: datetime,
        decision: Decision,
    ) -> OutboundSms: ...

"""STOP / START by SMS: record the number's consent, confirm it, journalise it.

An exact STOP or START (or a "JA" to the question about a wish in the family's
own words, :mod:`bot.domain.intents`) is filed on the number's unassigned thread
and recorded for everyone on the number, in one write transaction with the SMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.domain import consent
from bot.domain.case_record import consent_confirmations
from bot.domain.inbound_result import InboundResult
from bot.domain.outbound import OutboundSms, outbound_sms
from bot.domain.texts import text
from bot.store.schema.consent import consent_records
from bot.store.schema.core import messages
from journal.journal import NewEntry, append_many

if TYPE_CHECKING:
    from bot.domain.inbound_steps import IntakeSteps
    from bot.store.inbound import Candidate, Person


async def file_consent(
    intake: IntakeSteps, command: str, people: Sequence[Person], candidates: list[Candidate]
) -> InboundResult:
    """STOP / START: record consent for everyone on this number, confirm, journalise."""
    first = people[0]
    # The entries go on the people's cases first: their heads are locked in that order.
    conv_id, _ = await intake.conversation(None, first.id, journal_next=False)
    key = intake.person_key(first)
    stored = intake.inbound_row(
        conv_id=conv_id, case_id=None, person_id=first.id, key=key, status="received"
    )
    mid = stored["id"]
    state = "opted_out" if command == "stop" else "opted_in"
    subject = (
        "Borgeren har frameldt påmindelser og nyheder på SMS (STOP)"
        if command == "stop"
        else "Borgeren har tilmeldt sig påmindelser og nyheder på SMS igen (START)"
    )
    recorded = consent.stop_rows(intake.tenant.id, [p.id for p in people], command, intake.now)
    entries = []
    for person in people:
        case_ids = [c.case_id for c in candidates if c.person_id == person.id]
        for case_id in dict.fromkeys(case_ids) or [None]:
            entries.append(
                NewEntry(
                    tenant_id=intake.tenant.id,
                    case_id=case_id,
                    kind=f"consent_{state}",
                    direction="in",
                    channel="sms",
                    subject=subject,
                    actor="citizen",
                    at=intake.now,
                    message_id=mid,
                )
            )
    body = text(first.language, "stopped" if command == "stop" else "started")
    confirm = outbound_sms(
        tenant_id=intake.tenant.id,
        conversation_id=conv_id,
        case_id=None,
        person_id=first.id,
        kind="auto",
        body=body,
        key=key,
        at=intake.now,
        subject="Bekræftelse af til- eller framelding",
        language=first.language,
    )
    # The confirmation goes in each case file too, not only in the unassigned chain.
    on_cases = dict.fromkeys(e.case_id for e in entries if e.case_id in intake.cases)
    entries += consent_confirmations(
        tenant_id=intake.tenant.id,
        message_id=confirm.message_id,
        body=body,
        keys=[intake.case_key(intake.cases[c]) for c in on_cases if c is not None],
        at=intake.now,
    )
    # Heads in chain order, as every writer that holds several locks them.
    entries.sort(key=lambda e: e.chain)
    await append_many(
        intake.conn,
        [*entries, confirm.entry],
        rows_first=[
            (messages, [stored]),
            (consent_records, recorded),
            *OutboundSms.rows([confirm]),
        ],
    )
    await intake.emit(mid, conv_id, None)
    return InboundResult(mid, False, f"consent_{command}")

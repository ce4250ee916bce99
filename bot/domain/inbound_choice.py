"""Which case? An SMS from a number with several open cases and no recent thread.

The SMS is held (``awaiting_case``) and the sender asked which case they mean
(:func:`ask_which_case`); their answer ("1", "2", …) files what was waiting on
the case they picked (:func:`resolve_choice`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.base.crypto import seal, unseal
from bot.base.ids import new_id
from bot.domain import attachments
from bot.domain.case_record import answered_questions
from bot.domain.dispatch import routing_columns
from bot.domain.inbound_result import InboundResult
from bot.domain.outbound import OutboundSms, outbound_sms
from bot.domain.routing import team_calendar
from bot.domain.texts import text
from bot.store.schema.core import case_choices, messages, persons
from journal.journal import NewEntry, append_many

if TYPE_CHECKING:
    from bot.domain.inbound_steps import IntakeSteps
    from bot.store.inbound import Candidate, PendingChoice, Person


async def ask_which_case(
    intake: IntakeSteps,
    candidates: list[Candidate],
    index: str,
    asker: Person,
    choice: PendingChoice | None,
) -> InboundResult:
    """Several open cases and no recent thread: hold the SMS and ask which case."""
    seen: dict[str, Candidate] = {}
    for c in candidates:
        seen.setdefault(c.case_id, c)
    options = list(seen.values())
    lines = []
    for n, opt in enumerate(options, start=1):
        case = intake.cases[opt.case_id]
        lines.append(
            text(
                asker.language,
                "choose_case_option",
                n=n,
                administration=case.administration,
                first_name=intake.owner_first_name(case),
            )
        )
    if choice is not None:
        await intake.conn.execute(
            update(case_choices)
            .where(case_choices.c.id == choice.id)
            .values(resolved_at=intake.now)
        )
    asked = {
        "id": new_id(),
        "tenant_id": intake.tenant.id,
        "phone_index": index,
        "options": json.dumps([[o.case_id, o.person_id] for o in options]),
        "created_at": intake.now,
    }
    conv_id, _ = await intake.conversation(None, asker.id)
    key = intake.person_key(asker)
    stored = intake.inbound_row(
        conv_id=conv_id, case_id=None, person_id=asker.id, key=key, status="awaiting_case"
    )
    mid = stored["id"]
    question = outbound_sms(
        tenant_id=intake.tenant.id,
        conversation_id=conv_id,
        case_id=None,
        person_id=asker.id,
        kind="clarify",
        body=text(asker.language, "choose_case", options="\n".join(lines)),
        key=key,
        at=intake.now,
        language=asker.language,
    )
    await append_many(
        intake.conn,
        [intake.sms_in(None, key, mid, "SMS fra borger, afventer valg af sag"), question.entry],
        rows_first=[
            (case_choices, [asked]),
            (messages, [stored]),
            *OutboundSms.rows([question]),
        ],
    )
    await intake.emit(mid, conv_id, None)
    return InboundResult(mid, False, "awaiting_case")


async def resolve_choice(
    intake: IntakeSteps, choice: PendingChoice, picked: Candidate, person: Person
) -> InboundResult:
    """The citizen answered which case: file what was waiting, then this answer."""
    await intake.conn.execute(
        update(case_choices).where(case_choices.c.id == choice.id).values(resolved_at=intake.now)
    )
    case = intake.cases[picked.case_id]
    conv_id, already_open = await intake.conversation(case.id, person.id)
    case_key = intake.case_key(case)
    calendar = await team_calendar(intake.conn, intake.svc, case)
    reply_by = already_open or calendar.reply_by(intake.now, case.reply_days)
    waiting = (
        await intake.conn.execute(
            select(
                messages.c.id,
                messages.c.person_id,
                messages.c.body_enc,
                messages.c.created_at,
                persons.c.dek,
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .where(
                messages.c.tenant_id == intake.tenant.id,
                messages.c.status == "awaiting_case",
                persons.c.phone_index == choice.phone_index,
            )
            .order_by(messages.c.created_at)
        )
    ).all()
    entries = []
    bodies = []
    for w in waiting:
        # Re-seal under the case's key now that the message belongs to the case.
        person_dek = intake.svc.dek("persons", w.person_id, w.dek)
        body = unseal(person_dek, w.body_enc, f"messages:{w.id}:body")
        bodies.append(body)
        await intake.conn.execute(
            update(messages)
            .where(messages.c.id == w.id)
            .values(
                conversation_id=conv_id,
                case_id=case.id,
                person_id=person.id,
                key_scope="case",
                body_enc=seal(case_key.dek, body, f"messages:{w.id}:body"),
                status="received",
                awaiting_reply=True,
                reply_by=reply_by,
            )
        )
        # An MMS's files (bot.domain.mms) follow the message to the case.
        await attachments.move(
            intake.conn,
            message_id=w.id,
            old_dek=person_dek,
            key=case_key,
            conversation_id=conv_id,
        )
        entries.append(
            NewEntry(
                tenant_id=intake.tenant.id,
                case_id=case.id,
                kind="sms_in",
                direction="in",
                channel="sms",
                subject="SMS fra borger",
                actor="citizen",
                at=intake.now,
                content=body,
                key=case_key,
                message_id=w.id,
            )
        )
    if waiting:  # the question they answer joins the case file, between message and answer
        entries += await answered_questions(
            intake.conn,
            intake.svc,
            tenant_id=intake.tenant.id,
            phone_index=choice.phone_index,
            since=min(w.created_at for w in waiting),
            key=case_key,
            at=intake.now,
        )
    stored = intake.inbound_row(
        conv_id=conv_id, case_id=case.id, person_id=person.id, key=case_key, status="received"
    )
    mid = stored["id"]
    entries.append(intake.sms_in(case.id, case_key, mid, "Borgerens valg af sag"))
    await append_many(intake.conn, entries, rows_first=[(messages, [stored])])
    await intake.emit(mid, conv_id, case.id)
    if not waiting:
        return InboundResult(mid, False, "filed", queued=False)
    # Triage what waited, not the answer ("1").
    decision = await intake.decide(case, calendar, body="\n".join(bodies))
    await intake.conn.execute(
        update(messages)
        .where(messages.c.id.in_([w.id for w in waiting]))
        .values(**routing_columns(case, decision, intake.now))
    )
    entries = await intake.dispatched(case, decision, waiting[-1].id, case_key)
    if already_open is None or decision.urgent:
        receipt = await intake.case_receipt(conv_id, case, person, case_key, reply_by, decision)
        entries.append(receipt.entry)
        await append_many(intake.conn, entries, rows_first=OutboundSms.rows([receipt]))
    elif entries:
        await append_many(intake.conn, entries)
    return InboundResult(waiting[0].id, False, "filed")

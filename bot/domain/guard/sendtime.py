"""The decision guard at send time: what got past the queue is withheld at the gate.

A text is read when it is queued (:func:`bot.domain.guard.refuse_decision`);
this reads it again just before the gateway, for what was queued before the
rule or around it (a send-later SMS written last month, a row put in the
outbox by an older release). The relay withholds what this names, with the
reason ``decision`` journalised (:mod:`bot.domain.gate`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import unseal
from bot.base.services import Services
from bot.domain.guard import AUTHORED_KINDS, authored
from bot.domain.guard.reader import read
from bot.store.schema.core import cases, messages, persons


async def decisions(svc: Services, conn: AsyncConnection, message_ids: Sequence[str]) -> set[str]:
    """The messages among ``message_ids`` a person wrote whose text reads as an afgørelse.

    One statement for the batch; only the kinds in
    :data:`bot.domain.guard.AUTHORED_KINDS` are opened and read.
    """
    if not message_ids:
        return set()
    rows = await conn.execute(
        select(
            messages.c.id,
            messages.c.key_scope,
            messages.c.body_enc,
            messages.c.case_id,
            messages.c.person_id,
            cases.c.dek.label("case_dek"),
            persons.c.dek.label("person_dek"),
        )
        .join(persons, persons.c.id == messages.c.person_id)
        .outerjoin(cases, cases.c.id == messages.c.case_id)
        .where(messages.c.id.in_(list(message_ids)), messages.c.kind.in_(sorted(AUTHORED_KINDS)))
    )
    found: set[str] = set()
    for r in rows:
        if r.key_scope == "case":
            dek = svc.dek("cases", r.case_id, r.case_dek)
        else:
            dek = svc.dek("persons", r.person_id, r.person_dek)
        if read(authored(unseal(dek, r.body_enc, f"messages:{r.id}:body"))).decision:
            found.add(str(r.id))
    return found

"""Staff teach the triage: "Ikke akut", "Er akut", "Bekymring" on a citizen's message.

Each click records one labelled example for the municipality (``triage_examples``):
the message's text sealed under the same data key as the message body (the
case's, or the person's while unassigned), so erasing the case erases the
example; and a journal entry saying who taught what. "Ikke akut" on an urgent
message that nobody has picked up also stops its escalation (through
:func:`bot.domain.escalation.acknowledge`, which journalises it) and takes a
concern off the top of the inbox. ``tovholder triage train --tenant SLUG``
(:func:`train_tenant`) adds a municipality's examples to the shipped corpus and
stores that municipality's weights, which :func:`bot.domain.dispatch.tenant_triager`
then uses.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import DecryptionError, SealingKey, seal, unseal
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.conversations import thread_for
from bot.domain.escalation import acknowledge
from bot.store.schema.core import cases, messages, persons
from bot.store.schema.triage import triage_examples, triage_models
from journal.journal import append

log = logging.getLogger(__name__)

# The label a member of staff gives -> the journal's subject.
LEVELS = {
    "none": "Triage lært: ikke akut",
    "akut": "Triage lært: er akut",
    "bekymring": "Triage lært: bekymring",
}


@dataclass(frozen=True, slots=True)
class Taught:
    """What one click did."""

    message_id: str
    conversation_id: str
    level: str
    escalation_stopped: bool


def _message_key(svc: Services, conv: Any, key_scope: str) -> SealingKey:
    """The key that seals this message's body (as ``read_thread`` unseals it)."""
    if key_scope == "case" and conv.case_id is not None:
        return SealingKey("case", conv.case_id, svc.dek("cases", conv.case_id, conv.case_dek))
    return SealingKey("person", conv.person_id, svc.dek("persons", conv.person_id, conv.person_dek))


async def teach(
    svc: Services,
    user: StaffUser,
    message_id: str,
    level: str,
    *,
    conversation_id: str | None = None,
) -> Taught:
    """Record the user's label for a citizen's message as an example; journalised.

    Args:
        conversation_id: the thread the label was given on (the page's); the
            message must be in it.

    Raises:
        BadInput: ``bad_level`` (not none, akut or bekymring).
        NotFound: no such citizen message in a thread this user may see (or not in
            ``conversation_id``).
    """
    if level not in LEVELS:
        raise BadInput("The label must be none, akut or bekymring", code="bad_level")
    now = svc.clock.now()
    async with svc.write() as conn:
        msg = (
            await conn.execute(
                select(
                    messages.c.conversation_id,
                    messages.c.key_scope,
                    messages.c.body_enc,
                    messages.c.urgent,
                    messages.c.acknowledged_at,
                    messages.c.triage_level,
                ).where(
                    messages.c.id == message_id,
                    messages.c.tenant_id == user.tenant_id,
                    messages.c.direction == "in",
                    messages.c.kind == "citizen",
                )
            )
        ).first()
        if msg is None or conversation_id not in (None, msg.conversation_id):
            raise NotFound("No such message", code="message_not_found")
        conv = await thread_for(conn, user, msg.conversation_id)  # 404 if not the user's
        key = _message_key(svc, conv, msg.key_scope)
        text = unseal(key.dek, msg.body_enc, f"messages:{message_id}:body")
        await _store(conn, user, conv, key, message_id, text, level, now)
        stopped = False
        if level == "none":
            if msg.urgent and msg.acknowledged_at is None:
                stopped = await acknowledge(
                    conn, svc, message_id=message_id, staff_id=user.id, via="web"
                )
            if msg.triage_level == "bekymring":
                await conn.execute(
                    update(messages).where(messages.c.id == message_id).values(triage_level=None)
                )
        elif level == "bekymring" and msg.triage_level is None and not msg.urgent:
            await conn.execute(
                update(messages).where(messages.c.id == message_id).values(triage_level="bekymring")
            )
    log.info("staff %s labelled message %s as %s", user.id, message_id, level)
    return Taught(message_id, str(msg.conversation_id), level, stopped)


async def _store(
    conn: AsyncConnection,
    user: StaffUser,
    conv: Any,
    key: SealingKey,
    message_id: str,
    text: str,
    level: str,
    now: Any,
) -> None:
    """One example per message (a second click relabels it), and its journal entry."""
    await conn.execute(delete(triage_examples).where(triage_examples.c.message_id == message_id))
    eid = new_id()
    await conn.execute(
        triage_examples.insert().values(
            id=eid,
            tenant_id=user.tenant_id,
            message_id=message_id,
            case_id=conv.case_id if key.scope == "case" else None,
            person_id=conv.person_id,
            key_scope=key.scope,
            text_enc=seal(key.dek, text, f"triage_examples:{eid}:text"),
            level=level,
            staff_id=user.id,
            created_at=now,
        )
    )
    await append(
        conn,
        tenant_id=user.tenant_id,
        case_id=conv.case_id,
        kind="triage_example",
        direction="internal",
        channel="web",
        subject=LEVELS[level],
        actor=f"staff:{user.id}",
        at=now,
        message_id=message_id,
    )


async def examples(conn: AsyncConnection, svc: Services, tenant_id: str) -> list[dict[str, Any]]:
    """The municipality's examples as corpus rows (decrypted), oldest first.

    An example whose case or person key is gone (erased) is left out.
    """
    rows = (
        await conn.execute(
            select(
                triage_examples.c.id,
                triage_examples.c.key_scope,
                triage_examples.c.text_enc,
                triage_examples.c.level,
                triage_examples.c.case_id,
                triage_examples.c.person_id,
                cases.c.dek.label("case_dek"),
                persons.c.dek.label("person_dek"),
            )
            .join(persons, persons.c.id == triage_examples.c.person_id)
            .outerjoin(cases, cases.c.id == triage_examples.c.case_id)
            .where(triage_examples.c.tenant_id == tenant_id)
            .order_by(triage_examples.c.created_at, triage_examples.c.id)
        )
    ).all()
    out = []
    for r in rows:
        try:
            if r.key_scope == "case":
                dek = svc.dek("cases", r.case_id, r.case_dek)
            else:
                dek = svc.dek("persons", r.person_id, r.person_dek)
            text = unseal(dek, r.text_enc, f"triage_examples:{r.id}:text")
        except (DecryptionError, ValueError):
            log.warning("triage example %s cannot be read (key gone); left out", r.id)
            continue
        level = None if r.level == "none" else r.level
        out.append(
            {
                "id": f"tenant-{r.id}",
                "text": text,
                "lang": "da",
                "urgent": level == "akut",
                "level": level,
                "intent": None,
                "hard_negative": level is None,
            }
        )
    return out


async def train_tenant(svc: Services, tenant_id: str, corpus: Path) -> int:
    """Train the municipality's weights on ``corpus`` plus its examples; stored sealed.

    Without examples nothing changes (no row is written, an old one is kept)
    and 0 is returned; else the number of examples used. Deterministic: the
    same corpus and examples give the same weights (bot.domain.triage.train).
    """
    from bot.domain.triage.corpus import load
    from bot.domain.triage.train import weights_for

    async with svc.read() as conn:
        taught = await examples(conn, svc, tenant_id)
    if not taught:
        return 0
    data = weights_for([*load(corpus), *taught])
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    now = svc.clock.now()
    async with svc.write() as conn:
        await conn.execute(delete(triage_models).where(triage_models.c.tenant_id == tenant_id))
        mid = new_id()
        dek, wrapped = svc.new_dek("triage_models", mid)
        await conn.execute(
            triage_models.insert().values(
                id=mid,
                tenant_id=tenant_id,
                dek=wrapped,
                weights_enc=seal(dek, text, f"triage_models:{mid}:weights"),
                examples=len(taught),
                trained_at=now,
            )
        )
    # This process's cache: the next triage reads the new weights.
    svc.__dict__.get("_triagers", {}).pop(tenant_id, None)
    return len(taught)

"""Aktindsigt i egne oplysninger (GDPR art. 15): the citizen's own copy.

For one person: who we have them as, the cases they are party to, every
message to and from them (decrypted), and when and why staff looked their
messages up, with no staff names or ids (the citizen is entitled to the
dates and purposes, not to who). Producing the copy is itself a look-up and
is recorded in the access log (action ``export``, purpose ``aktindsigt``),
so it shows in the next copy.

Only a lead or an admin of the person's municipality may produce it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.base.errors import NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.store.schema.core import access_log, cases, messages, participants, persons, staff, tenants
from journal.pdf import access_copy_pdf, local_time

PURPOSE = "aktindsigt"
ROLES = {"party": "part", "parent": "forælder", "bisidder": "bisidder",
         "representative": "partsrepræsentant"}  # fmt: skip
ACTIONS = {"read": "læst", "search": "søgt", "export": "udleveret", "audit": "kontrolleret"}
DIRECTIONS = {"in": "Fra dig", "out": "Til dig"}


async def _requester(conn: Any, staff_id: str, tenant_id: str) -> None:
    row = (
        await conn.execute(
            select(staff.c.role).where(
                staff.c.id == staff_id, staff.c.tenant_id == tenant_id, staff.c.active.is_(True)
            )
        )
    ).first()
    if row is None or row.role not in ("lead", "admin"):
        raise NotFound("No such person", code="person_not_found")


async def access_copy(
    svc: Services, person_id: str, *, staff_id: str, tenant_id: str | None = None
) -> dict[str, Any]:
    """Build the copy for ``person_id`` on behalf of ``staff_id`` and log that it was made.

    Args:
        staff_id: the lead or admin producing the copy.
        tenant_id: the requester's municipality; the person must belong to it
            (None: the person's own, for the CLI, still checked against the staff).

    Raises:
        NotFound: no such person in that municipality, or the requester may not.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        q = select(persons, tenants.c.name.label("municipality")).join(
            tenants, tenants.c.id == persons.c.tenant_id
        )
        q = q.where(persons.c.id == person_id)
        if tenant_id is not None:
            q = q.where(persons.c.tenant_id == tenant_id)
        person = (await conn.execute(q)).first()
        if person is None:
            raise NotFound("No such person", code="person_not_found")
        await _requester(conn, staff_id, person.tenant_id)
        pdek = svc.dek("persons", person.id, person.dek)

        def own(col: str) -> str | None:
            blob = getattr(person, f"{col}_enc")
            return None if blob is None else svc.unseal(pdek, "persons", person.id, col, blob)

        case_rows = (
            await conn.execute(
                select(cases.c.id, cases.c.number, participants.c.role)
                .join(participants, participants.c.case_id == cases.c.id)
                .where(participants.c.person_id == person.id)
                .order_by(cases.c.number)
            )
        ).all()
        msg_rows = (
            await conn.execute(
                select(messages, cases.c.number, cases.c.dek.label("case_dek"))
                .outerjoin(cases, cases.c.id == messages.c.case_id)
                .where(messages.c.person_id == person.id)
                .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
            )
        ).all()
        items = []
        for m in msg_rows:
            if m.key_scope == "case":
                dek = svc.dek("cases", m.case_id, m.case_dek)
            else:
                dek = pdek
            items.append(
                {
                    "id": m.id,
                    "at": m.created_at.isoformat(),
                    "direction": m.direction,
                    "kind": m.kind,
                    "case_number": m.number,
                    "status": m.status,
                    "text": svc.unseal(dek, "messages", m.id, "body", m.body_enc),
                }
            )
        ids = [m.id for m in msg_rows]
        lookups: Counter[tuple[datetime, str, str, str | None]] = Counter()
        if ids:
            log_rows = (
                await conn.execute(
                    select(
                        access_log.c.at,
                        access_log.c.action,
                        access_log.c.purpose,
                        cases.c.number,
                    )
                    .outerjoin(cases, cases.c.id == access_log.c.case_id)
                    .where(
                        access_log.c.message_id.in_(ids),
                        access_log.c.tenant_id == person.tenant_id,
                    )
                )
            ).all()
            for r in log_rows:
                lookups[(r.at, r.action, r.purpose, r.number)] += 1
            # Handing out the copy is a look-up too, and the next copy will say so.
            await conn.execute(
                access_log.insert(),
                [
                    {
                        "id": new_id(),
                        "tenant_id": person.tenant_id,
                        "staff_id": staff_id,
                        "action": "export",
                        "case_id": m.case_id,
                        "message_id": m.id,
                        "purpose": PURPOSE,
                        "at": now,
                    }
                    for m in msg_rows
                ],
            )
    return {
        "kind": "tovholder.access-copy/1",
        "legal_basis": "GDPR art. 15 (indsigt i egne oplysninger)",
        "generated_at": now.isoformat(),
        "municipality": person.municipality,
        "person": {
            "id": person.id,
            "name": own("name"),
            "phone": own("phone"),
            "language": person.language,
        },
        "cases": [{"case_number": c.number, "role": c.role} for c in case_rows],
        "messages": items,
        "lookups": [
            {
                "at": at.isoformat(),
                "action": action,
                "purpose": purpose,
                "case_number": number,
                "messages": count,
            }
            for (at, action, purpose, number), count in sorted(
                lookups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or "")
            )
        ],
    }


def access_copy_as_pdf(copy: dict[str, Any], font: Path | None = None) -> bytes:
    """The same copy as a PDF, in Danish, times in Danish local time."""
    return access_copy_pdf(
        municipality=copy["municipality"],
        person_name=copy["person"]["name"] or copy["person"]["phone"] or "(ukendt)",
        generated_at=datetime.fromisoformat(copy["generated_at"]),
        cases=[(c["case_number"], ROLES.get(c["role"], c["role"])) for c in copy["cases"]],
        messages=[
            {
                "at": local_time(datetime.fromisoformat(m["at"])),
                "direction": DIRECTIONS.get(m["direction"], m["direction"]),
                "case_number": m["case_number"] or "-",
                "text": m["text"],
            }
            for m in copy["messages"]
        ],
        lookups=[
            {
                "at": local_time(datetime.fromisoformat(look["at"])),
                "action": ACTIONS.get(look["action"], look["action"]),
                "purpose": look["purpose"],
                "case_number": look["case_number"] or "-",
                "count": str(look["messages"]),
            }
            for look in copy["lookups"]
        ],
        font=font,
    )

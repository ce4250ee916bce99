"""Real ids of every kind a caseworker route names, in a municipality, and row counts.

Used by the staff-route tests: each declared route's path parameters are
filled from :func:`ids_in` (for our municipality or the second one), so a
new route whose id kind is unknown here fails loudly instead of going untested.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.domain.conversations import issue_token
from bot.domain.inbound import receive_sms
from bot.http.integration.openapi import Operation, declared
from bot.store.schema.core import messages, metadata
from channels.base import InboundSms
from scheduler.store import add_task
from tests.harness import MUNICIPALITY, Stack

OTHER_NUMBER = "+4589404040"  # the second municipality in tests/integration/conftest.py
OTHER_PHONE = "+4520999999"


def staff_operations(stack: Stack) -> list[Operation]:
    """Every declared caseworker route (staff token only) the app serves, in a stable order."""
    ops = [op for op in declared(stack.client.app).values() if op.security == "staff"]
    return sorted(ops, key=lambda op: (op.path, op.method))


async def row_counts(stack: Stack) -> dict[str, int]:
    """Rows in every table: a refused request must change none of them."""
    counts: dict[str, int] = {}
    async with stack.svc.read() as conn:
        for table in metadata.sorted_tables:
            q = select(func.count()).select_from(table)
            counts[table.name] = int((await conn.execute(q)).scalar_one())
    return counts


async def _call(stack: Stack, token: str, method: str, path: str, **kw: Any) -> Any:
    resp = await stack.client.request(
        method, path, headers={"Authorization": f"Bearer {token}"}, **kw
    )
    assert resp.status in (200, 201), (method, path, resp.status, await resp.text())
    return await resp.json()


async def ids_in(
    stack: Stack,
    *,
    tenant_id: str,
    number: str,
    phone: str,
    staff_id: str,
    team_id: str,
    case_id: str,
    person_id: str,
) -> dict[str, str]:
    """One real id of every kind the caseworker routes name, made through the API.

    ``staff_id`` owns ``case_id``; ``phone`` belongs to ``person_id``, a party
    to that case, and writes in to ``number`` so a thread and a message exist.
    """
    svc = stack.svc
    async with svc.write() as conn:
        token = await issue_token(
            conn, staff_id=staff_id, tenant_id=tenant_id, label="ids", at=svc.clock.now()
        )
    sid = f"SMids{tenant_id[:8]}"
    await receive_sms(svc, InboundSms(sid, phone, number, "Hej"), provider="twilio")
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(messages.c.id, messages.c.conversation_id).where(
                    messages.c.tenant_id == tenant_id, messages.c.direction == "in"
                )
            )
        ).first()
    assert row is not None
    ids = {
        "staff": staff_id,
        "team": team_id,
        "case": case_id,
        "person": person_id,
        "conversation": row.conversation_id,
        "message": row.id,
    }
    absence = await _call(
        stack,
        token,
        "POST",
        "/api/v1/absences",
        json={"starts_on": "2025-04-01", "ends_on": "2025-04-02"},
    )
    ids["absence"] = absence["id"]
    appointment = await _call(
        stack,
        token,
        "POST",
        f"/api/v1/cases/{case_id}/appointments",
        json={"starts_at": "2025-03-04T10:00:00+01:00"},
    )
    ids["appointment"] = appointment["id"]
    deadline = await _call(
        stack,
        token,
        "POST",
        f"/api/v1/cases/{case_id}/deadlines",
        json={"kind": "partshoering", "due_on": "2025-03-24"},
    )
    ids["deadline"] = deadline["id"]
    note = await _call(
        stack,
        token,
        "POST",
        f"/api/v1/cases/{case_id}/notes",
        json={"subject": "Telefonsamtale", "text": "Aftalt møde"},
    )
    ids["entry"] = note["id"]
    scheduled = await _call(
        stack,
        token,
        "POST",
        f"/api/v1/conversations/{ids['conversation']}/scheduled",
        json={"body": "Husk mødet", "send_at": "2025-03-03T10:00:00+01:00"},
    )
    ids["scheduled"] = scheduled["id"]
    async with svc.write() as conn:
        ids["task"] = await add_task(
            conn,
            tenant_id=tenant_id,
            case_id=case_id,
            staff_id=staff_id,
            kind="nudge",
            title="Følg op",
            at=svc.clock.now(),
        )
    ids["token"] = token
    return ids


async def our_ids(stack: Stack) -> dict[str, str]:
    """Real ids in the seeded municipality (Mette's case with Anna)."""
    w = stack.world
    return await ids_in(
        stack,
        tenant_id=w.tenant_id,
        number=MUNICIPALITY,
        phone=w.phones["anna"],
        staff_id=w.mette,
        team_id=w.team_children,
        case_id=w.cases["anna"],
        person_id=w.persons["anna"],
    )


async def their_ids(stack: Stack, other: dict[str, str]) -> dict[str, str]:
    """Real ids in the second municipality (``Integ.other``)."""
    return await ids_in(
        stack,
        tenant_id=other["tenant"],
        number=OTHER_NUMBER,
        phone=OTHER_PHONE,
        staff_id=other["staff"],
        team_id=other["team"],
        case_id=other["case"],
        person_id=other["person"],
    )


def fill_path(op: Operation, ids: dict[str, str]) -> str:
    """The route's path with every parameter replaced by the id of its kind."""
    path = op.path
    for name in op.path_params:
        kind = op.resource_of(name)
        assert kind in ids, f"{op.method} {op.path}: no test id of kind {kind!r}"
        path = path.replace("{" + name + "}", ids[kind])
    return path

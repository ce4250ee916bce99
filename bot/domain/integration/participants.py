"""A case's participants as the case system sets them: role, entitlement, a
representative's period of authority (fuldmagt) and the case system's word on consent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.services import Services
from bot.domain import consent as consents
from bot.domain import directory
from bot.domain.integration.rows import iso, one, page
from bot.store.schema.core import cases, participants, persons
from bot.store.schema.integration import participant_details
from journal.journal import append

CHANNELS = ("sms", "web")


def participant_query() -> Select[Any]:
    return select(
        participants,
        participant_details.c.authority_from,
        participant_details.c.authority_to,
    ).outerjoin(participant_details, participant_details.c.participant_id == participants.c.id)


async def participants_out(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    parts = [(r.id, r.person_id) for r in rows]
    consent: dict[str, dict[str, bool | None]] = {r.id: {} for r in rows}
    for channel in CHANNELS:
        said = await consents.for_participants(conn, parts, channel)
        for part_id, standing in said.items():
            consent[part_id][channel] = standing.recorded
    return [
        {
            "id": r.id,
            "case_id": r.case_id,
            "person_id": r.person_id,
            "role": r.role,
            "entitled": r.entitled,
            "authority_from": iso(r.authority_from),
            "authority_to": iso(r.authority_to),
            "consent": consent[r.id],
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


def _check_authority(role: str, start: date | None, end: date | None) -> None:
    if role != "representative":
        if start is not None or end is not None:
            raise BadInput(
                "Only a representative has a period of authority", code="authority_not_allowed"
            )
        return
    if start is None:
        raise BadInput("A representative needs authority_from", code="authority_required")
    if end is not None and end < start:
        raise BadInput("authority_to is before authority_from", code="bad_date_range")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


async def _write_consent(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    participant_id: str,
    person_id: str,
    consent: Mapping[str, bool | None],
    actor: str,
) -> None:
    """The case system's word on consent, into the one consent record; a change is journalised."""
    for channel, granted in consent.items():
        changed = await consents.set_by_case_system(
            conn,
            tenant_id=tenant_id,
            participant_id=participant_id,
            person_id=person_id,
            channel=channel,
            granted=granted,
            at=svc.clock.now(),
            actor=actor,
        )
        if changed:
            case_id = (
                await conn.execute(
                    select(participants.c.case_id).where(participants.c.id == participant_id)
                )
            ).scalar_one()
            word = {True: "ja", False: "nej", None: "intet registreret"}[granted]
            await append(
                conn,
                tenant_id=tenant_id,
                case_id=case_id,
                kind="consent_case_system",
                direction="internal",
                channel="api",
                subject=f"Sagssystemet: samtykke til {channel} for en deltager: {word}",
                actor=actor,
                at=svc.clock.now(),
            )


async def add_participant(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    data: Mapping[str, Any],
    *,
    actor: str = "integration",
) -> str:
    """Add a person to a case (the case must exist in this municipality)."""
    await one(conn, persons, tenant_id, data["person_id"], "person")
    role = data["role"]
    start, end = _date(data.get("authority_from")), _date(data.get("authority_to"))
    _check_authority(role, start, end)
    exists = (
        await conn.execute(
            select(participants.c.id).where(
                participants.c.case_id == case_id, participants.c.person_id == data["person_id"]
            )
        )
    ).first()
    if exists is not None:
        raise Conflict("The person already takes part in the case", code="participant_exists")
    part_id = await directory.add_participant(
        conn,
        svc,
        tenant_id=tenant_id,
        case_id=case_id,
        person_id=data["person_id"],
        role=role,
        entitled=data.get("entitled", True),
    )
    if start is not None or end is not None:
        await conn.execute(
            participant_details.insert().values(
                participant_id=part_id,
                tenant_id=tenant_id,
                authority_from=start,
                authority_to=end,
                updated_at=svc.clock.now(),
            )
        )
    await _write_consent(
        conn, svc, tenant_id, part_id, data["person_id"], data.get("consent", {}), actor
    )
    return part_id


async def list_participants(
    conn: AsyncConnection, tenant_id: str, case_id: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    await one(conn, cases, tenant_id, case_id, "case")
    q = participant_query().where(
        participants.c.case_id == case_id, participants.c.tenant_id == tenant_id
    )
    rows, nxt = await page(conn, q, participants.c.id, limit, cursor)
    return {"items": await participants_out(conn, rows), "next_cursor": nxt}


async def get_participant(conn: AsyncConnection, tenant_id: str, part_id: str) -> dict[str, Any]:
    row = (
        await conn.execute(
            participant_query().where(
                participants.c.id == part_id, participants.c.tenant_id == tenant_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such participant", code="participant_not_found")
    return (await participants_out(conn, [row]))[0]


async def create_participant(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    data: Mapping[str, Any],
    *,
    actor: str = "integration",
) -> dict[str, Any]:
    await one(conn, cases, tenant_id, case_id, "case")
    part_id = await add_participant(conn, svc, tenant_id, case_id, data, actor=actor)
    return await get_participant(conn, tenant_id, part_id)


async def update_participant(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    part_id: str,
    data: Mapping[str, Any],
    *,
    actor: str = "integration",
) -> dict[str, Any]:
    current = await get_participant(conn, tenant_id, part_id)
    start = _date(data["authority_from"]) if "authority_from" in data else None
    end = _date(data["authority_to"]) if "authority_to" in data else None
    if "authority_from" not in data:
        start = _date(current["authority_from"])
    if "authority_to" not in data:
        end = _date(current["authority_to"])
    _check_authority(current["role"], start, end)
    if "entitled" in data:
        await conn.execute(
            update(participants)
            .where(participants.c.id == part_id)
            .values(entitled=data["entitled"])
        )
    if "authority_from" in data or "authority_to" in data:
        await conn.execute(
            delete(participant_details).where(participant_details.c.participant_id == part_id)
        )
        await conn.execute(
            participant_details.insert().values(
                participant_id=part_id,
                tenant_id=tenant_id,
                authority_from=start,
                authority_to=end,
                updated_at=svc.clock.now(),
            )
        )
    if "consent" in data:
        await _write_consent(
            conn, svc, tenant_id, part_id, current["person_id"], data["consent"], actor
        )
    return await get_participant(conn, tenant_id, part_id)

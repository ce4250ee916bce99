"""What the case system may do: the directory, cases, participants and updates.

Every function works inside the caller's connection and sees only one
municipality (``tenant_id``): another municipality's ids are "not found".
Names and phone numbers are sealed by :mod:`bot.domain.directory`; nothing here
returns them — representations carry ids and non-personal fields only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.services import Services
from bot.domain import directory, gate, person_language, recipients
from bot.domain import identity as oidc
from bot.domain.guard import as_sent
from bot.domain.integration import participants as part
from bot.domain.integration.rows import iso, one, page, refs, resolve_ref, set_ref
from bot.domain.outbound import queue_sms
from bot.domain.recipients import case_recipients
from bot.store.schema.core import (
    administrations,
    cases,
    participants,
    persons,
    staff,
    teams,
)
from bot.store.schema.integration import (
    case_details,
)
from journal.journal import append
from scheduler.store import conversation_for

UPDATE_SUBJECT = "Opdatering til sagens parter fra fagsystemet"
# A participant the update did not go to, and why (the gate's words where they are its
# reasons); journalised on the case, naming the participant under the case's key.
UPDATE_SKIPPED = "Opdatering fra fagsystemet ikke sendt til en deltager"
SKIP_WORDS = {
    recipients.OPTED_OUT: gate.REASON_WORDS[gate.OPTED_OUT],
    gate.RESTRICTED: gate.REASON_WORDS[gate.RESTRICTED],
    recipients.NO_CONSENT: gate.REASON_WORDS[gate.NO_CONSENT],
    recipients.AUTHORITY_NOT_IN_FORCE: gate.REASON_WORDS[gate.AUTHORITY_NOT_IN_FORCE],
    recipients.NO_PHONE: "deltageren har intet mobilnummer",
}


# -- administrations and teams ------------------------------------------------


def _administration(r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "created_at": iso(r.created_at)}


async def list_administrations(
    conn: AsyncConnection, tenant_id: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    q = select(administrations).where(administrations.c.tenant_id == tenant_id)
    rows, nxt = await page(conn, q, administrations.c.id, limit, cursor)
    return {"items": [_administration(r) for r in rows], "next_cursor": nxt}


async def get_administration(conn: AsyncConnection, tenant_id: str, aid: str) -> dict[str, Any]:
    return _administration(await one(conn, administrations, tenant_id, aid, "administration"))


async def create_administration(
    conn: AsyncConnection, svc: Services, tenant_id: str, *, name: str
) -> dict[str, Any]:
    aid = await directory.create_administration(conn, svc, tenant_id=tenant_id, name=name)
    return await get_administration(conn, tenant_id, aid)


def _team(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "administration_id": r.administration_id,
        "name": r.name,
        "reply_days": r.reply_days,
        "created_at": iso(r.created_at),
    }


async def list_teams(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    limit: int,
    cursor: str | None,
    administration_id: str | None = None,
) -> dict[str, Any]:
    q = select(teams).where(teams.c.tenant_id == tenant_id)
    if administration_id is not None:
        q = q.where(teams.c.administration_id == administration_id)
    rows, nxt = await page(conn, q, teams.c.id, limit, cursor)
    return {"items": [_team(r) for r in rows], "next_cursor": nxt}


async def get_team(conn: AsyncConnection, tenant_id: str, team_id: str) -> dict[str, Any]:
    return _team(await one(conn, teams, tenant_id, team_id, "team"))


async def create_team(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    *,
    administration_id: str,
    name: str,
    reply_days: int = 2,
) -> dict[str, Any]:
    await one(conn, administrations, tenant_id, administration_id, "administration")
    team_id = await directory.create_team(
        conn,
        svc,
        tenant_id=tenant_id,
        administration_id=administration_id,
        name=name,
        reply_days=reply_days,
    )
    return await get_team(conn, tenant_id, team_id)


# -- staff and persons ----------------------------------------------------------


async def _staff_out(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    by_id = await refs(conn, "staff", (r.id for r in rows))
    return [
        {
            "id": r.id,
            "team_id": r.team_id,
            "role": r.role,
            "active": r.active,
            "ref": by_id.get(r.id),
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


async def list_staff(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    limit: int,
    cursor: str | None,
    team_id: str | None = None,
    ref: str | None = None,
) -> dict[str, Any]:
    q = select(staff).where(staff.c.tenant_id == tenant_id)
    if team_id is not None:
        q = q.where(staff.c.team_id == team_id)
    if ref is not None:
        q = q.where(staff.c.id == (await resolve_ref(conn, tenant_id, "staff", ref) or ""))
    rows, nxt = await page(conn, q, staff.c.id, limit, cursor)
    return {"items": await _staff_out(conn, rows), "next_cursor": nxt}


async def get_staff(conn: AsyncConnection, tenant_id: str, staff_id: str) -> dict[str, Any]:
    row = await one(conn, staff, tenant_id, staff_id, "staff")
    return (await _staff_out(conn, [row]))[0]


async def create_staff(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    *,
    team_id: str,
    first_name: str,
    full_name: str,
    role: str = "caseworker",
    ref: str | None = None,
    login: str | None = None,
) -> dict[str, Any]:
    await one(conn, teams, tenant_id, team_id, "team")
    sid = await directory.create_staff(
        conn,
        svc,
        tenant_id=tenant_id,
        team_id=team_id,
        first_name=first_name,
        full_name=full_name,
        role=role,
    )
    if ref is not None:
        await set_ref(conn, svc, tenant_id, "staff", ref, sid)
    if login is not None:
        await oidc.store_staff_login(conn, svc, staff_id=sid, login=login)
    return await get_staff(conn, tenant_id, sid)


async def _persons_out(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    by_id = await refs(conn, "person", (r.id for r in rows))
    return [
        {
            "id": r.id,
            "language": r.language,
            "has_phone": r.phone_index is not None,
            "ref": by_id.get(r.id),
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


async def list_persons(
    conn: AsyncConnection, tenant_id: str, *, limit: int, cursor: str | None, ref: str | None
) -> dict[str, Any]:
    q = select(persons).where(persons.c.tenant_id == tenant_id, persons.c.origin == "known")
    if ref is not None:
        q = q.where(persons.c.id == (await resolve_ref(conn, tenant_id, "person", ref) or ""))
    rows, nxt = await page(conn, q, persons.c.id, limit, cursor)
    return {"items": await _persons_out(conn, rows), "next_cursor": nxt}


async def get_person(conn: AsyncConnection, tenant_id: str, person_id: str) -> dict[str, Any]:
    row = await one(conn, persons, tenant_id, person_id, "person")
    return (await _persons_out(conn, [row]))[0]


async def create_person(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    *,
    name: str,
    first_name: str | None = None,
    phone: str | None = None,
    language: str = "da",
    ref: str | None = None,
    cpr: str | None = None,
) -> dict[str, Any]:
    pid = await directory.create_person(
        conn,
        svc,
        tenant_id=tenant_id,
        name=name,
        first_name=first_name or name.split()[0],
        phone=phone,
        language=language,
    )
    if ref is not None:
        await set_ref(conn, svc, tenant_id, "person", ref, pid)
    if cpr is not None:
        await oidc.store_person_cpr(conn, svc, person_id=pid, cpr=cpr)
    return await get_person(conn, tenant_id, pid)


async def update_person(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    person_id: str,
    data: Mapping[str, Any],
    *,
    actor: str = "integration",
) -> dict[str, Any]:
    """Change a person's SMS language (the one rule: :func:`person_language.set_language`)."""
    await one(conn, persons, tenant_id, person_id, "person")
    if "language" in data:
        await person_language.set_language(
            conn,
            svc,
            tenant_id=tenant_id,
            person_ids=[person_id],
            language=data["language"],
            door="case_system",
            actor=actor,
        )
    return await get_person(conn, tenant_id, person_id)


# -- cases --------------------------------------------------------------------------


def _case_query() -> Select[Any]:
    return (
        select(
            cases.c.id,
            cases.c.number,
            cases.c.case_type,
            cases.c.status,
            cases.c.administration_id,
            cases.c.team_id,
            cases.c.owner_id,
            cases.c.created_at,
            case_details.c.kle_code,
        )
        .outerjoin(case_details, case_details.c.case_id == cases.c.id)
        .where(
            # A case removed at the end of its retention period is gone for the case system too.
            cases.c.status != "removed"
        )
    )


async def _cases_out(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    by_case: dict[str, list[dict[str, Any]]] = {r.id: [] for r in rows}
    if rows:
        parts = (
            await conn.execute(
                part.participant_query()
                .where(participants.c.case_id.in_(list(by_case)))
                .order_by(participants.c.created_at, participants.c.id)
            )
        ).all()
        for p in await part.participants_out(conn, list(parts)):
            by_case[p["case_id"]].append(p)
    return [
        {
            "id": r.id,
            "number": r.number,
            "kle_code": r.kle_code,
            "case_type": r.case_type,
            "status": r.status,
            "administration_id": r.administration_id,
            "team_id": r.team_id,
            "owner_id": r.owner_id,
            "participants": by_case[r.id],
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


async def list_cases(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    limit: int,
    cursor: str | None,
    number: str | None = None,
    team_id: str | None = None,
    owner_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    q = _case_query().where(cases.c.tenant_id == tenant_id)
    for col, value in (
        (cases.c.number, number),
        (cases.c.team_id, team_id),
        (cases.c.owner_id, owner_id),
        (cases.c.status, status),
    ):
        if value is not None:
            q = q.where(col == value)
    rows, nxt = await page(conn, q, cases.c.id, limit, cursor)
    return {"items": await _cases_out(conn, rows), "next_cursor": nxt}


async def get_case(conn: AsyncConnection, tenant_id: str, case_id: str) -> dict[str, Any]:
    row = (
        await conn.execute(
            _case_query().where(cases.c.id == case_id, cases.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such case", code="case_not_found")
    return (await _cases_out(conn, [row]))[0]


async def _active_owner(conn: AsyncConnection, tenant_id: str, owner_id: str) -> Any:
    owner = await one(conn, staff, tenant_id, owner_id, "staff")
    if not owner.active:
        raise Conflict("The owner is not an active staff member", code="owner_inactive")
    return owner


async def _set_kle(
    conn: AsyncConnection, svc: Services, tenant_id: str, case_id: str, kle: str | None
) -> None:
    await conn.execute(delete(case_details).where(case_details.c.case_id == case_id))
    await conn.execute(
        case_details.insert().values(
            case_id=case_id, tenant_id=tenant_id, kle_code=kle, updated_at=svc.clock.now()
        )
    )


async def create_case(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    data: Mapping[str, Any],
    *,
    actor: str = "integration",
) -> dict[str, Any]:
    """A case, its KLE code and its participants, all or nothing."""
    team = await one(conn, teams, tenant_id, data["team_id"], "team")
    await _active_owner(conn, tenant_id, data["owner_id"])
    taken = (
        await conn.execute(
            select(cases.c.id).where(
                cases.c.tenant_id == tenant_id, cases.c.number == data["number"]
            )
        )
    ).first()
    if taken is not None:
        raise Conflict("A case with that number exists", code="case_number_taken")
    case_id = await directory.create_case(
        conn,
        svc,
        tenant_id=tenant_id,
        administration_id=team.administration_id,
        team_id=team.id,
        owner_id=data["owner_id"],
        number=data["number"],
        case_type=data.get("case_type", "general"),
    )
    if data.get("kle_code") is not None:
        await _set_kle(conn, svc, tenant_id, case_id, data["kle_code"])
    seen: set[str] = set()
    for p in data.get("participants", []):
        if p["person_id"] in seen:
            raise BadInput("A person is listed twice", code="participant_exists")
        seen.add(p["person_id"])
        await part.add_participant(conn, svc, tenant_id, case_id, p, actor=actor)
    return await get_case(conn, tenant_id, case_id)


async def update_case(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    data: Mapping[str, Any],
    *,
    actor: str,
) -> dict[str, Any]:
    """Change owner, team, type, KLE code or status; a new owner or status is journalised."""
    current = await get_case(conn, tenant_id, case_id)
    values: dict[str, Any] = {}
    notes: list[tuple[str, str]] = []
    if "team_id" in data and data["team_id"] != current["team_id"]:
        team = await one(conn, teams, tenant_id, data["team_id"], "team")
        values.update(team_id=team.id, administration_id=team.administration_id)
    if "owner_id" in data and data["owner_id"] != current["owner_id"]:
        await _active_owner(conn, tenant_id, data["owner_id"])
        values["owner_id"] = data["owner_id"]
        notes.append(("case_owner_changed", "Sagen har fået en ny sagsbehandler"))
    if "case_type" in data:
        values["case_type"] = data["case_type"]
    if "status" in data and data["status"] != current["status"]:
        values["status"] = data["status"]
        notes.append(
            ("case_closed", "Sagen er lukket")
            if data["status"] == "closed"
            else ("case_reopened", "Sagen er genåbnet")
        )
    if values:
        await conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    if "kle_code" in data:
        await _set_kle(conn, svc, tenant_id, case_id, data["kle_code"])
    for kind, subject in notes:
        await append(
            conn,
            tenant_id=tenant_id,
            case_id=case_id,
            kind=kind,
            direction="internal",
            channel="api",
            subject=subject,
            actor=actor,
            at=svc.clock.now(),
        )
    return await get_case(conn, tenant_id, case_id)


# -- updates to the family ----------------------------------------------------------


async def send_update(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    body: str,
    nature: str = "message",
) -> dict[str, Any]:
    """Queue one SMS per entitled participant (consent, authority in force, a phone).

    A participant is skipped when not entitled, when the case system recorded
    no SMS consent, when a representative's authority is not in force today,
    without a phone, or when the citizen opted out of proactive SMS (STOP) or
    their processing is restricted. Every skip but "not entitled" is
    journalised on the case (:data:`UPDATE_SKIPPED`, why in the gate's words,
    the participant named under the case's key), also when nobody gets the
    update: the caller commits and answers 409 ``no_recipients`` then
    (:func:`nobody_got`), so the record keeps what was held back.

    Each goes through :func:`bot.domain.outbound.queue_sms` into the participant's
    thread on the case, sealed under the case's key and journalised. An
    afgørelse is refused (400 ``decision_not_allowed``), also when flagged as
    guidance; guidance gets its plain line.
    """
    body = body.strip()
    if not body:
        raise BadInput("The update is empty", code="empty_body")
    body = as_sent(body, nature)
    if len(body) > svc.config.max_body_chars:
        raise BadInput(
            f"The update is longer than {svc.config.max_body_chars} characters",
            code="body_too_long",
        )
    case = await one(conn, cases, tenant_id, case_id, "case")
    if case.status != "open":
        raise Conflict("The case is closed", code="case_closed")
    now = svc.clock.now()
    today = now.astimezone(COPENHAGEN).date()
    sent: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    key = SealingKey("case", case_id, svc.dek("cases", case_id, case.dek))
    for p in await case_recipients(conn, case_id, today):
        if p.skip is not None:
            skipped.append({"participant_id": p.participant_id, "reason": p.skip})
            why = gate.RESTRICTED if p.skip == recipients.OPTED_OUT and p.restricted else p.skip
            if why in SKIP_WORDS:
                await append(
                    conn,
                    tenant_id=tenant_id,
                    case_id=case_id,
                    kind="update_skipped",
                    direction="internal",
                    channel="sms",
                    subject=f"{UPDATE_SKIPPED}: {SKIP_WORDS[why]}",
                    actor="system",
                    at=now,
                    content=f"Deltager {p.participant_id} ({p.role})",
                    key=key,
                )
            continue
        conv_id = await conversation_for(
            conn, tenant_id=tenant_id, case_id=case_id, person_id=p.person_id, at=now, touch=True
        )
        mid = await queue_sms(
            conn,
            tenant_id=tenant_id,
            conversation_id=conv_id,
            case_id=case_id,
            person_id=p.person_id,
            kind="update",
            body=body,
            key=key,
            at=now,
            subject=UPDATE_SUBJECT,
        )
        sent.append(
            {"participant_id": p.participant_id, "conversation_id": conv_id, "message_id": mid}
        )
    return {"case_id": case_id, "messages": sent, "skipped": skipped}


def nobody_got(update: dict[str, Any]) -> Conflict | None:
    """The refusal to answer when :func:`send_update` reached nobody (None: someone got it).

    Returned, not raised: the skips it journalised are to be committed first.
    """
    if update["messages"]:
        return None
    return Conflict(
        "No participant may receive the update: "
        + (", ".join(sorted({s["reason"] for s in update["skipped"]})) or "the case has none"),
        code="no_recipients",
    )


async def count_rows(conn: AsyncConnection, table: Table, tenant_id: str) -> int:
    return int(
        (
            await conn.execute(
                select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            )
        ).scalar_one()
    )

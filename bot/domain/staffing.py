"""Fravær og vagtplan: absences, opening hours, closing days, duty rosters, contacts.

Every function checks the caller's rights: staff manage their own absences,
a team lead their team's, an admin the municipality's. Ids from another
municipality are "not found". Absence reasons are for staff only and never
reach a citizen.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import icalendar
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey, seal, unseal
from bot.base.errors import BadInput, Conflict, Forbidden, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.inbound import normalise_number
from bot.domain.outbound import ensure_conversation, queue_sms
from bot.domain.routing import (
    duty_gaps,
    forget_calendars,
    is_available,
    local_day,
    on_duty,
    parse_hhmm,
    team_calendar,
)
from bot.domain.texts import long_date, text
from bot.store.schema.core import (
    absences,
    cases,
    closing_days,
    duty_overrides,
    duty_rotation,
    messages,
    participants,
    persons,
    staff,
    teams,
    triage_terms,
)
from journal.journal import append

log = logging.getLogger(__name__)

MAX_ICAL_EVENTS = 500


def parse_day(value: Any, field: str) -> date:
    if not isinstance(value, str):
        raise BadInput(f"{field} must be a date (YYYY-MM-DD)", code="bad_date")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(f"{field} must be a date (YYYY-MM-DD)", code="bad_date") from exc


async def _staff_in_tenant(
    conn: AsyncConnection, user: StaffUser, staff_id: Any, code: str = "staff_not_found"
) -> Any:
    if not isinstance(staff_id, str):
        raise BadInput("staff ids are text", code="bad_field")
    row = (
        await conn.execute(
            select(staff).where(staff.c.id == staff_id, staff.c.tenant_id == user.tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such staff member", code=code)
    return row


def _may_manage(user: StaffUser, target: Any) -> None:
    """Own record; a lead's own team; an admin's whole municipality."""
    if target.id == user.id or user.role == "admin":
        return
    if user.role == "lead" and target.team_id == user.team_id:
        return
    raise NotFound("No such staff member", code="staff_not_found")


async def _team(conn: AsyncConnection, user: StaffUser, team_id: str, *, manage: bool) -> Any:
    row = (
        await conn.execute(
            select(teams).where(teams.c.id == team_id, teams.c.tenant_id == user.tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such team", code="team_not_found")
    if manage and not (user.role == "admin" or (user.role == "lead" and user.team_id == team_id)):
        raise Forbidden("Only the team lead or an admin may change this", code="not_team_lead")
    return row


# -- absences -----------------------------------------------------------------------


async def add_absence(svc: Services, user: StaffUser, data: dict[str, Any]) -> dict[str, Any]:
    """Register an absence (fravær): a date range and, optionally, a named substitute."""
    starts = parse_day(data.get("starts_on"), "starts_on")
    ends = parse_day(data.get("ends_on"), "ends_on")
    if ends < starts:
        raise BadInput("ends_on is before starts_on", code="bad_date_range")
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
        raise BadInput("reason must be text of at most 200 characters", code="bad_field")
    async with svc.write() as conn:
        target = await _staff_in_tenant(conn, user, data.get("staff_id", user.id))
        _may_manage(user, target)
        substitute = data.get("substitute_id")
        if substitute is not None:
            sub = await _staff_in_tenant(conn, user, substitute, code="substitute_not_found")
            if sub.id == target.id:
                raise BadInput("A substitute cannot be the absent person", code="bad_substitute")
        return await _insert_absence(
            conn, svc, user, target, starts, ends, substitute, reason, source="api", uid=None
        )


async def _insert_absence(
    conn: AsyncConnection,
    svc: Services,
    user: StaffUser | None,
    target: Any,
    starts: date,
    ends: date,
    substitute: str | None,
    reason: str | None,
    *,
    source: str,
    uid: str | None,
) -> dict[str, Any]:
    absence_id = new_id()
    reason_enc = None
    if reason:
        dek = svc.dek("staff", target.id, target.dek)
        reason_enc = seal(dek, reason, f"absences:{absence_id}:reason")
    await conn.execute(
        absences.insert().values(
            id=absence_id,
            tenant_id=target.tenant_id,
            staff_id=target.id,
            starts_on=starts,
            ends_on=ends,
            substitute_id=substitute,
            reason_enc=reason_enc,
            source=source,
            source_uid=uid,
            created_by=user.id if user else None,
            created_at=svc.clock.now(),
        )
    )
    return {
        "id": absence_id,
        "staff_id": target.id,
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "substitute_id": substitute,
        "source": source,
    }


async def list_absences(svc: Services, user: StaffUser, staff_id: str) -> list[dict[str, Any]]:
    async with svc.read() as conn:
        target = await _staff_in_tenant(conn, user, staff_id)
        _may_manage(user, target)
        rows = (
            await conn.execute(
                select(absences)
                .where(absences.c.staff_id == target.id)
                .order_by(absences.c.starts_on)
            )
        ).all()
    dek = svc.dek("staff", target.id, target.dek)
    return [
        {
            "id": r.id,
            "staff_id": r.staff_id,
            "starts_on": r.starts_on.isoformat(),
            "ends_on": r.ends_on.isoformat(),
            "substitute_id": r.substitute_id,
            "source": r.source,
            "reason": unseal(dek, r.reason_enc, f"absences:{r.id}:reason")
            if r.reason_enc
            else None,
        }
        for r in rows
    ]


async def remove_absence(svc: Services, user: StaffUser, absence_id: str) -> None:
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(absences.c.staff_id).where(
                    absences.c.id == absence_id, absences.c.tenant_id == user.tenant_id
                )
            )
        ).first()
        if row is None:
            raise NotFound("No such absence", code="absence_not_found")
        _may_manage(user, await _staff_in_tenant(conn, user, row.staff_id))
        await conn.execute(delete(absences).where(absences.c.id == absence_id))


def _to_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(COPENHAGEN).date() if value.tzinfo else value.date()
    return value


def _event_days(event: Any) -> tuple[date, date] | None:
    start = event.get("DTSTART")
    if start is None:
        return None
    first = start.dt
    end = event.get("DTEND")
    last = first if end is None else end.dt
    if end is not None and not isinstance(last, datetime) and not isinstance(first, datetime):
        # DTEND of an all-day event is exclusive: a one-day event "ends" the next day.
        last = max(first, date.fromordinal(last.toordinal() - 1))
    return _to_day(first), _to_day(last)


async def import_ical(
    svc: Services, user: StaffUser, staff_id: str, payload: bytes
) -> dict[str, int]:
    """Absences from an iCalendar file or feed; events are matched by UID, so re-import updates."""
    try:
        calendar = icalendar.Calendar.from_ical(payload)
    except (ValueError, IndexError, KeyError) as exc:
        raise BadInput("The body is not an iCalendar file", code="bad_ical") from exc
    events = [c for c in calendar.walk("VEVENT")]
    if len(events) > MAX_ICAL_EVENTS:
        raise BadInput(f"At most {MAX_ICAL_EVENTS} events per import", code="too_many_events")
    parsed = []
    for event in events:
        days = _event_days(event)
        uid = str(event.get("UID", "")) or None
        if days is None or uid is None or days[1] < days[0]:
            raise BadInput("Every event needs a UID, a start and an end after it", code="bad_ical")
        parsed.append((uid, days, str(event.get("SUMMARY", "")) or None))
    created = updated = 0
    async with svc.write() as conn:
        target = await _staff_in_tenant(conn, user, staff_id)
        _may_manage(user, target)
        for uid, (starts, ends), summary in parsed:
            existing = (
                await conn.execute(
                    select(absences.c.id).where(
                        absences.c.staff_id == target.id, absences.c.source_uid == uid
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                await conn.execute(
                    update(absences)
                    .where(absences.c.id == existing)
                    .values(starts_on=starts, ends_on=ends)
                )
                updated += 1
            else:
                await _insert_absence(
                    conn, svc, user, target, starts, ends, None, summary, source="ical", uid=uid
                )
                created += 1
    return {"created": created, "updated": updated}


# -- hours, closing days, roster ------------------------------------------------------


async def set_team_hours(
    svc: Services, user: StaffUser, team_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in ("opens_at", "closes_at"):
        if field in data:
            try:
                parse_hhmm(str(data[field]))
            except ValueError as exc:
                raise BadInput(f"{field} must be HH:MM", code="bad_time") from exc
            values[field] = str(data[field])
    if "after_hours_phone" in data:
        phone = data["after_hours_phone"]
        values["after_hours_phone"] = (
            normalise_number(phone, field="after_hours_phone") if phone else None
        )
    if "escalate_after_min" in data:
        minutes = data["escalate_after_min"]
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240:
            raise BadInput("escalate_after_min must be 1–240 minutes", code="bad_field")
        values["escalate_after_min"] = minutes
    if "reply_days" in data:
        days = data["reply_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 60:
            raise BadInput("reply_days must be 0–60 working days", code="bad_field")
        values["reply_days"] = days
    async with svc.write() as conn:
        team = await _team(conn, user, team_id, manage=True)
        merged = {**team._mapping, **values}
        if parse_hhmm(merged["opens_at"]) >= parse_hhmm(merged["closes_at"]):
            raise BadInput("opens_at must be before closes_at", code="bad_time_range")
        if values:
            await conn.execute(update(teams).where(teams.c.id == team_id).values(**values))
    forget_calendars(svc)
    return {
        k: merged[k]
        for k in (
            "id",
            "opens_at",
            "closes_at",
            "after_hours_phone",
            "escalate_after_min",
            "reply_days",
        )
    }


async def add_closing_day(svc: Services, user: StaffUser, data: dict[str, Any]) -> dict[str, Any]:
    if user.role not in ("admin", "lead"):
        raise Forbidden("Only a lead or an admin may add closing days", code="not_team_lead")
    day = parse_day(data.get("day"), "day")
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise BadInput("name must be text of 1–100 characters", code="bad_field")
    try:
        async with svc.write() as conn:
            await conn.execute(
                closing_days.insert().values(
                    id=new_id(), tenant_id=user.tenant_id, day=day, name=name
                )
            )
    except IntegrityError as exc:
        raise Conflict("That day is already a closing day", code="closing_day_exists") from exc
    forget_calendars(svc)
    return {"day": day.isoformat(), "name": name}


async def set_rotation(
    svc: Services, user: StaffUser, team_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    """The weekly rotation: {"0": staff_id, …, "4": staff_id} (0 = Monday); replaces the old one."""
    week = data.get("rotation")
    if not isinstance(week, dict):
        raise BadInput("rotation must be an object of weekday → staff id", code="bad_field")
    async with svc.write() as conn:
        await _team(conn, user, team_id, manage=True)
        rows = []
        for key, staff_id in week.items():
            if key not in {str(d) for d in range(7)}:
                raise BadInput("weekdays are 0 (Monday) to 6 (Sunday)", code="bad_weekday")
            member = await _staff_in_tenant(conn, user, staff_id)
            rows.append(
                {
                    "id": new_id(),
                    "tenant_id": user.tenant_id,
                    "team_id": team_id,
                    "weekday": int(key),
                    "staff_id": member.id,
                }
            )
        await conn.execute(delete(duty_rotation).where(duty_rotation.c.team_id == team_id))
        if rows:
            await conn.execute(duty_rotation.insert(), rows)
    return {"team_id": team_id, "rotation": {str(r["weekday"]): r["staff_id"] for r in rows}}


async def add_override(
    svc: Services, user: StaffUser, team_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    """One day's duty given to someone else. Two overrides for one day conflict (409)."""
    day = parse_day(data.get("day"), "day")
    try:
        async with svc.write() as conn:
            await _team(conn, user, team_id, manage=True)
            member = await _staff_in_tenant(conn, user, data.get("staff_id"))
            exists = (
                await conn.execute(
                    select(duty_overrides.c.id).where(
                        duty_overrides.c.team_id == team_id, duty_overrides.c.day == day
                    )
                )
            ).first()
            if exists is not None:
                raise Conflict("That day already has an override", code="duty_override_exists")
            override_id = new_id()
            await conn.execute(
                duty_overrides.insert().values(
                    id=override_id,
                    tenant_id=user.tenant_id,
                    team_id=team_id,
                    day=day,
                    staff_id=member.id,
                )
            )
    except IntegrityError as exc:
        raise Conflict("That day already has an override", code="duty_override_exists") from exc
    return {"id": override_id, "team_id": team_id, "day": day.isoformat(), "staff_id": member.id}


async def roster(
    svc: Services, user: StaffUser, team_id: str, start: date, days: int
) -> dict[str, Any]:
    """Who is on duty each day, and the gaps (days where nobody available is)."""
    if not 1 <= days <= 92:
        raise BadInput("days must be 1–92", code="bad_field")
    async with svc.read() as conn:
        team = await _team(conn, user, team_id, manage=False)
        calendar = await team_calendar(conn, svc, team)
        plan = []
        for offset in range(days):
            day = date.fromordinal(start.toordinal() + offset)
            who = await on_duty(conn, team_id, day) if calendar.is_working_day(day) else None
            plan.append(
                {
                    "day": day.isoformat(),
                    "staff_id": who,
                    "working_day": calendar.is_working_day(day),
                }
            )
        gaps = await duty_gaps(conn, team=team, start=start, days=days, calendar=calendar)
    return {"team_id": team_id, "days": plan, "gaps": gaps}


# -- contacts ---------------------------------------------------------------------------


async def set_work_phone(svc: Services, user: StaffUser, staff_id: str, phone: Any) -> None:
    """The work phone that receives pages (never content) and may answer "OK"."""
    if not isinstance(phone, str):
        raise BadInput("phone must be text", code="bad_field")
    number = normalise_number(phone, field="phone")
    async with svc.write() as conn:
        target = await _staff_in_tenant(conn, user, staff_id)
        _may_manage(user, target)
        dek = svc.dek("staff", target.id, target.dek)
        await conn.execute(
            update(staff)
            .where(staff.c.id == target.id)
            .values(
                work_phone_enc=seal(dek, number, f"staff:{target.id}:work_phone"),
                work_phone_index=svc.blind_index(number),
            )
        )


async def add_triage_term(svc: Services, user: StaffUser, data: dict[str, Any]) -> dict[str, str]:
    if user.role not in ("admin", "lead"):
        raise Forbidden("Only a lead or an admin may change triage words", code="not_team_lead")
    kind, term = data.get("kind"), data.get("term")
    if kind not in ("urgent", "risk"):
        raise BadInput("kind must be urgent or risk", code="bad_field")
    if not isinstance(term, str) or not 2 <= len(term.strip()) <= 100:
        raise BadInput("term must be 2–100 characters", code="bad_field")
    try:
        async with svc.write() as conn:
            await conn.execute(
                triage_terms.insert().values(
                    id=new_id(), tenant_id=user.tenant_id, kind=kind, term=term.strip()
                )
            )
    except IntegrityError as exc:
        raise Conflict("That word is already there", code="triage_term_exists") from exc
    svc.__dict__.pop("_triagers", None)
    return {"kind": str(kind), "term": term.strip()}


async def _tell_participants(
    conn: AsyncConnection,
    svc: Services,
    *,
    case_id: str,
    tenant_id: str,
    key: SealingKey,
    build: Any,
    subject: str,
) -> int:
    """One plain SMS to each entitled participant with a phone, on their case thread."""
    now = svc.clock.now()
    rows = (
        await conn.execute(
            select(persons.c.id, persons.c.language)
            .join(participants, participants.c.person_id == persons.c.id)
            .where(
                participants.c.case_id == case_id,
                participants.c.entitled.is_(True),
                persons.c.phone_enc.is_not(None),
            )
        )
    ).all()
    for person in rows:
        conv_id = await ensure_conversation(
            conn, tenant_id=tenant_id, case_id=case_id, person_id=person.id, at=now
        )
        await queue_sms(
            conn,
            tenant_id=tenant_id,
            conversation_id=conv_id,
            case_id=case_id,
            person_id=person.id,
            kind="contact",
            body=build(person.language),
            key=key,
            at=now,
            subject=subject,
            language=person.language,
        )
    return len(rows)


def _first_name(svc: Services, row: Any) -> str:
    return unseal(
        svc.dek("staff", row.id, row.dek), row.first_name_enc, f"staff:{row.id}:first_name"
    )


async def change_owner(
    svc: Services, user: StaffUser, case_id: str, owner_id: Any
) -> dict[str, Any]:
    """A case gets a new caseworker: open messages move, and the citizen is told who it is."""
    if user.role not in ("admin", "lead"):
        raise NotFound("No such case", code="case_not_found")
    async with svc.write() as conn:
        case = (
            await conn.execute(
                select(cases).where(cases.c.id == case_id, cases.c.tenant_id == user.tenant_id)
            )
        ).first()
        if case is None or (user.role == "lead" and case.team_id != user.team_id):
            raise NotFound("No such case", code="case_not_found")
        new_owner = await _staff_in_tenant(conn, user, owner_id)
        if new_owner.id == case.owner_id:
            return {"case_id": case_id, "owner_id": new_owner.id, "told": 0}
        await conn.execute(update(cases).where(cases.c.id == case_id).values(owner_id=new_owner.id))
        await conn.execute(
            update(messages)
            .where(messages.c.case_id == case_id, messages.c.awaiting_reply.is_(True))
            .values(owner_id=new_owner.id, original_owner_id=None)
        )
        key = SealingKey("case", case_id, svc.dek("cases", case_id, case.dek))
        await append(
            conn,
            tenant_id=user.tenant_id,
            case_id=case_id,
            kind="owner_changed",
            direction="internal",
            channel="api",
            subject="Sagen har fået ny sagsbehandler",
            actor=f"staff:{user.id}",
            at=svc.clock.now(),
            content=f"Fra {case.owner_id} til {new_owner.id}",
            key=key,
        )
        first = _first_name(svc, new_owner)
        told = await _tell_participants(
            conn,
            svc,
            case_id=case_id,
            tenant_id=user.tenant_id,
            key=key,
            build=lambda lang: text(lang, "new_contact", first_name=first),
            subject="Borgeren er orienteret om ny kontaktperson",
        )
    svc.wake_relay()
    return {"case_id": case_id, "owner_id": new_owner.id, "told": told}


async def absence_notices_tick(svc: Services) -> int:
    """Tell citizens once when their caseworker's absence outlasts the reply guarantee."""
    now = svc.clock.now()
    today = local_day(now)
    told = 0
    async with svc.write() as conn:
        rows = (
            await conn.execute(
                select(
                    absences,
                    teams.c.reply_days,
                    teams.c.id.label("team_id"),
                    teams.c.tenant_id.label("team_tenant"),
                    teams.c.opens_at,
                    teams.c.closes_at,
                )
                .join(staff, staff.c.id == absences.c.staff_id)
                .join(teams, teams.c.id == staff.c.team_id)
                .where(
                    absences.c.citizens_told_at.is_(None),
                    absences.c.starts_on <= today,
                    absences.c.ends_on >= today,
                )
            )
        ).all()
        for a in rows:
            team = type(
                "T",
                (),
                {"tenant_id": a.team_tenant, "opens_at": a.opens_at, "closes_at": a.closes_at},
            )
            calendar = await team_calendar(conn, svc, team)
            back_on = calendar.add_working_days(a.ends_on, 1)
            if calendar.add_working_days(today, a.reply_days) >= back_on:
                continue  # back within the guarantee: the receipt says enough
            contact = a.substitute_id if await is_available(conn, a.substitute_id, today) else None
            if contact is None:
                duty = await on_duty(conn, a.team_id, today)
                contact = (
                    duty if duty != a.staff_id and await is_available(conn, duty, today) else None
                )
            await conn.execute(
                update(absences).where(absences.c.id == a.id).values(citizens_told_at=now)
            )
            if contact is None:
                continue
            colleague = _first_name(
                svc, (await conn.execute(select(staff).where(staff.c.id == contact))).one()
            )
            open_cases = (
                await conn.execute(
                    select(cases.c.id, cases.c.dek, cases.c.tenant_id).where(
                        and_(cases.c.owner_id == a.staff_id, cases.c.status == "open")
                    )
                )
            ).all()
            for case in open_cases:
                key = SealingKey("case", case.id, svc.dek("cases", case.id, case.dek))
                told += await _tell_participants(
                    conn,
                    svc,
                    case_id=case.id,
                    tenant_id=case.tenant_id,
                    key=key,
                    build=lambda lang, c=colleague, b=back_on: text(
                        lang, "absence_contact", back_on=long_date(b, lang), colleague=c
                    ),
                    subject="Borgeren er orienteret om kontaktperson under fravær",
                )
    if told:
        svc.wake_relay()
    return told

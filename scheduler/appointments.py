"""Møder: appointments with reminders, confirmation by SMS, and an .ics for the calendar.

Reminders are rows (scheduler.runner sends them). Moving an appointment
withdraws every reminder not yet out and makes new ones; cancelling withdraws
them; either way the attendees are told, and no stale reminder ever goes out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.base.workdays import format_time
from bot.domain.outbound import queue_sms
from bot.store.schema.core import cases, participants, persons, tenants
from bot.store.schema.scheduler import appointments, followup_tasks, reminders
from scheduler import settings as quiet_store
from scheduler.quiet import local_instant
from scheduler.store import (
    add_reminder,
    case_for,
    case_key,
    case_visible,
    conversation_for,
    local_date,
    note,
    require_open,
    withdraw_reminders,
)
from scheduler.templates import clock_time, long_date, say

MAX_OFFSETS = 5
MAX_AHEAD = timedelta(days=2 * 366)
MAX_PLACE = 200
MAX_URL = 500
DEFAULT_LENGTH = timedelta(hours=1)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Offset:
    """When to remind, relative to the appointment.

    Either ``working_days`` before at local ``at`` (the working day before at
    10:00), or ``minutes`` before the start (two hours before).
    """

    working_days: int = 0
    at: time = time(10, 0)
    minutes: int = 0

    def nominal(self, starts_at: datetime, svc: Services) -> datetime:
        if self.working_days:
            day = svc.calendar.working_days_before(local_date(starts_at), self.working_days)
            return local_instant(day, self.at)
        return starts_at - timedelta(minutes=self.minutes)

    def as_json(self) -> dict[str, Any]:
        if self.working_days:
            return {"working_days_before": self.working_days, "at": self.at.strftime("%H:%M")}
        if self.minutes % 60 == 0:
            return {"hours_before": self.minutes // 60}
        return {"minutes_before": self.minutes}


DEFAULT_OFFSETS = (Offset(working_days=1, at=time(10, 0)), Offset(minutes=120))


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"{name} must be a whole number from {low} to {high}", code="bad_offset")
    return value


def parse_offsets(raw: Any) -> tuple[Offset, ...]:
    """Reminder offsets from JSON.

    Example: ``[{"working_days_before": 1, "at": "10:00"}, {"hours_before": 2}]``.

    Raises:
        BadInput (bad_offset): not a list of 1-5 objects, an unknown key, a
            number out of range, two offsets that are the same.
    """
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OFFSETS:
        raise BadInput(f"reminders must be a list of 1 to {MAX_OFFSETS} offsets", code="bad_offset")
    found: list[Offset] = []
    for item in raw:
        if not isinstance(item, dict) or len(set(item) - {"at"}) != 1:
            raise BadInput(
                "each offset needs exactly one of working_days_before, hours_before, "
                "minutes_before",
                code="bad_offset",
            )
        if "working_days_before" in item:
            days = _int(item["working_days_before"], "working_days_before", 1, 20)
            at_raw = item.get("at", "10:00")
            match = _HHMM.match(at_raw) if isinstance(at_raw, str) else None
            if match is None:
                raise BadInput("at must be a time like 10:00", code="bad_offset")
            offset = Offset(working_days=days, at=time(int(match.group(1)), int(match.group(2))))
        elif "at" in item:
            raise BadInput("at goes with working_days_before only", code="bad_offset")
        elif "hours_before" in item:
            offset = Offset(minutes=60 * _int(item["hours_before"], "hours_before", 1, 24 * 14))
        elif "minutes_before" in item:
            offset = Offset(minutes=_int(item["minutes_before"], "minutes_before", 5, 60 * 24 * 14))
        else:
            raise BadInput(f"Unknown offset: {sorted(item)[0]}", code="bad_offset")
        if offset in found:
            raise BadInput("The same offset is given twice", code="bad_offset")
        found.append(offset)
    return tuple(found)


def _offsets_from_json(text: str) -> tuple[Offset, ...]:
    return parse_offsets(json.loads(text))


def check_times(now: datetime, starts_at: datetime, ends_at: datetime) -> None:
    if starts_at <= now:
        raise BadInput("The appointment is in the past", code="appointment_in_past")
    if starts_at - now > MAX_AHEAD:
        raise BadInput("The appointment is more than two years ahead", code="bad_datetime")
    if ends_at <= starts_at:
        raise BadInput("ends_at must be after starts_at", code="bad_datetime")
    if ends_at - starts_at > timedelta(hours=24):
        raise BadInput("An appointment lasts at most 24 hours", code="bad_datetime")


def check_place(place: str | None, video_url: str | None) -> None:
    if place is not None and len(place) > MAX_PLACE:
        raise BadInput(f"place is longer than {MAX_PLACE} characters", code="bad_field")
    if video_url is not None and (
        len(video_url) > MAX_URL or not video_url.startswith("https://") or " " in video_url
    ):
        raise BadInput("video_url must be an https:// link", code="bad_field")


async def _attendees(conn: AsyncConnection, case_id: str, wanted: list[str] | None) -> list[str]:
    rows = await conn.execute(
        select(participants.c.person_id)
        .join(persons, persons.c.id == participants.c.person_id)
        .where(participants.c.case_id == case_id, participants.c.entitled.is_(True))
        .order_by(participants.c.created_at, participants.c.person_id)
    )
    entitled = [str(r) for r in rows.scalars()]
    if wanted is None:
        return entitled
    for pid in wanted:
        if pid not in entitled:
            raise BadInput(
                "An attendee is not an entitled participant of the case", code="unknown_attendee"
            )
    return list(dict.fromkeys(wanted))


def _seal(key: SealingKey, appt_id: str, column: str, value: str | None) -> bytes | None:
    if value is None:
        return None
    return Services.seal(key.dek, "appointments", appt_id, column, value)


def _open(key: SealingKey, appt_id: str, column: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return Services.unseal(key.dek, "appointments", appt_id, column, blob)


async def _schedule_reminders(
    conn: AsyncConnection, svc: Services, *, appt: Any, case: Any, now: datetime
) -> None:
    """One reminder row per attendee and offset, each moved out of quiet hours."""
    people = json.loads(appt.attendees)["persons"]
    stored = await quiet_store.settings_map(conn, [case.tenant_id], people)
    for person_id in people:
        conv_id = await conversation_for(
            conn, tenant_id=case.tenant_id, case_id=case.id, person_id=person_id, at=now
        )
        for offset in _offsets_from_json(appt.offsets):
            await add_reminder(
                conn,
                svc,
                tenant_id=case.tenant_id,
                case_id=case.id,
                kind="appointment",
                ref_id=appt.id,
                person_id=person_id,
                conversation_id=conv_id,
                nominal_at=offset.nominal(appt.starts_at, svc),
                now=now,
                event_at=appt.starts_at,
                expires_at=appt.starts_at,
                quiet=quiet_store.pick(stored, case.tenant_id, person_id),
            )


async def _load(conn: AsyncConnection, user: StaffUser, appt_id: str) -> tuple[Any, Any]:
    row = (
        await conn.execute(
            select(appointments)
            .join(cases, cases.c.id == appointments.c.case_id)
            .where(appointments.c.id == appt_id, case_visible(user))
        )
    ).first()
    if row is None:
        raise NotFound("No such appointment", code="appointment_not_found")
    case = await case_for(conn, user, row.case_id)
    return row, case


async def _as_json(conn: AsyncConnection, svc: Services, appt: Any, case: Any) -> dict[str, Any]:
    key = case_key(svc, case.id, case.dek)
    due = await conn.execute(
        select(reminders.c.id, reminders.c.person_id, reminders.c.due_at, reminders.c.state)
        .where(reminders.c.ref_id == appt.id)
        .order_by(reminders.c.due_at, reminders.c.id)
    )
    attendees = json.loads(appt.attendees)
    return {
        "id": appt.id,
        "case_id": appt.case_id,
        "starts_at": appt.starts_at.isoformat(),
        "ends_at": appt.ends_at.isoformat(),
        "place": _open(key, appt.id, "place", appt.place_enc),
        "video_url": _open(key, appt.id, "video_url", appt.video_url_enc),
        "attendees": attendees["persons"],
        "staff": attendees["staff"],
        "reminder_offsets": json.loads(appt.offsets),
        "status": appt.status,
        "citizen_request": appt.citizen_request,
        "confirmed_at": appt.confirmed_at.isoformat() if appt.confirmed_at else None,
        "sequence": appt.sequence,
        "reminders": [
            {"id": r.id, "person_id": r.person_id, "due_at": r.due_at.isoformat(), "state": r.state}
            for r in due
        ],
    }


async def _reload(conn: AsyncConnection, appt_id: str) -> Any:
    return (await conn.execute(select(appointments).where(appointments.c.id == appt_id))).one()


async def create_appointment(
    svc: Services,
    user: StaffUser,
    case_id: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str | None = None,
    video_url: str | None = None,
    attendees: list[str] | None = None,
    offsets: tuple[Offset, ...] = DEFAULT_OFFSETS,
) -> dict[str, Any]:
    """Book an appointment on a case and schedule its reminders.

    Raises:
        NotFound: no such case for this user.
        BadInput: in the past, ends before it starts, a bad place or link, an
            attendee who is not an entitled participant.
        Conflict: the case is closed.
    """
    now = svc.clock.now()
    ends_at = ends_at or starts_at + DEFAULT_LENGTH
    check_times(now, starts_at, ends_at)
    check_place(place, video_url)
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        require_open(case)
        people = await _attendees(conn, case_id, attendees)
        key = case_key(svc, case.id, case.dek)
        appt_id = new_id()
        await conn.execute(
            appointments.insert().values(
                id=appt_id,
                tenant_id=case.tenant_id,
                case_id=case_id,
                starts_at=starts_at,
                ends_at=ends_at,
                place_enc=_seal(key, appt_id, "place", place),
                video_url_enc=_seal(key, appt_id, "video_url", video_url),
                attendees=json.dumps({"persons": people, "staff": [user.id]}),
                offsets=json.dumps([o.as_json() for o in offsets]),
                status="scheduled",
                citizen_request="none",
                sequence=0,
                created_by=user.id,
                updated_at=now,
                created_at=now,
            )
        )
        appt = await _reload(conn, appt_id)
        await _schedule_reminders(conn, svc, appt=appt, case=case, now=now)
        await note(
            conn,
            tenant_id=case.tenant_id,
            case_id=case_id,
            kind="appointment_created",
            subject=f"Møde aftalt {_when(starts_at)}",
            actor=f"staff:{user.id}",
            at=now,
        )
        return await _as_json(conn, svc, appt, case)


def _when(at: datetime, language: str = "da") -> str:
    return f"{long_date(local_date(at), language)} kl. {format_time(at, 'da')}"


async def _tell_attendees(
    conn: AsyncConnection,
    svc: Services,
    *,
    appt: Any,
    case: Any,
    text_key: str,
    user: StaffUser,
    now: datetime,
    subject: str,
) -> None:
    """An update to every attendee (moved, cancelled); the gate holds it out of quiet hours."""
    tenant_name = (
        await conn.execute(select(tenants.c.name).where(tenants.c.id == case.tenant_id))
    ).scalar_one()
    people = json.loads(appt.attendees)["persons"]
    langs = dict(
        (
            await conn.execute(
                select(persons.c.id, persons.c.language).where(
                    persons.c.id.in_(people or [""]), persons.c.phone_enc.is_not(None)
                )
            )
        )
        .tuples()
        .all()
    )
    key = case_key(svc, case.id, case.dek)
    for person_id in people:
        if person_id not in langs:
            continue
        lang = langs[person_id]
        conv_id = await conversation_for(
            conn, tenant_id=case.tenant_id, case_id=case.id, person_id=person_id, at=now
        )
        await queue_sms(
            conn,
            tenant_id=case.tenant_id,
            conversation_id=conv_id,
            case_id=case.id,
            person_id=person_id,
            kind="update",
            body=say(
                lang,
                text_key,
                tenant=tenant_name,
                date=long_date(local_date(appt.starts_at), lang),
                time=clock_time(appt.starts_at, lang),
            ),
            key=key,
            at=now,
            author_id=user.id,
            subject=subject,
            language=lang,
        )


async def move_appointment(
    svc: Services,
    user: StaffUser,
    appt_id: str,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    place: str | None = None,
    video_url: str | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Move an appointment (and/or change where it is).

    A new time withdraws the reminders not yet out, schedules new ones and
    tells the attendees.

    Raises:
        NotFound: no such appointment for this user.
        BadInput: a new time in the past or ending before it starts.
        Conflict: the appointment is cancelled or the case closed.
    """
    now = svc.clock.now()
    check_place(place, video_url)
    async with svc.write() as conn:
        appt, case = await _load(conn, user, appt_id)
        require_open(case)
        if appt.status == "cancelled":
            raise Conflict("The appointment is cancelled", code="appointment_cancelled")
        new_start = starts_at or appt.starts_at
        new_end = ends_at or (
            new_start + (appt.ends_at - appt.starts_at) if starts_at else appt.ends_at
        )
        moved = new_start != appt.starts_at
        if moved or ends_at is not None:
            check_times(now, new_start, new_end)
        key = case_key(svc, case.id, case.dek)
        values: dict[str, Any] = {"starts_at": new_start, "ends_at": new_end, "updated_at": now}
        if place is not None:
            values["place_enc"] = _seal(key, appt_id, "place", place)
        if video_url is not None:
            values["video_url_enc"] = _seal(key, appt_id, "video_url", video_url)
        if moved:
            values.update(sequence=appt.sequence + 1, confirmed_at=None, citizen_request="none")
        await conn.execute(
            update(appointments).where(appointments.c.id == appt_id).values(**values)
        )
        appt = await _reload(conn, appt_id)
        if moved:
            await withdraw_reminders(conn, ref_id=appt_id, at=now, reason="mødet er flyttet")
            await _schedule_reminders(conn, svc, appt=appt, case=case, now=now)
            await conn.execute(
                update(followup_tasks)
                .where(
                    followup_tasks.c.ref_id == appt_id,
                    followup_tasks.c.state == "open",
                    followup_tasks.c.kind == "appointment_move",
                )
                .values(state="done", done_at=now)
            )
            await note(
                conn,
                tenant_id=case.tenant_id,
                case_id=case.id,
                kind="appointment_moved",
                subject=f"Møde flyttet til {_when(new_start)}",
                actor=f"staff:{user.id}",
                at=now,
            )
            if notify:
                await _tell_attendees(
                    conn,
                    svc,
                    appt=appt,
                    case=case,
                    text_key="appointment_moved",
                    user=user,
                    now=now,
                    subject="Besked til borger: mødet er flyttet",
                )
        result = await _as_json(conn, svc, appt, case)
    svc.wake_relay()
    return result


async def cancel_appointment(
    svc: Services, user: StaffUser, appt_id: str, *, notify: bool = True
) -> dict[str, Any]:
    """Cancel an appointment: withdraw its reminders and tell the attendees.

    Raises:
        NotFound: no such appointment for this user.
        Conflict: it is already cancelled.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        appt, case = await _load(conn, user, appt_id)
        if appt.status == "cancelled":
            raise Conflict("The appointment is already cancelled", code="appointment_cancelled")
        await conn.execute(
            update(appointments)
            .where(appointments.c.id == appt_id)
            .values(status="cancelled", sequence=appt.sequence + 1, updated_at=now)
        )
        await withdraw_reminders(conn, ref_id=appt_id, at=now, reason="mødet er aflyst")
        await conn.execute(
            update(followup_tasks)
            .where(followup_tasks.c.ref_id == appt_id, followup_tasks.c.state == "open")
            .values(state="done", done_at=now)
        )
        appt = await _reload(conn, appt_id)
        await note(
            conn,
            tenant_id=case.tenant_id,
            case_id=case.id,
            kind="appointment_cancelled",
            subject=f"Møde {_when(appt.starts_at)} aflyst",
            actor=f"staff:{user.id}",
            at=now,
        )
        if notify and case.status == "open" and appt.starts_at > now:
            await _tell_attendees(
                conn,
                svc,
                appt=appt,
                case=case,
                text_key="appointment_cancelled",
                user=user,
                now=now,
                subject="Besked til borger: mødet er aflyst",
            )
        result = await _as_json(conn, svc, appt, case)
    svc.wake_relay()
    return result


async def get_appointment(svc: Services, user: StaffUser, appt_id: str) -> dict[str, Any]:
    async with svc.read() as conn:
        appt, case = await _load(conn, user, appt_id)
        return await _as_json(conn, svc, appt, case)


async def list_appointments(svc: Services, user: StaffUser, case_id: str) -> list[dict[str, Any]]:
    async with svc.read() as conn:
        case = await case_for(conn, user, case_id)
        rows = await conn.execute(
            select(appointments)
            .where(appointments.c.case_id == case_id)
            .order_by(appointments.c.starts_at, appointments.c.id)
        )
        return [await _as_json(conn, svc, r, case) for r in list(rows)]


async def appointment_ics(svc: Services, user: StaffUser, appt_id: str) -> bytes:
    """The appointment as an iCalendar file (RFC 5545), cancelled ones as METHOD:CANCEL."""
    async with svc.read() as conn:
        appt, case = await _load(conn, user, appt_id)
        tenant_name = (
            await conn.execute(select(tenants.c.name).where(tenants.c.id == case.tenant_id))
        ).scalar_one()
    key = case_key(svc, case.id, case.dek)
    cal = Calendar()
    cal.add("prodid", "-//Tovholder//Tovholder//DA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if appt.status == "cancelled" else "PUBLISH")
    event = Event()
    event.add("uid", f"{appt.id}@tovholder")
    event.add("dtstamp", svc.clock.now())
    event.add("dtstart", appt.starts_at)
    event.add("dtend", appt.ends_at)
    event.add("summary", f"Møde med {tenant_name}")
    event.add("sequence", appt.sequence)
    event.add("status", "CANCELLED" if appt.status == "cancelled" else "CONFIRMED")
    place = _open(key, appt.id, "place", appt.place_enc)
    video = _open(key, appt.id, "video_url", appt.video_url_enc)
    if place:
        event.add("location", place)
    elif video:
        event.add("location", "Videomøde")
    if video:
        event.add("url", video)
    event.add("description", f"Sag {case.number}")
    cal.add_component(event)
    return bytes(cal.to_ical())


async def next_for(
    conn: AsyncConnection,
    *,
    case_id: str,
    person_id: str,
    now: datetime,
    within: timedelta = timedelta(days=14),
) -> Any:
    """The next scheduled appointment on a case that this person attends, if any.

    Only appointments within ``within`` count: an "OK" is about the meeting
    the citizen was just reminded of, not one months away.
    """
    found = await next_for_many(conn, [(case_id, person_id)], now=now, within=within)
    return found[case_id, person_id]


async def next_for_many(
    conn: AsyncConnection,
    attendees: Sequence[tuple[str, str]],
    *,
    now: datetime,
    within: timedelta = timedelta(days=14),
) -> dict[tuple[str, str], Any]:
    """:func:`next_for` of each (case id, person id), in one statement (None: none coming)."""
    rows = await conn.execute(
        select(appointments)
        .where(
            appointments.c.case_id.in_(list({case_id for case_id, _ in attendees})),
            appointments.c.status == "scheduled",
            appointments.c.starts_at > now,
            appointments.c.starts_at <= now + within,
        )
        .order_by(appointments.c.starts_at, appointments.c.id)
    )
    found: dict[tuple[str, str], Any] = dict.fromkeys(attendees)
    for row in rows:
        for person_id in json.loads(row.attendees)["persons"]:
            if found.get((row.case_id, person_id), row) is None:
                found[row.case_id, person_id] = row
    return found

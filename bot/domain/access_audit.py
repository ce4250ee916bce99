"""Databeskyttelse: who read a person's messages, and when (from the access log).

For the municipality's data-protection officer (an admin): find a person by a
case number they are party to, or by their phone number (looked up by its
blind index, as the inbound filing does: the number itself is never stored,
compared in plaintext or logged), then list every access-log row on that
person's messages, with who and when, on the page or as CSV.

Looking is itself an access: each view writes one access-log row per message
of the person (action ``audit``; the CSV ``export``), purpose
``databeskyttelse``, in the same transaction as the read, so the next look
shows it. ``audit`` is not ``read``: the family's "read by" line counts only
caseworkers who opened the message.

Only an admin may: a lead is themselves one of the readers being audited, and
a view cut to one team would be an incomplete audit. Anyone else, and any
person outside the admin's municipality, is "not found".
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.inbound import normalise_number
from bot.store.schema.core import access_log, cases, messages, participants, persons, staff

PURPOSE = "databeskyttelse"
SEARCH_MIN, SEARCH_MAX = 3, 40
PAGE_ROWS = 200  # grouped look-ups on the page; the CSV has every row
_PHONE_LIKE = re.compile(r"\+?[\d\s-]{8,}")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def may_audit(user: StaffUser) -> bool:
    return user.role == "admin"


def _admin(user: StaffUser) -> None:
    if not may_audit(user):
        raise NotFound("No such page", code="not_found")


@dataclass(frozen=True, slots=True)
class PersonHit:
    """A person as the officer picks them: name, the phone's last two digits, their cases."""

    id: str
    name: str | None
    phone_end: str | None
    case_numbers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access-log row on one of the person's messages."""

    at: datetime
    staff_id: str
    staff_name: str
    action: str
    purpose: str
    case_number: str | None
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Lookup:
    """Rows of one look-up (same moment, person, action, purpose, case), counted."""

    at: datetime
    staff_name: str
    action: str
    purpose: str
    case_number: str | None
    messages: int


@dataclass
class AccessReport:
    person: PersonHit
    entries: list[AccessEntry] = field(default_factory=list)

    def lookups(self, limit: int = PAGE_ROWS) -> list[Lookup]:
        """Newest first, one line per look-up rather than per message."""
        counted: Counter[tuple[datetime, str, str, str, str | None]] = Counter()
        for e in self.entries:
            counted[(e.at, e.staff_name, e.action, e.purpose, e.case_number)] += 1
        keys = sorted(counted, key=lambda k: (k[0], k[1], k[2], k[3], k[4] or ""), reverse=True)
        return [Lookup(*k, messages=counted[k]) for k in keys[:limit]]


def _query_phone(query: str) -> str | None:
    if not _PHONE_LIKE.fullmatch(query):
        return None
    try:
        return normalise_number(query, field="phone")
    except BadInput:
        return None


def _check_query(query: str) -> str:
    query = query.strip()
    if not SEARCH_MIN <= len(query) <= SEARCH_MAX:
        raise BadInput("Write a case number or a phone number", code="bad_search")
    return query


async def find_persons(svc: Services, user: StaffUser, query: str) -> list[PersonHit]:
    """People of the admin's municipality with this phone number, or on a case with this number.

    A query that is a valid phone number is a phone number (compared by blind index
    only); anything else is a case number. The query is neither stored nor logged.

    Raises:
        NotFound: not an admin.
        BadInput: ``bad_search`` (empty, shorter than 3 or longer than 40 characters).
    """
    _admin(user)
    query = _check_query(query)
    phone = _query_phone(query)
    # A valid phone number is looked up by its blind index only, never compared (or
    # sent to the database) as text; anything else is a case number.
    match: ColumnElement[bool]
    if phone is not None:
        match = persons.c.phone_index == svc.blind_index(phone)
    else:
        on_case = select(participants.c.person_id).join(cases, cases.c.id == participants.c.case_id)
        on_case = on_case.where(cases.c.tenant_id == user.tenant_id, cases.c.number == query)
        match = persons.c.id.in_(on_case)
    async with svc.read() as conn:
        rows = (
            await conn.execute(select(persons).where(persons.c.tenant_id == user.tenant_id, match))
        ).all()
        hits = [await _hit(conn, svc, r) for r in rows]
    return sorted(hits, key=lambda h: (h.name or "", h.id))


async def _hit(conn: AsyncConnection, svc: Services, person: Any) -> PersonHit:
    dek = svc.dek("persons", person.id, person.dek)
    name = unseal(dek, person.name_enc, f"persons:{person.id}:name") if person.name_enc else None
    phone = (
        unseal(dek, person.phone_enc, f"persons:{person.id}:phone") if person.phone_enc else None
    )
    numbers = (
        await conn.execute(
            select(cases.c.number)
            .join(participants, participants.c.case_id == cases.c.id)
            .where(participants.c.person_id == person.id)
            .order_by(cases.c.number)
        )
    ).scalars()
    return PersonHit(person.id, name, phone[-2:] if phone else None, tuple(numbers))


async def _person(conn: AsyncConnection, user: StaffUser, person_id: str) -> Any:
    row = (
        await conn.execute(
            select(persons).where(persons.c.id == person_id, persons.c.tenant_id == user.tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such person", code="person_not_found")
    return row


def _access_query(user: StaffUser, person_id: str) -> Any:
    return (
        select(
            access_log.c.at,
            access_log.c.action,
            access_log.c.purpose,
            access_log.c.message_id,
            staff.c.id.label("staff_id"),
            staff.c.dek.label("staff_dek"),
            staff.c.full_name_enc,
            cases.c.number,
        )
        .join(messages, messages.c.id == access_log.c.message_id)
        .join(staff, staff.c.id == access_log.c.staff_id)
        .outerjoin(cases, cases.c.id == access_log.c.case_id)
        .where(
            access_log.c.tenant_id == user.tenant_id,
            messages.c.person_id == person_id,
            messages.c.tenant_id == user.tenant_id,
        )
        .order_by(access_log.c.at.desc(), access_log.c.id)
    )


async def person_access(
    svc: Services, user: StaffUser, person_id: str, *, export: bool = False
) -> AccessReport:
    """Every access-log row on the person's messages, newest first; and log this look.

    Args:
        export: the CSV (logged as ``export``) rather than the page (``audit``).

    Raises:
        NotFound: not an admin, or no such person in the admin's municipality.
    """
    _admin(user)
    now = svc.clock.now()
    names: dict[str, str] = {}
    async with svc.write() as conn:
        person = await _person(conn, user, person_id)
        hit = await _hit(conn, svc, person)
        entries = [
            AccessEntry(
                r.at,
                r.staff_id,
                _staff_name(svc, r, names),
                r.action,
                r.purpose,
                r.number,
                r.message_id,
            )
            for r in (await conn.execute(_access_query(user, person.id))).all()
        ]
        await _log_look(conn, user, person.id, "export" if export else "audit", now)
    return AccessReport(hit, entries)


def _staff_name(svc: Services, row: Any, cache: dict[str, str]) -> str:
    if row.staff_id not in cache:
        dek = svc.dek("staff", row.staff_id, row.staff_dek)
        cache[row.staff_id] = unseal(dek, row.full_name_enc, f"staff:{row.staff_id}:full_name")
    return cache[row.staff_id]


async def _log_look(
    conn: AsyncConnection, user: StaffUser, person_id: str, action: str, at: datetime
) -> None:
    """One row per message of the person, so the look shows up in their access log too."""
    ids = (
        await conn.execute(
            select(messages.c.id, messages.c.case_id).where(
                messages.c.person_id == person_id, messages.c.tenant_id == user.tenant_id
            )
        )
    ).all()
    targets: list[tuple[str | None, str | None]] = [(m.case_id, m.id) for m in ids] or [
        (None, None)  # nothing to read, but the look is still on record
    ]
    await conn.execute(
        access_log.insert(),
        [
            {
                "id": new_id(),
                "tenant_id": user.tenant_id,
                "staff_id": user.id,
                "action": action,
                "case_id": case_id,
                "message_id": message_id,
                "purpose": PURPOSE,
                "at": at,
            }
            for case_id, message_id in targets
        ],
    )


CSV_FIELDS = (
    "tidspunkt",
    "medarbejder",
    "medarbejder_id",
    "handling",
    "formaal",
    "sagsnummer",
    "besked_id",
)


def _cell(value: str | None) -> str:
    """A spreadsheet must never take a cell for a formula."""
    text = value or ""
    return f"'{text}" if text.startswith(_CSV_FORMULA) else text


def report_csv(report: AccessReport) -> str:
    """One line per access-log row, Copenhagen time, newest first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for e in report.entries:
        writer.writerow(
            [
                e.at.astimezone(COPENHAGEN).isoformat(timespec="seconds"),
                _cell(e.staff_name),
                e.staff_id,
                e.action,
                _cell(e.purpose),
                _cell(e.case_number),
                e.message_id or "",
            ]
        )
    return buf.getvalue()

"""Demo data: one municipality, two teams with a duty roster, six staff, seven families, and
a meeting (with a place) booked for the Jensen family a week ahead.

Everything here is invented. The numbers are valid Danish mobile numbers that
only ever reach the local gateway simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import update

from bot.base.clock import COPENHAGEN
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import tenant_logo
from bot.domain.conversations import issue_token
from bot.domain.directory import (
    add_participant,
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.store.schema.core import duty_rotation
from bot.store.schema.core import teams as teams_table
from scheduler.appointments import create_appointment

MUNICIPALITY_NUMBER = "+4545971000"
# Where the Jensen family's meeting is (invented): their secure inbox shows it.
MEETING_PLACE = "Familiehuset, Stationsvej 4, mødelokale 2"

# Demo Kommune's logo (invented): a blue shield with three white waves.
DEMO_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 48" width="40" height="48">'
    b'<path d="M4 4h32v20c0 11-8 18-16 21C12 42 4 35 4 24z" fill="#004993"/>'
    b'<path d="M9 18c4-3 7 3 11 0s7 3 11 0M9 25c4-3 7 3 11 0s7 3 11 0M11 32c3-3 6 3 9 0s6 3 9 0"'
    b' fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>'
)


@dataclass
class DemoPhone:
    number: str
    label: str


@dataclass
class DemoInfo:
    municipality_number: str = MUNICIPALITY_NUMBER
    phones: list[DemoPhone] = field(default_factory=list)
    # (caseworker name, bearer token)
    caseworkers: list[tuple[str, str]] = field(default_factory=list)
    # demo key ("mette") -> staff id
    staff_ids: dict[str, str] = field(default_factory=dict)


STAFF = [
    # key, first name, full name, team, role
    ("mette", "Mette", "Mette Holm", "children", "caseworker"),
    ("sofie", "Sofie", "Sofie Dahl", "children", "caseworker"),
    ("hanne", "Hanne", "Hanne Lund", "children", "lead"),
    ("lars", "Lars", "Lars Berg", "jobs", "caseworker"),
    ("ahmad", "Ahmad", "Ahmad Nouri", "jobs", "caseworker"),
    # The data-protection page (who read whose messages) is the administrator's.
    ("birgit", "Birgit", "Birgit Krogh", "children", "admin"),
]

# Work phones that get pages (never content) and may answer "OK" to acknowledge one.
WORK_PHONES = {
    "mette": "+4540123401",
    "sofie": "+4540123402",
    "hanne": "+4540123403",
    "lars": "+4540123404",
    "ahmad": "+4540123405",
}

# Who is on duty each weekday (0 = Monday), and the after-hours line (døgnvagt), per team:
# urgent messages page whoever can act now, so the demo shows the whole chain.
ROSTER = {
    "children": ("sofie", "mette", "sofie", "mette", "sofie"),
    "jobs": ("ahmad", "lars", "ahmad", "lars", "ahmad"),
}
AFTER_HOURS = {"children": "+4533173333", "jobs": "+4533173334"}

# How the demo page's caseworker picker names a role.
ROLE_WORDS = {"caseworker": "sagsbehandler", "lead": "teamleder", "admin": "administrator"}

PERSONS = [
    # key, full name, first name, phone, language
    ("maria", "Maria Jensen", "Maria", "+4520123411", "da"),
    ("peter", "Peter Jensen", "Peter", "+4520123412", "da"),
    ("amira", "Amira Hassan", "Amira", "+4520123413", "da"),
    ("oleksandr", "Oleksandr Kovalenko", "Oleksandr", "+4520123414", "en"),
    ("kirsten", "Kirsten Nielsen", "Kirsten", "+4520123415", "da"),
    ("bent", "Bent Nielsen", "Bent", "+4520123415", "da"),
    ("jonas", "Jonas Madsen", "Jonas", "+4520123416", "da"),
    ("lone", "Lone Berg", "Lone", "+4520123417", "da"),
    ("olena", "Olena Shevchenko", "Olena", "+4520123418", "uk"),
]

CASES = [
    # number, administration, owner, [(person, role)]
    ("BF-2025-0101", "children", "mette", [("maria", "parent"), ("peter", "parent")]),
    ("BF-2025-0102", "children", "sofie", [("amira", "parent")]),
    ("JC-2025-0201", "jobs", "lars", [("amira", "party")]),
    ("JC-2025-0202", "jobs", "ahmad", [("oleksandr", "party")]),
    ("BF-2025-0103", "children", "mette", [("kirsten", "parent")]),
    ("JC-2025-0203", "jobs", "lars", [("bent", "party")]),
    ("JC-2025-0204", "jobs", "lars", [("jonas", "party"), ("lone", "bisidder")]),
    ("BF-2025-0104", "children", "sofie", [("olena", "parent")]),
]

PHONES = [
    DemoPhone("+4520123411", "Familien Jensen — Maria (mor)"),
    DemoPhone("+4520123412", "Familien Jensen — Peter (far)"),
    DemoPhone("+4520123413", "Amira Hassan (to sager)"),
    DemoPhone("+4520123414", "Oleksandr Kovalenko (English)"),
    DemoPhone("+4520123415", "Kirsten og Bent Nielsen (delt telefon)"),
    DemoPhone("+4520123416", "Jonas Madsen"),
    DemoPhone("+4520123417", "Lone Berg (bisidder for Jonas)"),
    DemoPhone("+4520123418", "Olena Shevchenko (українська)"),
    DemoPhone("+4531234599", "Ukendt nummer"),
    # Staff work phones: pages about urgent messages arrive here.
    DemoPhone(WORK_PHONES["mette"], "Mette Holm — arbejdstelefon (sagsbehandler)"),
    DemoPhone(WORK_PHONES["sofie"], "Sofie Dahl — arbejdstelefon (sagsbehandler)"),
    DemoPhone(WORK_PHONES["hanne"], "Hanne Lund — arbejdstelefon (teamleder)"),
]


def _a_week_ahead(now: datetime) -> datetime:
    """10:00 (Copenhagen) on the weekday a week or so from ``now``: the demo meeting's time."""
    day = now.astimezone(COPENHAGEN).date() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=COPENHAGEN)


async def seed_demo(svc: Services) -> DemoInfo:
    """Create the demo municipality. Returns what the simulator and the console need."""
    info = DemoInfo(phones=list(PHONES))
    async with svc.write() as c:
        tenant = await create_tenant(
            c, svc, slug="lyngby-demo", name="Demo Kommune", sms_number=MUNICIPALITY_NUMBER
        )
        await tenant_logo.set_logo(c, svc, tenant, tenant_logo.check(DEMO_LOGO))
        admins = {
            "children": await create_administration(
                c, svc, tenant_id=tenant, name="Børn og Familie"
            ),
            "jobs": await create_administration(c, svc, tenant_id=tenant, name="Jobcenter"),
        }
        teams = {
            "children": await create_team(
                c,
                svc,
                tenant_id=tenant,
                administration_id=admins["children"],
                name="Familieteam Nord",
                reply_days=2,
            ),
            "jobs": await create_team(
                c,
                svc,
                tenant_id=tenant,
                administration_id=admins["jobs"],
                name="Ydelsesteamet",
                reply_days=3,
            ),
        }
        staff_ids: dict[str, str] = {}
        for key, first, full, team, role in STAFF:
            staff_ids[key] = await create_staff(
                c,
                svc,
                tenant_id=tenant,
                team_id=teams[team],
                first_name=first,
                full_name=full,
                role=role,
                work_phone=WORK_PHONES.get(key),
            )
            token = await issue_token(
                c, staff_id=staff_ids[key], tenant_id=tenant, label="demo", at=svc.clock.now()
            )
            info.caseworkers.append((f"{full} ({ROLE_WORDS.get(role, role)})", token))
            info.staff_ids[key] = staff_ids[key]
        for team, weekdays in ROSTER.items():
            await c.execute(
                duty_rotation.insert(),
                [
                    {
                        "id": new_id(),
                        "tenant_id": tenant,
                        "team_id": teams[team],
                        "weekday": day,
                        "staff_id": staff_ids[who],
                    }
                    for day, who in enumerate(weekdays)
                ],
            )
            await c.execute(
                update(teams_table)
                .where(teams_table.c.id == teams[team])
                .values(after_hours_phone=AFTER_HOURS[team])
            )
        person_ids: dict[str, str] = {}
        for key, full, first, phone, language in PERSONS:
            person_ids[key] = await create_person(
                c,
                svc,
                tenant_id=tenant,
                name=full,
                first_name=first,
                phone=phone,
                language=language,
            )
        case_ids: dict[str, str] = {}
        for number, admin, owner, members in CASES:
            case_ids[number] = case_id = await create_case(
                c,
                svc,
                tenant_id=tenant,
                administration_id=admins[admin],
                team_id=teams[admin],
                owner_id=staff_ids[owner],
                number=number,
            )
            for person, role in members:
                await add_participant(
                    c,
                    svc,
                    tenant_id=tenant,
                    case_id=case_id,
                    person_id=person_ids[person],
                    role=role,
                )
    # Mette has booked a meeting with the Jensen family, with a place: their secure inbox
    # shows it under "Dine møder" (where, after a MitID login), and its reminders go by SMS.
    mette = StaffUser(
        id=staff_ids["mette"], tenant_id=tenant, team_id=teams["children"], role="caseworker"
    )
    await create_appointment(
        svc,
        mette,
        case_ids["BF-2025-0101"],
        starts_at=_a_week_ahead(svc.clock.now()),
        place=MEETING_PLACE,
    )
    return info

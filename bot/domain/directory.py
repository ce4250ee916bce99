"""Who is who: municipalities, administrations, teams, staff, persons, cases, participants.

Names and phone numbers are sealed under the row's own data key; phone numbers
are also blind-indexed so an inbound SMS can find its sender.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain.inbound import normalise_number
from bot.store.schema.core import (
    administrations,
    cases,
    participants,
    persons,
    staff,
    teams,
    tenants,
)

ROLES = ("party", "parent", "bisidder", "representative")
STAFF_ROLES = ("caseworker", "lead", "admin")
CHANNEL_PREFS = ("sms", "sms_only", "inbox_first", "email")


async def create_tenant(
    conn: AsyncConnection,
    svc: Services,
    *,
    slug: str,
    name: str,
    sms_number: str,
    language: str = "da",
) -> str:
    tid = new_id()
    await conn.execute(
        tenants.insert().values(
            id=tid,
            slug=slug,
            name=name,
            sms_number=normalise_number(sms_number, field="sms_number"),
            language=language,
            created_at=svc.clock.now(),
        )
    )
    return tid


async def create_administration(
    conn: AsyncConnection, svc: Services, *, tenant_id: str, name: str
) -> str:
    aid = new_id()
    await conn.execute(
        administrations.insert().values(
            id=aid, tenant_id=tenant_id, name=name, created_at=svc.clock.now()
        )
    )
    return aid


async def create_team(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    administration_id: str,
    name: str,
    reply_days: int = 2,
) -> str:
    if not 0 <= reply_days <= 60:
        raise BadInput("reply_days must be between 0 and 60 working days", code="bad_field")
    team_id = new_id()
    await conn.execute(
        teams.insert().values(
            id=team_id,
            tenant_id=tenant_id,
            administration_id=administration_id,
            name=name,
            reply_days=reply_days,
            created_at=svc.clock.now(),
        )
    )
    return team_id


async def create_staff(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    team_id: str,
    first_name: str,
    full_name: str,
    role: str = "caseworker",
) -> str:
    if role not in STAFF_ROLES:
        raise BadInput(f"role must be one of {', '.join(STAFF_ROLES)}", code="bad_field")
    sid = new_id()
    dek, wrapped = svc.new_dek("staff", sid)
    await conn.execute(
        staff.insert().values(
            id=sid,
            tenant_id=tenant_id,
            team_id=team_id,
            role=role,
            dek=wrapped,
            first_name_enc=svc.seal(dek, "staff", sid, "first_name", first_name),
            full_name_enc=svc.seal(dek, "staff", sid, "full_name", full_name),
            active=True,
            created_at=svc.clock.now(),
        )
    )
    return sid


async def create_person(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    name: str,
    first_name: str,
    phone: str | None,
    language: str = "da",
    email: str | None = None,
    channel_pref: str = "sms",
) -> str:
    if channel_pref not in CHANNEL_PREFS:
        raise BadInput(f"channel_pref must be one of {', '.join(CHANNEL_PREFS)}", code="bad_field")
    if email is not None and (len(email) > 254 or "@" not in email.strip("@")):
        raise BadInput("email is not an e-mail address", code="bad_email")
    pid = new_id()
    dek, wrapped = svc.new_dek("persons", pid)
    e164 = normalise_number(phone, field="phone") if phone else None
    await conn.execute(
        persons.insert().values(
            id=pid,
            tenant_id=tenant_id,
            dek=wrapped,
            name_enc=svc.seal(dek, "persons", pid, "name", name),
            first_name_enc=svc.seal(dek, "persons", pid, "first_name", first_name),
            phone_enc=svc.seal(dek, "persons", pid, "phone", e164) if e164 else None,
            phone_index=svc.blind_index(e164) if e164 else None,
            email_enc=svc.seal(dek, "persons", pid, "email", email) if email else None,
            channel_pref=channel_pref,
            origin="known",
            language=language,
            created_at=svc.clock.now(),
        )
    )
    return pid


async def create_case(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    administration_id: str,
    team_id: str,
    owner_id: str,
    number: str,
    case_type: str = "general",
) -> str:
    cid = new_id()
    _, wrapped = svc.new_dek("cases", cid)
    await conn.execute(
        cases.insert().values(
            id=cid,
            tenant_id=tenant_id,
            administration_id=administration_id,
            team_id=team_id,
            owner_id=owner_id,
            number=number,
            case_type=case_type,
            status="open",
            dek=wrapped,
            created_at=svc.clock.now(),
        )
    )
    return cid


async def add_participant(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    case_id: str,
    person_id: str,
    role: str,
    entitled: bool = True,
) -> str:
    if role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}", code="bad_field")
    part_id = new_id()
    await conn.execute(
        participants.insert().values(
            id=part_id,
            tenant_id=tenant_id,
            case_id=case_id,
            person_id=person_id,
            role=role,
            entitled=entitled,
            created_at=svc.clock.now(),
        )
    )
    return part_id

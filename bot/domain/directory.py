"""Who is who: municipalities, administrations, teams, staff, persons, cases, participants.

Names and phone numbers are sealed under the row's own data key; phone numbers
are also blind-indexed so an inbound SMS can find its sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.config import KNOWN_GATEWAYS
from bot.base.errors import BadInput, Conflict
from bot.base.i18n import LANGUAGES
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain import tenant_logo
from bot.domain.inbound import normalise_number
from bot.domain.search_index import index_person
from bot.store.schema.core import (
    administrations,
    cases,
    participants,
    persons,
    staff,
    teams,
    tenant_settings,
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


_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class TenantSetup:
    """What an operator says to start a municipality (see ``tovholder tenant create``).

    Attributes:
        slug: its short name in URLs and commands ("nordby").
        name: as citizens read it ("Nordby Kommune").
        sms_number: the number families text (E.164 or Danish).
        language: the default language of what it sends (da, en, uk, ar).
        gateways: its SMS gateways in sending order (empty: the deployment's).
        administration: a first administration (forvaltning), if named.
        team: a first team in it, with its opening hours and reply days.
        logo: its logo for the family's pages (SVG or PNG bytes), if given;
            ``logo_type`` is the media type the sender named, if any.
    """

    slug: str
    name: str
    sms_number: str
    language: str = "da"
    gateways: tuple[str, ...] = ()
    administration: str | None = None
    team: str | None = None
    opens_at: str = "08:00"
    closes_at: str = "16:00"
    reply_days: int = 2
    logo: bytes | None = None
    logo_type: str | None = None


@dataclass(frozen=True, slots=True)
class NewTenant:
    """The ids made for a new municipality (administration and team when asked for)."""

    tenant_id: str
    administration_id: str | None
    team_id: str | None


def _check_setup(setup: TenantSetup) -> None:
    if not _SLUG.match(setup.slug):
        raise BadInput(
            "slug: 1-64 lower-case letters, digits and hyphens, not at either end",
            code="bad_slug",
        )
    if not setup.name.strip() or len(setup.name) > 200:
        raise BadInput("name: 1-200 characters", code="bad_field")
    if setup.language not in LANGUAGES:
        raise BadInput(f"language: one of {', '.join(LANGUAGES)}", code="bad_language")
    unknown = [g for g in setup.gateways if g not in KNOWN_GATEWAYS]
    if unknown or len(set(setup.gateways)) != len(setup.gateways):
        raise BadInput(
            f"gateways: each of {', '.join(KNOWN_GATEWAYS)} at most once", code="bad_gateway"
        )
    if not (_CLOCK.match(setup.opens_at) and _CLOCK.match(setup.closes_at)):
        raise BadInput("opening hours: HH:MM, e.g. 08:00 and 15:30", code="bad_time")
    if setup.opens_at >= setup.closes_at:
        raise BadInput("opening hours: it must open before it closes", code="bad_time")
    if setup.team is not None and setup.administration is None:
        raise BadInput("a team needs an administration to belong to", code="bad_field")


async def set_up_tenant(conn: AsyncConnection, svc: Services, setup: TenantSetup) -> NewTenant:
    """Create a municipality with its settings (and a first administration and team).

    All in the caller's transaction: a refusal leaves nothing behind.

    Raises:
        BadInput: a setting is malformed (the code names which), or the logo is
            refused (``logo_type``, ``logo_unsafe``, ``logo_too_large``).
        Conflict: the slug or the SMS number belongs to another municipality.
    """
    _check_setup(setup)
    logo = None if setup.logo is None else tenant_logo.check(setup.logo, setup.logo_type)
    number = normalise_number(setup.sms_number, field="sms_number")
    taken = (
        await conn.execute(
            select(tenants.c.slug).where(
                (tenants.c.slug == setup.slug) | (tenants.c.sms_number == number)
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "A municipality with that slug or SMS number exists already", code="tenant_exists"
        )
    tenant_id = await create_tenant(
        conn,
        svc,
        slug=setup.slug,
        name=setup.name.strip(),
        sms_number=number,
        language=setup.language,
    )
    await conn.execute(
        tenant_settings.insert().values(
            tenant_id=tenant_id, gateways=",".join(setup.gateways) or None
        )
    )
    if logo is not None:
        await tenant_logo.set_logo(conn, svc, tenant_id, logo)
    admin_id = team_id = None
    if setup.administration is not None:
        admin_id = await create_administration(
            conn, svc, tenant_id=tenant_id, name=setup.administration
        )
    if setup.team is not None and admin_id is not None:
        team_id = await create_team(
            conn,
            svc,
            tenant_id=tenant_id,
            administration_id=admin_id,
            name=setup.team,
            reply_days=setup.reply_days,
        )
        await conn.execute(
            update(teams)
            .where(teams.c.id == team_id)
            .values(opens_at=setup.opens_at, closes_at=setup.closes_at)
        )
    return NewTenant(tenant_id, admin_id, team_id)


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
    work_phone: str | None = None,
) -> str:
    """Add a staff member; ``work_phone`` (E.164) receives their pages (never content)."""
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
            work_phone_enc=svc.seal(dek, "staff", sid, "work_phone", work_phone)
            if work_phone
            else None,
            work_phone_index=svc.blind_index(work_phone) if work_phone else None,
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
    # The name's words as blind-index tokens, for the caseworker's search.
    await index_person(conn, svc, tenant_id=tenant_id, person_id=pid, name=name)
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

"""Quiet-hours settings: the municipality's, and a participant's own preference.

A participant's row, when there is one, replaces the municipality's; with
neither, :data:`scheduler.quiet.DEFAULT` applies (20:00-08:00, Sundays and
public holidays).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.errors import BadInput
from bot.base.ids import new_id
from bot.store.schema.scheduler import quiet_settings
from scheduler.quiet import DEFAULT, QuietSettings

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _from_row(row: Any) -> QuietSettings:
    return QuietSettings(
        enabled=row.enabled,
        quiet_from=_time(row.quiet_from),
        quiet_until=_time(row.quiet_until),
        sundays=row.sundays,
        holidays=row.holidays,
    )


def as_json(s: QuietSettings) -> dict[str, Any]:
    return {
        "enabled": s.enabled,
        "quiet_from": s.quiet_from.strftime("%H:%M"),
        "quiet_until": s.quiet_until.strftime("%H:%M"),
        "sundays": s.sundays,
        "holidays": s.holidays,
    }


def parse(data: Mapping[str, Any], base: QuietSettings = DEFAULT) -> QuietSettings:
    """Settings from a JSON object; missing fields keep ``base``'s values.

    Raises:
        BadInput: a field of the wrong type, a time that is not HH:MM, or a
            window that starts and ends at the same time.
    """
    values: dict[str, Any] = {
        "enabled": base.enabled,
        "quiet_from": base.quiet_from,
        "quiet_until": base.quiet_until,
        "sundays": base.sundays,
        "holidays": base.holidays,
    }
    for name in ("enabled", "sundays", "holidays"):
        if name in data:
            if not isinstance(data[name], bool):
                raise BadInput(f"{name} must be true or false", code="bad_field")
            values[name] = data[name]
    for name in ("quiet_from", "quiet_until"):
        if name in data:
            raw = data[name]
            match = _HHMM.match(raw) if isinstance(raw, str) else None
            if match is None:
                raise BadInput(f"{name} must be a time like 20:00", code="bad_time")
            values[name] = time(int(match.group(1)), int(match.group(2)))
    if values["quiet_from"] == values["quiet_until"]:
        raise BadInput("Quiet hours must start and end at different times", code="bad_quiet_hours")
    return QuietSettings(**values)


def _scope(person_id: str | None) -> str:
    return "tenant" if person_id is None else f"person:{person_id}"


async def settings_map(
    conn: AsyncConnection, tenant_ids: Collection[str], person_ids: Collection[str]
) -> dict[tuple[str, str | None], QuietSettings]:
    """Stored settings keyed by (tenant_id, person_id or None for the municipality)."""
    if not tenant_ids:
        return {}
    cond: ColumnElement[bool] = quiet_settings.c.person_id.is_(None)
    if person_ids:
        cond = or_(cond, quiet_settings.c.person_id.in_(list(person_ids)))
    rows = await conn.execute(
        select(quiet_settings).where(quiet_settings.c.tenant_id.in_(list(tenant_ids)), cond)
    )
    return {(r.tenant_id, r.person_id): _from_row(r) for r in rows}


def pick(
    stored: Mapping[tuple[str, str | None], QuietSettings], tenant_id: str, person_id: str | None
) -> QuietSettings:
    """The settings that apply to a person: theirs, else the municipality's, else the default."""
    if person_id is not None and (tenant_id, person_id) in stored:
        return stored[(tenant_id, person_id)]
    return stored.get((tenant_id, None), DEFAULT)


async def settings_for(
    conn: AsyncConnection, tenant_id: str, person_id: str | None = None
) -> QuietSettings:
    """The quiet hours that apply to one person (or to the municipality)."""
    stored = await settings_map(conn, [tenant_id], [person_id] if person_id else [])
    return pick(stored, tenant_id, person_id)


async def own_settings(
    conn: AsyncConnection, tenant_id: str, person_id: str | None
) -> QuietSettings | None:
    """The row stored for exactly this scope, if any."""
    row = (
        await conn.execute(
            select(quiet_settings).where(
                quiet_settings.c.tenant_id == tenant_id,
                quiet_settings.c.scope == _scope(person_id),
            )
        )
    ).first()
    return None if row is None else _from_row(row)


async def store(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    person_id: str | None,
    settings: QuietSettings,
    at: datetime,
) -> None:
    """Save the settings of a municipality (``person_id=None``) or a participant."""
    values = {
        "enabled": settings.enabled,
        "quiet_from": _minutes(settings.quiet_from),
        "quiet_until": _minutes(settings.quiet_until),
        "sundays": settings.sundays,
        "holidays": settings.holidays,
        "updated_at": at,
    }
    scope = _scope(person_id)
    done = await conn.execute(
        update(quiet_settings)
        .where(quiet_settings.c.tenant_id == tenant_id, quiet_settings.c.scope == scope)
        .values(**values)
    )
    if done.rowcount == 0:
        await conn.execute(
            quiet_settings.insert().values(
                id=new_id(), tenant_id=tenant_id, person_id=person_id, scope=scope, **values
            )
        )


async def clear(conn: AsyncConnection, *, tenant_id: str, person_id: str) -> bool:
    """Drop a participant's own preference (the municipality's applies again)."""
    done = await conn.execute(
        quiet_settings.delete().where(
            quiet_settings.c.tenant_id == tenant_id, quiet_settings.c.scope == _scope(person_id)
        )
    )
    return bool(done.rowcount)

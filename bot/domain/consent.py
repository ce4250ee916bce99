"""Samtykke: STOP opts a number out of reminders and proactive updates, START back in.

Never out of answers to the citizen's own messages. Each change is recorded per
participant and channel, with time and source, and journalised.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import texts
from bot.store.schema.core import consents, restrictions

_STOP = re.compile(r"^\s*stop(\s*(påmindelser|paamindelser|pamindelser|sms))?\W*$", re.IGNORECASE)
_START = re.compile(r"^\s*start(\s*(påmindelser|paamindelser|pamindelser|sms))?\W*$", re.IGNORECASE)


def command(body: str) -> str | None:
    """ "stop", "start" or None for an ordinary message.

    The words are accepted in every language our texts speak (Ukrainian "СТОП",
    "СТАРТ", Arabic "توقف", "ابدأ", …: ``bot.domain.texts.COMMANDS``), whatever
    language the sender is recorded with.
    """
    if _STOP.match(body):
        return "stop"
    if _START.match(body):
        return "start"
    found = texts.command_of(body)
    return found if found in ("stop", "start") else None


async def proactive_allowed(conn: AsyncConnection, person_id: str, channel: str = "sms") -> bool:
    """May we send this person reminders and proactive updates on this channel?

    Not after STOP, and not while their processing is restricted.
    """
    restricted = (
        await conn.execute(select(restrictions.c.id).where(restrictions.c.person_id == person_id))
    ).first()
    if restricted is not None:
        return False
    state = (
        await conn.execute(
            select(consents.c.state)
            .where(consents.c.person_id == person_id, consents.c.channel == channel)
            .order_by(consents.c.at.desc(), consents.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return state != "opted_out"


async def email_consented(conn: AsyncConnection, person_id: str) -> bool:
    """E-mail needs an explicit yes: the latest e-mail consent must be opted_in."""
    state = (
        await conn.execute(
            select(consents.c.state)
            .where(consents.c.person_id == person_id, consents.c.channel == "email")
            .order_by(consents.c.at.desc(), consents.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return state == "opted_in"

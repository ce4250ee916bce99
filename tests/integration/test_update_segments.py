"""The segment limit holds at send time for the case system's updates too (both databases).

``/cases/{id}/updates`` does not measure its text when it queues it; the send-time
gate does: a text over the municipality's limit reaches the phone as a notice with
a link to the secure inbox, and the journal says why.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.store.schema.core import journal_entries, messages
from tests.integration.conftest import Integ

LONG = "Vi har fået lægens svar og ser på det sammen med dine papirer i næste uge. " * 8


async def test_an_update_over_the_segment_limit_goes_as_a_notice(integ: Integ) -> None:
    """A 4-segment update from the case system: the phone gets a short notice with a link, not the text; the journal names the segments and the limit."""
    stack, w = integ.stack, integ.stack.world
    anna = w.phones["anna"]
    await integ.ok(
        "POST", f"/api/v1/cases/{w.cases['anna']}/updates", status=201, json={"body": LONG}
    )
    await stack.drain()
    await stack.settle()
    got = await stack.sent_to(anna)
    assert len(got) == 1 and LONG.strip() not in got[0] and "http" in got[0]
    assert len(got[0]) <= 320
    async with stack.svc.read() as conn:
        mid = (
            await conn.execute(select(messages.c.id).where(messages.c.kind == "update"))
        ).scalar_one()
        subjects = list(
            (
                await conn.execute(
                    select(journal_entries.c.subject).where(journal_entries.c.message_id == mid)
                )
            ).scalars()
        )
    assert (
        "SMS erstattet af en besked med link: teksten fylder 4 SMS'er, "
        "og kommunen tillader højst 3" in subjects
    )

"""The demo's staff have work phones: an urgent SMS in the demo pages someone the simulator shows;
and a demo family has a meeting with a place for their secure inbox to show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.base.clock import COPENHAGEN
from bot.domain import sessions
from bot.store.schema.core import cases, conversations, persons
from bot.wiring.demo import MEETING_PLACE, MUNICIPALITY_NUMBER, PHONES, WORK_PHONES, seed_demo
from tests.harness import Stack


async def test_an_urgent_demo_sms_pages_the_caseworker_at_a_phone_the_demo_shows(
    stack: Stack,
) -> None:
    """Monday 10:00, Maria writes something urgent: Mette, her caseworker, is paged on her work phone."""
    await seed_demo(stack.svc)
    stack.clock.set(datetime(2025, 2, 24, 10, 0, tzinfo=COPENHAGEN))
    resp = await stack.sms("+4520123411", "hjælp han slår mig igen", to=MUNICIPALITY_NUMBER)
    assert resp.status == 200
    await stack.drain()
    page = await stack.sent_to(WORK_PHONES["mette"])
    assert len(page) == 1 and "akut" in page[0] and "slår" not in page[0]
    assert WORK_PHONES["mette"] in {p.number for p in PHONES}


async def test_the_demo_family_has_a_meeting_with_its_place(stack: Stack) -> None:
    """The Jensen family has a meeting next week with a place: Maria writes, and logged in with
    MitID her secure inbox shows it under "Dine møder" with where it is."""
    await seed_demo(stack.svc)
    maria = "+4520123411"
    resp = await stack.sms(maria, "Hej Mette, hvornår er vores møde?", to=MUNICIPALITY_NUMBER)
    assert resp.status == 200
    async with stack.svc.read() as conn:
        row = (
            await conn.execute(
                select(conversations.c.id, conversations.c.tenant_id)
                .join(cases, cases.c.id == conversations.c.case_id)
                .join(persons, persons.c.id == conversations.c.person_id)
                .where(
                    cases.c.number == "BF-2025-0101",
                    persons.c.phone_index == stack.svc.blind_index(maria),
                )
            )
        ).one()
    token, _ = await sessions.create(
        stack.svc,
        tenant_id=row.tenant_id,
        kind="citizen",
        stage="full",
        assurance="substantial",
        phone_index=stack.svc.blind_index(maria),
    )
    stack.client.session.cookie_jar.update_cookies({"tvh_session": token})
    html = await (await stack.client.get(f"/borger/samtaler/{row.id}")).text()
    assert "Dine møder" in html
    assert "Møde fredag den 28. februar kl. 10:00–11:00" in html
    assert f"Sted: <bdi>{MEETING_PLACE}</bdi>" in html

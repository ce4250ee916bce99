"""The demo's staff have work phones: an urgent SMS in the demo pages someone the simulator shows."""

from __future__ import annotations

from datetime import datetime

from bot.base.clock import COPENHAGEN
from bot.wiring.demo import MUNICIPALITY_NUMBER, PHONES, WORK_PHONES, seed_demo
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

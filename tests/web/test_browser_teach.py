"""Teaching the triage in a real browser (#16 points 2 and 8): why a message was flagged,
and "Ikke akut" / "Er akut" / "Bekymring" on the thread page, at 1280 and 390 px.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) on every page;
SQLite only (test_teach_pages.py covers both backends).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.schema.core import messages
from bot.store.schema.triage import triage_examples
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, open_tab

pytestmark = PYTESTMARK


async def test_staff_see_why_and_teach_the_triage_on_desktop_and_phone(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Mette sees the concern first with its why, and marks the urgent one "Ikke akut"."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Det haster!")
    await stack.sms(stack.world.phones["bo"], "jeg er så bekymret for min datter hun spiser ikke")
    await stack.sms(stack.world.phones["bo"], "1")  # Bo has two cases: the children's one
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await page.get_by_text("Bekymring: svar i dag").first.wait_for()
    await tab.check("teach-inbox-desktop")
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.check("teach-inbox-phone")
    await (
        page.get_by_role("region", name="Mine sager")
        .get_by_role("link", name="Anna Andersen")
        .click()
    )
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    await page.get_by_text("Akut, udløst af:").wait_for()
    await tab.check("teach-thread-phone")
    # The buttons fit a phone: none reaches past the screen's edge.
    rights = await page.locator(".triage-teach .button").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert rights and max(rights) <= 390
    await page.set_viewport_size({"width": 1280, "height": 900})
    await tab.check("teach-thread-desktop")
    group = page.get_by_role("group", name="Lær triagen")
    await group.get_by_role("button", name="Ikke akut").click()
    await page.wait_for_url("**laert=none*")
    await page.get_by_role("status").filter(has_text="ikke akut").wait_for()
    await tab.check("teach-taught")
    async with stack.svc.read() as conn:
        ex = (await conn.execute(select(triage_examples))).one()
        acked = await conn.scalar(
            select(messages.c.acknowledged_at).where(messages.c.id == ex.message_id)
        )
    assert ex.level == "none" and acked is not None

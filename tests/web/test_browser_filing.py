"""Filing in a real browser: an unknown number filed as a new person on a case, a misfiled
message moved to the right case; at 1280 px and at 390 px, axe-core on every step.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA); SQLite only
(test_filing_pages.py covers both backends); screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.store.schema.core import messages
from tests.harness import Stack, annas_second_case
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK

UNKNOWN = "+4520999003"


async def _no_sideways_scroll(tab: Tab) -> None:
    width = await tab.page.evaluate("document.documentElement.scrollWidth")
    viewport = await tab.page.evaluate("window.innerWidth")
    assert width <= viewport, (width, viewport)


async def _file_unknown_number(stack: Stack, tab: Tab, login: Login, prefix: str) -> None:
    """Hanne files the unknown number's thread as a new parent on Carl's case."""
    page = tab.page
    await log_in(tab, stack, login)
    await (
        page.get_by_role("region", name=re.compile("Ikke fordelt"))
        .get_by_role("link", name="Ukendt afsender")
        .click()
    )
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    await page.get_by_role("link", name="Arkivér på en person og sag").click()
    await page.wait_for_url("**/sagsbehandler/ikke-fordelt/*")
    await page.get_by_text("Hej, jeg er Carls mor").wait_for()
    await tab.check(f"{prefix}-filing")
    await _no_sideways_scroll(tab)
    # A case of another team: plainly not found, nothing offered.
    await page.get_by_label("Sagsnummer").fill("2025-003")
    await page.get_by_role("button", name="Find sagen").click()
    await page.get_by_role("alert").get_by_text("ingen sag med det nummer").wait_for()
    await tab.check(f"{prefix}-filing-not-found")
    await page.get_by_label("Sagsnummer").fill("2025-004")
    await page.get_by_role("button", name="Find sagen").click()
    await page.get_by_role("heading", name=re.compile("Hvem er beskederne fra")).wait_for()
    await tab.check(f"{prefix}-filing-case")
    await page.get_by_label("En ny person med afsenderens nummer").check()
    # No name: told so, the choice kept.
    await page.get_by_role("button", name="Arkivér på sag 2025-004").click()
    await page.get_by_role("alert").get_by_text("Skriv personens fulde navn").wait_for()
    await tab.check(f"{prefix}-filing-error")
    await page.get_by_label("En ny person med afsenderens nummer").check()
    await page.locator("#name").fill("Ida Ibsen")
    await page.get_by_label("Rolle på sagen (for afsenderen)").select_option(label="Forælder")
    await page.get_by_role("button", name="Arkivér på sag 2025-004").click()
    await page.wait_for_url("**?arkiveret=1")
    await page.get_by_role("status").get_by_text("Beskederne er arkiveret på sagen").wait_for()
    await page.get_by_role("heading", name="Ida Ibsen", level=1).wait_for()
    await tab.check(f"{prefix}-filed")
    await _no_sideways_scroll(tab)


async def _move_annas_message(stack: Stack, tab: Tab, login: Login, prefix: str) -> None:
    """Mette moves Anna's message from case 2025-001 to her other case 2025-101."""
    w = stack.world
    await stack.sms(w.phones["anna"], "Det drejer sig om skolen, ikke om boligen")
    async with stack.svc.write() as c:
        await annas_second_case(c, stack.svc, w)
        conv = (
            await c.execute(
                select(messages.c.conversation_id).where(
                    messages.c.case_id == w.cases["anna"], messages.c.direction == "in"
                )
            )
        ).scalar_one()
    page = tab.page
    await log_in(tab, stack, login)
    await tab.goto(f"/sagsbehandler/samtaler/{conv}")
    await page.get_by_role("link", name="Forkert sag? Flyt en besked").click()
    await page.wait_for_url("**/flyt")
    await tab.check(f"{prefix}-move")
    await _no_sideways_scroll(tab)
    await page.get_by_label("2. Den rigtige sags nummer").fill("2025-101")
    await page.get_by_role("button", name="Find sagen").click()
    await page.get_by_role("heading", name=re.compile("Hvem på sag 2025-101")).wait_for()
    await tab.check(f"{prefix}-move-case")
    await page.get_by_role("button", name="Flyt beskeden til sag 2025-101").click()
    await page.wait_for_url("**?flyttet=1")
    await (
        page.get_by_role("status").get_by_text("Beskeden er flyttet til den rigtige sag").wait_for()
    )
    assert await page.get_by_text("Det drejer sig om skolen").count() == 0
    await tab.check(f"{prefix}-moved")
    await _no_sideways_scroll(tab)


async def test_filing_and_moving_at_desktop_width(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 1280 px: the lead files an unknown number on a case; the caseworker moves a misfiled SMS."""
    await stack.sms(UNKNOWN, "Hej, jeg er Carls mor")
    tab = await open_tab(browser, stack)
    await _file_unknown_number(stack, tab, logins["hanne"], "filing-desktop")
    tab = await open_tab(browser, stack)
    await _move_annas_message(stack, tab, logins["mette"], "filing-desktop")


async def test_filing_and_moving_on_a_phone(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 390 px the same flows work, without sideways scrolling."""
    await stack.sms(UNKNOWN, "Hej, jeg er Carls mor")
    tab = await open_tab(browser, stack, mobile=True)
    await _file_unknown_number(stack, tab, logins["hanne"], "filing-phone")
    tab = await open_tab(browser, stack, mobile=True)
    await _move_annas_message(stack, tab, logins["mette"], "filing-phone")

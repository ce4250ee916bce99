"""The lead's retention rules (Bevaring og sletning) in a real browser, at 1280 px and 390 px.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) on every page; SQLite only
(tests/journal/test_case_retention.py covers both backends over HTTP).
"""

from __future__ import annotations

from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, open_tab

pytestmark = PYTESTMARK


async def test_a_lead_sets_an_archive_rule(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Hanne follows the link from Ledelse, is told a bad number plainly, then keeps children's
    cases under archive law; every state passes axe, on a desktop and a phone."""
    tab = await open_tab(browser, stack)
    page = tab.page
    await log_in(tab, stack, logins["hanne"])
    for mobile, case_type in ((False, "boernesag"), (True, "kontanthjaelp")):
        if mobile:  # one login (a code is used once): the same tab at phone width
            await page.set_viewport_size({"width": 390, "height": 844})
        await tab.goto("/sagsbehandler/ledelse")
        await page.get_by_role("link", name="Bevaring og sletning af lukkede sager").click()
        await page.wait_for_url("**/sagsbehandler/ledelse/bevaring")
        suffix = "-phone" if mobile else ""
        await tab.check(f"staff-retention{suffix}")
        await page.get_by_label("Sagstype").fill(case_type)
        await page.get_by_label("Dage efter lukning").fill("ti år")
        await page.get_by_label("Bevar sagen (arkivloven) og begræns behandlingen").check()
        await page.get_by_role("button", name="Gem regel").click()
        await page.get_by_role("alert").get_by_text("Skriv antal dage").wait_for()
        await tab.check(f"staff-retention-error{suffix}")
        await page.get_by_label("Dage efter lukning").fill("4000")
        await page.get_by_role("button", name="Gem regel").click()
        await page.wait_for_url(f"**/bevaring?gemt={case_type}")
        await page.get_by_role("status").get_by_text(f"Reglen for {case_type} er gemt").wait_for()
        row = page.get_by_role("row", name=case_type)
        await row.get_by_text("Bevares (arkivloven)").wait_for()
        await tab.check(f"staff-retention-saved{suffix}")
        # At phone width the page itself never scrolls sideways.
        wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert wide is False

"""SMS-sprog in a real browser at 390 px: the caseworker's field on the case page, and the
family's language buttons in the secure inbox (axe-core, WCAG 2.1 AA; SQLite only, the
HTTP tests in test_person_language_pages.py cover both backends)."""

from __future__ import annotations

from typing import Any

from tests.harness import Stack
from tests.integration.test_person_language import language_of
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK


async def _no_sideways_scroll(tab: Tab) -> None:
    width = await tab.page.evaluate("document.documentElement.scrollWidth")
    inner = await tab.page.evaluate("window.innerWidth")
    assert width <= inner, (width, inner)


async def test_the_caseworker_sets_a_language_on_a_phone(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 390 px Mette picks Ukrainian for Anna: saved, said on the page, no sideways scroll."""
    w = stack.world
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await log_in(tab, stack, logins["mette"])
    await tab.goto(f"/sagsbehandler/sager/{w.cases['anna']}")
    await _no_sideways_scroll(tab)
    await tab.check("case-sms-language-390")
    await page.get_by_label("SMS-sprog for Anna Andersen").select_option("uk")
    await page.get_by_role("button", name="Gem sprog for Anna Andersen").click()
    await page.wait_for_url("**?sprog=*")
    await (
        page.get_by_role("status")
        .get_by_text("SMS til Anna Andersen skrives nu på ukrainsk")
        .wait_for()
    )
    await _no_sideways_scroll(tab)
    await tab.check("case-sms-language-saved-390")
    assert await language_of(stack, w.persons["anna"]) == "uk"

"""QA run (December 2026) in a real browser: no empty icon gutter in alerts and back links.

dkfds pads an alert 5.2 rem on the left and a back link 1.6 rem for an icon the pages
never draw; at 390 px the family's "logged in with a code" notice lost an eighth of the
screen to nothing. Chromium via Playwright, SQLite only.
"""

from __future__ import annotations

from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
from tests.web.conftest import open_tab
from tests.web.test_browser_polish import _family_login

pytestmark = PYTESTMARK

# How far in from its box an element's first line of text starts, in CSS pixels.
_INSET = """sel => {
  const e = document.querySelector(sel);
  const range = document.createRange();
  range.selectNodeContents(e);
  return range.getClientRects()[0].left - e.getBoundingClientRect().left;
}"""


async def test_the_alert_and_the_back_link_start_at_their_edge_on_a_phone(
    stack: Stack, browser: Any
) -> None:
    """Anna (390 px, SMS code): the notice's text starts within 24 px of the alert's edge, and
    "Tilbage til dine beskeder" at the edge of its line."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await _family_login(tab, stack, stack.world.phones["anna"])
    assert await page.evaluate(_INSET, ".alert") <= 24
    await page.locator("main a[href^='/borger/samtaler/']").first.click()
    await page.wait_for_url("**/borger/samtaler/**")
    assert await page.evaluate(_INSET, ".back-link") <= 1
    await tab.check("qa-family-thread-390")

"""A family's photo by MMS on the caseworker's thread page, in a real browser.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA), desktop and
phone width; SQLite only (test_mms.py covers both backends).
"""

from __future__ import annotations

import os
from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, log_in, logins, stack  # noqa: F401
from tests.web.conftest import Login, open_tab
from tests.web.test_citizen_attachments import jpeg
from tests.web.test_mms import fetch, item, send_mms

pytestmark = PYTESTMARK


async def test_mms_photo_and_a_refused_file_on_the_thread(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Mette sees Anna's MMS photo as a file to download, and the GIF that was not kept."""
    anna = stack.world.phones["anna"]
    gif = b"GIF89a\x01\x00\x01\x00" + os.urandom(32)
    await send_mms(stack, anna, "", item(jpeg(), "image/jpeg"), item(gif, "image/gif"))
    await fetch(stack)
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    thread = f"/sagsbehandler/samtaler/{items[0]['id']}"
    for mobile in (False, True):
        stack.clock.advance(seconds=31)  # a TOTP code is good for one login
        tab = await open_tab(browser, stack, mobile=mobile)
        await log_in(tab, stack, logins["mette"])
        await tab.goto(thread)
        page = tab.page
        assert await page.get_by_text("[billede]").count() >= 1
        link = page.get_by_role("link", name="mms-1.jpg")
        assert await link.count() == 1
        refused = page.get_by_role("list", name="Filer fra MMS, der ikke er gemt")
        assert "Fil nr. 2 fra MMS'en kunne ikke gemmes" in await refused.inner_text()
        await tab.check("mms-thread-phone" if mobile else "mms-thread")

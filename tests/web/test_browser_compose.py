"""Ny besked in a real browser: the quick update by keyboard alone, and a file on a phone.

Debian's Chromium via Playwright with axe-core (WCAG 2.1 AA) at 1280 px and
390 px; SQLite only (test_compose.py covers both backends); screenshots land
in artifacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, open_tab

pytestmark = PYTESTMARK

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
THANKS = (
    "Hej Anna. Tak for din besked. Jeg ser på det og svarer dig senest "
    "tirsdag den 25. februar. Hilsen Mette"
)


async def _tab_to(tab: Tab, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        await tab.page.keyboard.press("Tab")
        if await tab.page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def _keyboard_login(tab: Tab, stack: Stack, login: Login, then: str) -> None:
    page = tab.page
    await tab.goto(f"/sagsbehandler/log-ind?next={then}")
    await _tab_to(tab, "#username")
    await page.keyboard.type(login.username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(login.password)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/log-ind/kode*")
    await _tab_to(tab, "#code")
    await page.keyboard.type(login.code(stack))
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**{then}")


async def _focused(tab: Tab) -> str:
    return str(await tab.page.evaluate("document.activeElement.textContent.trim()"))


async def test_quick_update_by_keyboard_alone(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """From Anna's thread, "Ny besked", a template, the live SMS count and "Send besked",
    with Tab and Enter only; the phone gets it and the page says so."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej, hvornår hører jeg noget?")
    await stack.drain()
    before = len(await stack.sent_to(anna))
    conv = str((await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"])
    tab = await open_tab(browser, stack)
    page = tab.page
    await _keyboard_login(tab, stack, logins["mette"], f"/sagsbehandler/samtaler/{conv}")

    await _tab_to(tab, "a[href$='/ny-besked']")
    assert (await _focused(tab)).startswith("Ny besked")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ny-besked")
    await page.get_by_role("heading", name="Ny besked", level=1).wait_for()
    await tab.check("compose-form")

    # The recipients come first: a radio group reached by Tab ("Alle" is chosen); the arrow
    # picks Anna.
    await _tab_to(tab, "#to-all")
    await page.keyboard.press("ArrowDown")
    assert await page.get_by_label("Anna Andersen").is_checked()
    # A template by keyboard: the select, then "Indsæt skabelon"; the box and count follow,
    # greeting Anna (not everyone on the case).
    await _tab_to(tab, "#skabelon")
    await page.keyboard.press("ArrowDown")
    await _tab_to(tab, ".template-picker-fields button")
    await page.keyboard.press("Enter")
    box = page.locator("#body")
    await page.wait_for_function("document.getElementById('body').value.length > 0")
    assert await box.input_value() == THANKS
    assert await page.evaluate("document.activeElement.id") == "body"
    assert await page.locator("#body-count").inner_text() == f"{len(THANKS)} tegn · 1 SMS"
    await page.keyboard.type(" 🙂")
    assert "2 SMS'er" in await page.locator("#body-count").inner_text()
    # Typed text is not replaced without asking: "Annullér" keeps it.
    asked: list[str] = []

    async def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", dismiss)
    await page.locator(".template-picker-fields button").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_function("document.activeElement.id === 'body'")
    assert asked == ["Vil du erstatte den tekst, du har skrevet, med skabelonen?"]
    assert await box.input_value() == THANKS + " 🙂"
    for _ in range(2):
        await page.keyboard.press("End")
        await page.keyboard.press("Backspace")  # the emoji (one character for the user), the space
    assert await box.input_value() == THANKS
    # An untouched template follows the recipient: to all, the greeting names nobody.
    await page.get_by_label("Alle på sagen, der kan få beskeder").check()
    assert (await box.input_value()).startswith("Hej. Tak for din besked.")
    await page.get_by_label("Anna Andersen").check()
    assert await box.input_value() == THANKS
    await _tab_to(tab, "button[type=submit].button-primary")
    assert await _focused(tab) == "Send besked"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ny-besked?sendt=*")
    status = page.get_by_role("status")
    await status.get_by_text("Beskeden er lagt i kø").wait_for()
    await status.get_by_text("Anna Andersen: sendes nu.").wait_for()
    await tab.check("compose-sent")
    await stack.drain()
    assert (await stack.sent_to(anna))[before:] == [THANKS]


async def test_a_file_to_the_family_on_a_phone(
    stack: Stack, browser: Any, logins: dict[str, Login], tmp_path: Path
) -> None:
    """At 390 px: no sideways scrolling; an empty message is refused in plain Danish; a PDF
    goes to the secure inbox and the SMS only says there is a new message."""
    anna = stack.world.phones["anna"]
    case = stack.world.cases["anna"]
    url = f"/sagsbehandler/sager/{case}/ny-besked"
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await _keyboard_login(tab, stack, logins["mette"], url)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await tab.check("compose-phone")

    plan = tmp_path / "Mødeplan.pdf"
    plan.write_bytes(PDF)
    await page.get_by_label("Anna Andersen").check()
    await page.locator("#file").set_input_files(str(plan))
    await page.locator("#body").fill("   ")
    await page.get_by_role("button", name="Send besked").click()
    await page.get_by_role("alert").get_by_text("Skriv en besked, før du sender.").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await tab.check("compose-phone-error")
    await stack.drain()
    assert await stack.sent_to(anna) == []

    # "Følsomt": the label and the live count say where the text goes, not how many SMS.
    sensitive = page.get_by_label("Følsomt indhold")
    await sensitive.check()
    secure = "Beskeden (sendes i den sikre indbakke; SMS'en er kun en besked med link)"
    assert await page.get_by_label(secure).is_visible()
    assert "står i den sikre indbakke" in await page.locator("#body-count").inner_text()
    await sensitive.uncheck()
    assert await page.get_by_label("Beskeden (sendes som SMS)").is_visible()
    assert "1 SMS" in await page.locator("#body-count").inner_text()
    await page.locator("#body").fill("Her er mødeplanen. Hilsen Mette")
    await page.locator("#file").set_input_files(str(plan))
    await page.get_by_role("button", name="Send besked").click()
    await page.wait_for_url("**/ny-besked?sendt=*")
    await page.get_by_role("status").get_by_text("med 1 fil i den sikre indbakke").wait_for()
    await tab.check("compose-phone-sent")
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) == 1 and "Du har en ny besked fra Københavns Kommune" in sent[0]
    assert "mødeplanen" not in sent[0]


async def _box(tab: Tab) -> list[float]:
    """The text box's width and right edge, the form's width, the page's and the window's."""
    return list(
        await tab.page.evaluate(
            "(() => { const b = document.getElementById('body').getBoundingClientRect(); "
            "const f = document.querySelector('form.compose').getBoundingClientRect(); "
            "return [b.width, b.right, f.width, document.documentElement.scrollWidth, "
            "window.innerWidth]; })()"
        )
    )


async def test_the_message_box_is_a_readable_width_and_fits_a_phone(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """At 1280 px the text box is as wide as a readable line (64rem, as the thread's reply box),
    not a narrow field; at 390 and 320 px it fills the form and nothing scrolls sideways."""
    url = f"/sagsbehandler/sager/{stack.world.cases['anna']}/ny-besked"
    tab = await open_tab(browser, stack)
    await _keyboard_login(tab, stack, logins["mette"], url)
    width, _, form, page_width, window = await _box(tab)
    assert 600 <= width <= 640 < form, (width, form)
    assert page_width <= window
    for size in ({"width": 390, "height": 844}, {"width": 320, "height": 640}):
        await tab.page.set_viewport_size(size)
        width, right, form, page_width, window = await _box(tab)
        assert abs(width - form) <= 1, (size, width, form)
        assert right <= window and page_width <= window, (size, right, page_width)
    await tab.check("compose-form-320")

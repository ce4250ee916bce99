"""The pages in a real browser: Debian's Chromium via Playwright, axe-core on every page.

Runs on SQLite only (the pages' storage paths are covered on both backends
by test_pages.py); screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

from typing import Any

from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
from tests.web.conftest import Login, code_from_sms, open_tab

pytestmark = PYTESTMARK


async def test_family_logs_in_by_code_reads_and_replies(stack: Stack, browser: Any) -> None:
    """Anna asks for a code, logs in, reads Mette's answer and her own message (as text), replies."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, 'Hej <script>alert("x")</script> kan vi flytte mødet?')
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await stack.api("GET", f"/api/v1/conversations/{conv}")  # Mette reads it (access log)
    await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Ja, tirsdag kl. 10?"}
    )
    await stack.drain()

    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await tab.goto("/borger/")
    assert page.url.endswith("/borger/log-ind")
    await tab.check("citizen-login")
    await page.get_by_label("Mobilnummer").fill("20 12 34 01")
    await page.get_by_role("button", name="Send mig en kode").click()
    await page.wait_for_url("**/borger/log-ind/kode")
    await tab.check("citizen-code")
    await page.get_by_label("Kode (6 cifre)").fill(await code_from_sms(stack, anna))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/borger/")
    await tab.check("citizen-inbox")
    await page.get_by_role("link", name="Børn og Familie – Mette").click()
    await page.wait_for_url("**/borger/samtaler/*")
    await tab.check("citizen-thread")
    body = page.locator(".message-body")
    assert await body.first.inner_text() == 'Hej <script>alert("x")</script> kan vi flytte mødet?'
    assert "Ja, tirsdag kl. 10?" in await body.all_inner_texts()
    assert await page.get_by_text("Læst af Mette 10:00").count() == 1
    stack.clock.advance(minutes=5)
    await page.get_by_label("Din besked").fill("Tirsdag passer fint. Tak!")
    await page.get_by_role("button", name="Send").click()
    await page.wait_for_url("**/borger/samtaler/*?sendt=1")
    await (
        page.get_by_role("status")
        .get_by_text("Mette svarer dig senest tirsdag den 25. februar")
        .wait_for()
    )
    await tab.check("citizen-thread-sent")
    assert dialogs == []
    mette = (await (await stack.api("GET", f"/api/v1/conversations/{conv}")).json())["messages"]
    assert mette[-1]["body"] == "Tirsdag passer fint. Tak!" and mette[-1]["awaiting_reply"]


async def _staff_login(tab: Any, stack: Stack, login: Login, *, check: bool = False) -> None:
    page = tab.page
    await tab.goto("/sagsbehandler/")
    assert "/sagsbehandler/log-ind" in page.url
    if check:
        await tab.check("staff-login")
    await page.get_by_label("Brugernavn").fill(login.username)
    await page.get_by_label("Adgangskode").fill(login.password)
    await page.get_by_role("button", name="Fortsæt").click()
    await page.wait_for_url("**/sagsbehandler/log-ind/kode*")
    if check:
        await tab.check("staff-totp")
    await page.get_by_label("Kode (6 cifre)").fill(login.code(stack))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/sagsbehandler/")


async def test_caseworker_logs_in_and_answers(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Mette logs in with password and TOTP, sees Anna's thread with its badge, answers by SMS."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej Mette, hvornår er mødet?")
    tab = await open_tab(browser, stack)
    page = tab.page
    await _staff_login(tab, stack, logins["mette"], check=True)
    await tab.check("staff-inbox")
    mine = page.get_by_role("region", name="Mine sager")
    await mine.get_by_text("Svar senest tirsdag den 25. februar 16:00").wait_for()
    await mine.get_by_role("link", name="Anna Andersen").click()
    await page.wait_for_url("**/sagsbehandler/samtaler/*")
    await tab.check("staff-thread")
    box = page.get_by_label("Dit svar (sendes som SMS)")
    await box.fill("Mødet er tirsdag kl. 10 på rådhuset. " * 5)
    assert await page.locator("#body-count").inner_text() == "185 tegn · 2 SMS'er"
    await box.fill("Mødet er tirsdag kl. 10. Hilsen Mette 😊")
    assert "(specialtegn" in await page.locator("#body-count").inner_text()
    await box.fill("Mødet er tirsdag kl. 10. Hilsen Mette")
    await page.get_by_role("button", name="Send svar").click()
    await page.wait_for_url("**?sendt=1")
    await tab.check("staff-thread-sent")
    await stack.drain()
    assert "Mødet er tirsdag kl. 10. Hilsen Mette" in await stack.sent_to(anna)
    await page.get_by_role("link", name="Tilbage til indbakken").click()
    await (
        page.get_by_role("region", name="Mine sager")
        .get_by_text("Ingen ubesvarede beskeder.")
        .wait_for()
    )


async def test_new_messages_appear_without_reload(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """With the inbox open, a new SMS shows up through server-sent events, and is announced."""
    tab = await open_tab(browser, stack)
    page = tab.page
    await _staff_login(tab, stack, logins["mette"])
    await (
        page.get_by_role("region", name="Mine sager")
        .get_by_text("Ingen ubesvarede beskeder.")
        .wait_for()
    )
    await page.wait_for_timeout(400)  # the stream has taken its first look
    await stack.sms(stack.world.phones["anna"], "Er der nyt?")
    await (
        page.get_by_role("region", name="Mine sager")
        .get_by_role("link", name="Anna Andersen")
        .wait_for(timeout=5000)
    )
    assert await page.locator("#live-status").inner_text() == "Der er kommet nye beskeder."


async def test_lead_sees_team_and_unassigned_groups(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Hanne (lead) sees Mette's thread under her team and an unknown number unassigned; 404 pages."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.sms("+4531234599", "Hvem er jeg?")
    tab = await open_tab(browser, stack)
    page = tab.page
    await _staff_login(tab, stack, logins["hanne"])
    team = page.get_by_role("region", name="Teamets sager")
    await team.get_by_text("Mettes sag").wait_for()
    unassigned = page.get_by_role("region", name="Ikke fordelt")
    await unassigned.get_by_role("link", name="Ukendt afsender").wait_for()
    await tab.check("staff-inbox-lead")
    resp = await page.goto(stack.base + "/sagsbehandler/samtaler/findes-ikke")
    assert resp is not None and resp.status == 404
    await tab.check("staff-404")
    resp = await page.goto(stack.base + "/borger/findes-ikke")
    assert resp is not None and resp.status == 404
    await tab.check("citizen-404")


async def test_keyboard_only_family_flow(stack: Stack, browser: Any) -> None:
    """Skip link first; log in, open the thread and reply using only the keyboard."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await tab.goto("/borger/log-ind")

    async def tab_to(selector: str, limit: int = 20) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            if await page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skipnav"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main-content"
    await tab_to("#phone")
    await page.keyboard.type("20123401")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/borger/log-ind/kode")
    await tab_to("#code")
    await page.keyboard.type(await code_from_sms(stack, anna))
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/borger/")
    await tab_to("a.inbox-link")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/borger/samtaler/*")
    await tab_to("#body")
    await page.keyboard.type("Sendt med tastaturet")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "file"  # attach a photo or PDF
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Send"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**?sendt=1")
    assert await page.get_by_text("Sendt med tastaturet").count() == 1


async def test_keyboard_only_caseworker_flow(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """A caseworker logs in, opens a thread and answers with the keyboard alone."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    login = logins["mette"]
    tab = await open_tab(browser, stack)
    page = tab.page
    await tab.goto("/sagsbehandler/log-ind")
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")  # the solution's home link
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "username"
    await page.keyboard.type(login.username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(login.password)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/log-ind/kode*")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "code"
    await page.keyboard.type(login.code(stack))
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/sagsbehandler/")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.classList.contains('inbox-link')"):
            break
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/samtaler/*")
    for _ in range(20):  # past the header nav (Sager, Opgaver, …)
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "body":
            break
    await page.keyboard.type("Svar fra tastaturet")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**?sendt=1")
    await stack.drain()
    assert "Svar fra tastaturet" in await stack.sent_to(stack.world.phones["anna"])


async def test_other_languages(stack: Stack, browser: Any) -> None:
    """Arabic (right-to-left), English and Ukrainian pages are translated, remembered and pass axe."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "مرحبا")
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    html = page.locator("html")
    await tab.goto("/borger/log-ind?lang=ar")
    assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("ar", "rtl")
    h1 = page.get_by_role("heading", level=1)
    assert await h1.inner_text() == "سجّل الدخول إلى صندوق رسائلك الآمن"
    await tab.check("citizen-login-ar")
    await page.locator("#phone").fill("20123401")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url("**/borger/log-ind/kode")
    assert await html.get_attribute("dir") == "rtl"  # the choice is remembered
    await page.locator("#code").fill(await code_from_sms(stack, anna))
    await page.locator("button[type=submit]").click()
    await page.wait_for_url("**/borger/")
    assert await h1.inner_text() == "رسائلك"
    await page.locator("a.inbox-link").click()
    await page.wait_for_url("**/borger/samtaler/*")
    await tab.check("citizen-thread-ar")
    await tab.goto("/borger/?lang=en")
    assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("en", "ltr")
    assert await h1.inner_text() == "Your messages"
    await tab.check("citizen-inbox-en")
    await page.locator("a.inbox-link").click()
    await page.wait_for_url("**/borger/samtaler/*")
    await tab.goto(page.url.split("?")[0].removeprefix(stack.base) + "?lang=uk")
    assert (
        await page.get_by_role("heading", level=2, name="Написати до муніципалітету").count() == 1
    )
    await tab.check("citizen-thread-uk")

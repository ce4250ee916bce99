"""The family's secure inbox in a real browser: files, meetings, timeline, right to left.

Chromium via Playwright, axe-core (WCAG 2.1 AA) on every page state; SQLite
only (the storage paths run on both backends in test_citizen_*.py);
screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from bot.domain import citizen, sessions
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import access_log
from bot.wiring.demo import MEETING_PLACE, MUNICIPALITY_NUMBER, seed_demo
from tests.harness import Stack
from tests.web.browsing import PYTESTMARK, close_tabs, logins, stack  # noqa: F401
from tests.web.conftest import Login, Tab, code_from_sms, open_tab
from tests.web.test_citizen_attachments import jpeg, pdf

pytestmark = PYTESTMARK


async def _citizen_login(tab: Tab, stack: Stack, phone: str, typed: str) -> None:
    page = tab.page
    await tab.goto("/borger/log-ind")
    await page.get_by_label("Mobilnummer").fill(typed)
    await page.get_by_role("button", name="Send mig en kode").click()
    await page.wait_for_url("**/borger/log-ind/kode")
    await page.get_by_label("Kode (6 cifre)").fill(await code_from_sms(stack, phone))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/borger/")


async def _download(page: Any, link: Any) -> bytes:
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


async def test_family_attaches_a_photo_and_a_pdf_and_the_caseworker_downloads(
    stack: Stack, browser: Any, logins: dict[str, Login]
) -> None:
    """Anna logs in by code, sees her meeting and timeline, sends a photo and a PDF; Mette gets them."""
    anna = stack.world.phones["anna"]
    cid = stack.world.cases["anna"]
    await stack.sms(anna, "Hej Mette, jeg sender papirerne her.")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await stack.api("GET", f"/api/v1/conversations/{conv}")  # Mette reads it
    await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    appt = await (
        await stack.api(
            "POST",
            f"/api/v1/cases/{cid}/appointments",
            json={"starts_at": "2025-03-04T10:00:00+01:00", "place": "Rådhuset"},
        )
    ).json()
    await stack.drain()

    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await _citizen_login(tab, stack, anna, "20 12 34 01")
    await page.get_by_role("link", name="Børn og Familie – Mette").click()
    await page.wait_for_url("**/borger/samtaler/*")
    await page.get_by_role("heading", name="Din sag trin for trin").wait_for()
    await page.get_by_role("heading", name="Dine møder").wait_for()
    await tab.check("citizen-thread-case")
    assert await page.get_by_text("Læst af Mette 10:00").count() == 1

    ics = await _download(page, page.get_by_role("link", name="Føj til kalender"))
    event = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
    assert str(event["UID"]) == f"{appt['id']}@tovholder"

    # The wrong kind of file: a plain message, the text kept.
    await page.get_by_label("Din besked").fill("Her er papirerne.")
    await page.get_by_label("Vedhæft billede eller PDF (hvis du vil)").set_input_files(
        [{"name": "faktura.html", "mimeType": "text/html", "buffer": b"<html>hej</html>" * 8}]
    )
    await page.get_by_role("button", name="Send").click()
    await (
        page.get_by_role("alert")
        .get_by_text("Du kan kun sende billeder (JPEG, PNG, HEIC) og PDF-filer.")
        .wait_for()
    )
    assert await page.get_by_label("Din besked").input_value() == "Her er papirerne."
    await tab.check("citizen-upload-refused")

    photo, paper = jpeg(), pdf()
    await page.get_by_label("Vedhæft billede eller PDF (hvis du vil)").set_input_files(
        [
            {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo},
            {"name": "lægeerklæring.pdf", "mimeType": "application/pdf", "buffer": paper},
        ]
    )
    await page.get_by_role("button", name="Send").click()
    await page.wait_for_url("**/borger/samtaler/*?sendt=1")
    files = page.get_by_role("list", name="Vedhæftede filer")
    await files.get_by_role("link", name="IMG_0042.jpg").wait_for()
    await tab.check("citizen-thread-attachments")
    assert await _download(page, files.get_by_role("link", name="lægeerklæring.pdf")) == paper

    await tab.goto(f"/borger/samtaler/{conv}?lang=ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    await page.get_by_role("heading", name="قضيتك خطوة بخطوة").wait_for()
    await page.get_by_role("list", name="الملفات المرفقة").wait_for()
    await tab.check("citizen-thread-ar")

    # The caseworker, in her own browser session, downloads the photo.
    async with stack.svc.read() as c:
        photo_id = (
            await c.execute(
                select(message_attachments.c.id).where(
                    message_attachments.c.sha256 == hashlib.sha256(photo).hexdigest()
                )
            )
        ).scalar_one()
    staff = await open_tab(browser, stack)
    spage = staff.page
    await staff.goto("/sagsbehandler/")
    await spage.get_by_label("Brugernavn").fill(logins["mette"].username)
    await spage.get_by_label("Adgangskode").fill(logins["mette"].password)
    await spage.get_by_role("button", name="Fortsæt").click()
    await spage.wait_for_url("**/sagsbehandler/log-ind/kode*")
    await spage.get_by_label("Kode (6 cifre)").fill(logins["mette"].code(stack))
    await spage.get_by_role("button", name="Log ind").click()
    await spage.wait_for_url("**/sagsbehandler/")
    await staff.goto(f"/sagsbehandler/samtaler/{conv}")
    got = await spage.request.get(f"{stack.base}/sagsbehandler/samtaler/{conv}/filer/{photo_id}")
    assert got.status == 200 and await got.body() == photo
    assert got.headers["content-type"] == "image/jpeg"
    async with stack.svc.read() as c:
        logged = (
            await c.execute(
                select(access_log.c.staff_id).where(
                    access_log.c.action == "download", access_log.c.purpose.contains(photo_id)
                )
            )
        ).all()
    assert [r.staff_id for r in logged] == [stack.world.mette]


async def test_the_demo_familys_meeting_says_where_it_is(stack: Stack, browser: Any) -> None:
    """In the demo data the Jensen family has a meeting with a place. Maria, by SMS code at
    390 px, sees the meeting under "Dine møder" with its place (the reminder SMS to her phone
    names it, so the phone-level login shows no more than the phone has); logged in with
    MitID ("betydelig") she sees the same."""
    await seed_demo(stack.svc)
    maria = "+4520123411"
    await stack.sms(maria, "Hej Mette, hvornår er vores møde?", to=MUNICIPALITY_NUMBER)
    tab = await open_tab(browser, stack, mobile=True)
    page = tab.page
    await tab.goto("/borger/log-ind")
    await page.get_by_label("Kommune").select_option(label="Demo Kommune")
    await page.get_by_label("Mobilnummer").fill("20 12 34 11")
    await page.get_by_role("button", name="Send mig en kode").click()
    await page.wait_for_url("**/borger/log-ind/kode")
    await page.get_by_label("Kode (6 cifre)").fill(await code_from_sms(stack, maria))
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url("**/borger/")
    await page.get_by_role("link", name="Børn og Familie – Mette").click()
    await page.wait_for_url("**/borger/samtaler/*")
    meetings = page.get_by_role("region", name="Dine møder")
    await meetings.get_by_text("Møde fredag den 28. februar kl. 10:00–11:00").wait_for()
    await meetings.get_by_text(f"Sted: {MEETING_PLACE}").wait_for()
    assert await meetings.get_by_role("link", name="Log ind med MitID").count() == 0
    await tab.check("citizen-demo-meeting-code")

    # The same browser with a MitID session ("betydelig"): the place is there too.
    tenant = await citizen.municipality_id(stack.svc, "lyngby-demo")
    assert tenant is not None
    token, _ = await sessions.create(
        stack.svc,
        tenant_id=tenant,
        kind="citizen",
        stage="full",
        assurance="substantial",
        phone_index=stack.svc.blind_index(maria),
    )
    (cookie,) = [c for c in await page.context.cookies() if c["name"].endswith("tvh_session")]
    await page.context.add_cookies([{**cookie, "value": token}])
    await page.reload()
    meetings = page.get_by_role("region", name="Dine møder")
    await meetings.get_by_text(f"Sted: {MEETING_PLACE}").wait_for()
    await tab.check("citizen-demo-meeting-mitid")

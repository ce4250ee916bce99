"""The family's one inbox over HTTP, on SQLite and PostgreSQL: cases in two administrations,
a bisidder's and a representative's view by their consent, unread counts, the municipality."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.directory import create_person
from bot.domain.integration import participants, service
from tests.harness import Stack
from tests.web.conftest import citizen_login, form_post

HELPER_PHONE = "+4520123409"


async def _update(stack: Stack, case: str, body: str) -> dict[str, Any]:
    """The case system sends an update to the case's participants (no caseworker wrote it)."""
    async with stack.svc.write() as conn:
        return await service.send_update(
            conn, stack.svc, stack.world.tenant_id, stack.world.cases[case], body
        )


async def _helper(stack: Stack, role: str, **data: Any) -> str:
    """Søs takes part in Anna's case as ``role``; returns the participant id."""
    w = stack.world
    async with stack.svc.write() as conn:
        person = await create_person(
            conn,
            stack.svc,
            tenant_id=w.tenant_id,
            name="Søs Sørensen",
            first_name="Søs",
            phone=HELPER_PHONE,
        )
        return await participants.add_participant(
            conn,
            stack.svc,
            w.tenant_id,
            w.cases["anna"],
            {"person_id": person, "role": role, **data},
        )


def _links(html: str) -> dict[str, str]:
    """Inbox link text ("Børn og Familie – Mette") to its thread URL."""
    found = re.findall(r'href="(/borger/samtaler/[^"]+)">\s*([^<]+?)\s*</a>', html)
    return {text: href for href, text in found}


async def test_one_inbox_for_cases_in_two_administrations(stack: Stack) -> None:
    """Bo sees his Børn og Familie and Jobcenter threads in one inbox, each with its own
    caseworker and reply-by; the municipality is named on every family page."""
    await _update(stack, "bo_children", "Vi har modtaget din ansøgning.")
    await _update(stack, "bo_jobs", "Husk samtalen på jobcentret.")
    await citizen_login(stack, stack.world.phones["bo"])
    html = await (await stack.client.get("/borger/")).text()
    links = _links(html)
    assert set(links) == {"Børn og Familie – Mette", "Jobcenter – Lars"}
    assert html.count('class="header-authority">Københavns Kommune<') == 1
    for text, href in links.items():
        resp = await form_post(stack, href, href + "/svar", body=f"Spørgsmål til {text}")
        assert resp.status == 303
    html = await (await stack.client.get("/borger/")).text()
    # Friday 21 February: Team Nord answers in two working days, Team Ydelse in three.
    assert "<bdi>Mette</bdi> svarer dig senest tirsdag den 25. februar." in html
    assert "<bdi>Lars</bdi> svarer dig senest onsdag den 26. februar." in html
    page = await (await stack.client.get(links["Jobcenter – Lars"])).text()
    assert "Københavns Kommune" in page and "Din sagsbehandler er <bdi>Lars</bdi>." in page
    assert "Spørgsmål til Jobcenter – Lars" in page
    assert "Spørgsmål til Børn og Familie – Mette" not in page


async def test_new_messages_count_what_a_caseworker_wrote(stack: Stack) -> None:
    """The automatic receipt and a case-system update are not "new messages"; Mette's reply is."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej Mette, har I fået mine papirer?")  # an automatic receipt goes out
    await _update(stack, "anna", "Din sag er nu under behandling.")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Ja, tak. Hilsen Mette"}
    )
    assert resp.status == 201, await resp.text()
    await stack.drain()
    await citizen_login(stack, anna)
    html = await (await stack.client.get("/borger/")).text()
    assert "1 ny besked" in html and "nye beskeder" not in html
    await stack.client.get(_links(html)["Børn og Familie – Mette"])
    html = await (await stack.client.get("/borger/")).text()
    assert "ny besked" not in html


async def test_a_bisidder_sees_only_their_own_thread_while_consent_lasts(stack: Stack) -> None:
    """Søs, bisidder with consent, sees her own thread on Anna's case and nothing of Anna's;
    when the case system records that web is refused, the thread is gone (404)."""
    part = await _helper(stack, "bisidder", consent={"web": True})
    await stack.sms(stack.world.phones["anna"], "Hej, det er Anna. Kun til Mette.")
    sent = await _update(stack, "anna", "Mødet er flyttet til torsdag.")
    assert len(sent["messages"]) == 2  # Anna and Søs, each on their own thread
    anna_conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await citizen_login(stack, HELPER_PHONE)
    html = await (await stack.client.get("/borger/")).text()
    links = _links(html)
    assert list(links) == ["Børn og Familie – Mette"]
    page = await (await stack.client.get(links["Børn og Familie – Mette"])).text()
    assert "Mødet er flyttet til torsdag." in page and "Kun til Mette" not in page
    assert (await stack.client.get(f"/borger/samtaler/{anna_conv}")).status == 404

    async with stack.svc.write() as conn:
        await participants.update_participant(
            conn, stack.svc, stack.world.tenant_id, part, {"consent": {"web": False}}
        )
    html = await (await stack.client.get("/borger/")).text()
    assert _links(html) == {} and "Du har ingen beskeder endnu." in html
    href = links["Børn og Familie – Mette"]
    assert (await stack.client.get(href)).status == 404
    resp = await form_post(stack, "/borger/", href + "/svar", body="Må jeg stadig skrive?")
    assert resp.status == 404


async def test_a_representative_sees_the_thread_only_while_the_authority_is_in_force(
    stack: Stack,
) -> None:
    """A fuldmagt from today shows the thread; one that ended yesterday hides it (404)."""
    part = await _helper(stack, "representative", authority_from="2025-02-21")
    await _update(stack, "anna", "Vi har brug for en underskrift.")
    await citizen_login(stack, HELPER_PHONE)
    href = _links(await (await stack.client.get("/borger/")).text())["Børn og Familie – Mette"]
    assert (await stack.client.get(href)).status == 200
    async with stack.svc.write() as conn:
        await participants.update_participant(
            conn,
            stack.svc,
            stack.world.tenant_id,
            part,
            {"authority_from": "2025-01-01", "authority_to": "2025-02-20"},
        )
    assert _links(await (await stack.client.get("/borger/")).text()) == {}
    assert (await stack.client.get(href)).status == 404


async def test_a_long_thread_has_a_date_above_each_day(stack: Stack) -> None:
    """Messages on three days: three date headings, in order, on the family's thread."""
    anna = stack.world.phones["anna"]
    for body in ("Første dag", "Anden dag", "Tredje dag"):
        await stack.sms(anna, body)
        stack.clock.advance(days=1)
    await citizen_login(stack, anna)
    href = _links(await (await stack.client.get("/borger/")).text())["Børn og Familie – Mette"]
    html = await (await stack.client.get(href)).text()
    days = re.findall(r'<h3 class="message-day-heading">([^<]+)</h3>', html)
    assert days == ["fredag den 21. februar", "lørdag den 22. februar", "søndag den 23. februar"]
    # Under its day, a message shows the time alone.
    assert len(re.findall(r"<strong>Dig</strong>\s*· 10:00\s", html)) == 3
    assert "fredag den 21. februar 10:00" not in html


async def test_a_send_later_message_reaches_the_inbox_when_it_is_sent(stack: Stack) -> None:
    """Mette plans an SMS for tomorrow and withdraws another: until it goes, the family's inbox
    neither shows nor counts it (she may still withdraw it); the withdrawn one never shows."""
    from datetime import timedelta

    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej Mette, har I fået mine papirer?")
    await stack.drain()
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    url = f"/api/v1/conversations/{conv}/scheduled"
    tomorrow = stack.clock.now() + timedelta(days=1)
    ids = []
    for body in ("Planlagt: vi ses i morgen", "Trukket tilbage: glem det"):
        resp = await stack.api("POST", url, json={"body": body, "send_at": tomorrow.isoformat()})
        assert resp.status == 201, await resp.text()
        ids.append((await resp.json())["id"])
    assert (await stack.api("DELETE", f"{url}/{ids[1]}")).status == 204
    await citizen_login(stack, anna)
    html = await (await stack.client.get("/borger/")).text()
    assert "ny besked" not in html and "nye beskeder" not in html
    href = _links(html)["Børn og Familie – Mette"]
    page = await (await stack.client.get(href)).text()
    assert "Planlagt" not in page and "Trukket tilbage" not in page
    stack.clock.set(tomorrow + timedelta(minutes=1))
    await stack.drain()
    assert "Planlagt: vi ses i morgen" in await stack.sent_to(anna)
    await citizen_login(stack, anna)  # a day later the session has ended
    html = await (await stack.client.get("/borger/")).text()
    assert "1 ny besked" in html
    page = await (await stack.client.get(href)).text()
    assert "Planlagt: vi ses i morgen" in page and "Trukket tilbage" not in page

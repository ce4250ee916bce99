"""The decision guard's offer on the staff pages: a refused afgørelse sent as a letter.

With Digital Post set up for the municipality (and the SF1601 simulator behind
it), the refused Svar and Ny besked offer "Send som brev i Digital Post" with a
klagevejledning field; the letter is queued through ``letters.queue_decision``,
journalised, and reaches the simulator as a legal notification. Without it the
page says to use the case system. Both databases.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.domain.identity import set_person_cpr
from bot.domain.letters import SUBJECT_QUEUED, relay_letters
from bot.simulators.digitalpost import DigitalPostSimulatorConfig, create_digitalpost_simulator
from bot.store.schema.core import journal_entries
from bot.store.schema.letters import letters
from channels.digitalpost import Sf1601Client, Sf1601Config
from tests.harness import Stack, start_stack
from tests.web.conftest import FRIDAY_MORNING, Login, csrf_of, form_post, give_logins, staff_login

CPR = "0101901234"
CVR = "29189846"
DECISION = "Hej Anna. Du har fået afslag på hjælp til ny vaskemaskine."
KLAGE = "Du kan klage til Ankestyrelsen inden fire uger. Skriv til kommunen."
OFFER = "Send som brev i Digital Post"
ELSEWHERE = "gennem sagssystemet"


@pytest.fixture
async def post_sim(aiohttp_server: Any) -> TestServer:
    server: TestServer = await aiohttp_server(
        create_digitalpost_simulator(DigitalPostSimulatorConfig())
    )
    return server


@pytest.fixture
async def dp_stack(
    aiohttp_client: Any,
    aiohttp_server: Any,
    db_url: str,
    keys: dict[str, bytes],
    post_sim: TestServer,
) -> AsyncIterator[Stack]:
    """The stack with Digital Post set up for Københavns Kommune (slug kbh)."""
    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={
            "TOVHOLDER_WEB_LIVE_POLL": "0.2",
            "TOVHOLDER_DIGITALPOST_URL": str(post_sim.make_url("")).rstrip("/"),
            "TOVHOLDER_DIGITALPOST_SENDERS": f"aarhus=55133018, kbh={CVR}",
            "TOVHOLDER_DIGITALPOST_INTERVAL": "3600",
        },
    )
    await set_person_cpr(s.svc, person_id=s.world.persons["anna"], cpr=CPR)
    try:
        yield s
    finally:
        await s.session.close()


async def _letter_rows(stack: Stack) -> tuple[int, int]:
    async with stack.svc.read() as conn:
        queued = (await conn.execute(select(func.count()).select_from(letters))).scalar_one()
        filed = (
            await conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.subject == SUBJECT_QUEUED)
            )
        ).scalar_one()
    return int(queued), int(filed)


async def _thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej, hvad med min ansøgning?")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return f"/sagsbehandler/samtaler/{items[0]['id']}"


async def _refused_reply(stack: Stack, thread: str) -> str:
    resp = await form_post(stack, thread, f"{thread}/svar", body=DECISION)
    assert resp.status == 400
    return await resp.text()


async def _received(stack: Stack, sim: TestServer) -> list[dict[str, Any]]:
    async with stack.session.get(str(sim.make_url("/_sim/letters"))) as resp:
        return list((await resp.json())["letters"])


async def test_refused_reply_offers_a_letter_that_reaches_digital_post(
    dp_stack: Stack, post_sim: TestServer
) -> None:
    """Refused Svar offers the letter; sent with its klagevejledning it is queued, journalised,
    and reaches the SF1601 simulator as a legal notification to Anna's CPR from the CVR."""
    stack = dp_stack
    logins = await give_logins(stack)
    thread = await _thread(stack)
    await staff_login(stack, logins["mette"])
    page = await _refused_reply(stack, thread)
    assert OFFER in page and "Klagevejledning" in page and ELSEWHERE not in page
    assert "vaskemaskine" in page
    case = stack.world.cases["anna"]
    action = f"/sagsbehandler/sager/{case}/afgoerelse-brev"
    assert action in page
    assert await _letter_rows(stack) == (0, 0)
    resp = await stack.client.post(
        action,
        data={
            "csrf": csrf_of(page),
            "to": "",
            "title": "Afgørelse om vaskemaskine",
            "decision": DECISION,
            "klagevejledning": KLAGE,
        },
        allow_redirects=False,
    )
    assert resp.status == 303, (await resp.text())[:400]
    assert resp.headers["Location"] == f"{action}?lagt_i_koe=1"
    done = await (await stack.client.get(resp.headers["Location"])).text()
    assert "Afgørelsen er lagt i kø til Digital Post" in done
    assert await _letter_rows(stack) == (1, 1)
    async with aiohttp.ClientSession() as session:
        client = Sf1601Client(
            Sf1601Config(base_url=str(post_sim.make_url("")), timeout=5.0),
            session,
            now=stack.clock.now,
        )
        await relay_letters(stack.svc, client)
    [got] = await _received(stack, post_sim)
    assert got["legal_notification"] is True
    assert (got["recipient"], got["sender"], got["label"]) == (
        CPR,
        CVR,
        "Afgørelse om vaskemaskine",
    )
    text = got["files"][0]["text"]
    assert DECISION in text and KLAGE in text and "Klagevejledning" in text


async def test_the_letter_needs_its_klagevejledning_csrf_and_a_case_you_work_on(
    dp_stack: Stack,
) -> None:
    """No klagevejledning: 400 and the text kept; no CSRF: 403; Lars (other team): 404.
    None of them queues a letter."""
    stack = dp_stack
    logins: dict[str, Login] = await give_logins(stack)
    case = stack.world.cases["anna"]
    action = f"/sagsbehandler/sager/{case}/afgoerelse-brev"
    await staff_login(stack, logins["mette"])
    resp = await form_post(
        stack, action, title="Afgørelse", decision=DECISION, klagevejledning="  "
    )
    page = await resp.text()
    assert resp.status == 400
    assert "Skriv klagevejledningen" in page and "vaskemaskine" in page
    resp = await stack.client.post(
        action, data={"title": "A", "decision": DECISION, "klagevejledning": KLAGE}
    )
    assert resp.status == 403
    await stack.client.post("/sagsbehandler/log-ud", data={"csrf": csrf_of(page)})
    await staff_login(stack, logins["lars"])
    assert (await stack.client.get(action)).status == 404
    resp = await form_post(
        stack, "/sagsbehandler/", action, title="A", decision=DECISION, klagevejledning=KLAGE
    )
    assert resp.status == 404
    assert await _letter_rows(stack) == (0, 0)


async def test_without_digital_post_the_page_says_to_use_the_case_system(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Not set up: refused Svar and Ny besked name the case system and offer no letter; a
    letter posted anyway is refused (409 digital_post_not_configured), nothing queued."""
    thread = await _thread(stack)
    await staff_login(stack, logins["mette"])
    page = await _refused_reply(stack, thread)
    assert ELSEWHERE in page and OFFER not in page
    case = stack.world.cases["anna"]
    url = f"/sagsbehandler/sager/{case}/ny-besked"
    html = await (await stack.client.get(url)).text()
    data = FormData(default_to_multipart=True)
    for name, value in {"csrf": csrf_of(html), "to": "alle", "body": DECISION}.items():
        data.add_field(name, value)
    resp = await stack.client.post(url, data=data, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 400 and ELSEWHERE in page and OFFER not in page
    action = f"/sagsbehandler/sager/{case}/afgoerelse-brev"
    resp = await form_post(stack, action, title="A", decision=DECISION, klagevejledning=KLAGE)
    assert resp.status == 409
    assert "Digital Post er ikke sat op" in await resp.text()
    assert await _letter_rows(stack) == (0, 0)


async def test_refused_compose_offers_the_letter_when_set_up(dp_stack: Stack) -> None:
    """Ny besked refused as a decision offers the letter with the text and a klagevejledning."""
    stack = dp_stack
    logins = await give_logins(stack)
    await staff_login(stack, logins["mette"])
    case = stack.world.cases["anna"]
    url = f"/sagsbehandler/sager/{case}/ny-besked"
    html = await (await stack.client.get(url)).text()
    data = FormData(default_to_multipart=True)
    for name, value in {"csrf": csrf_of(html), "to": "alle", "body": DECISION}.items():
        data.add_field(name, value)
    resp = await stack.client.post(url, data=data, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 400
    assert OFFER in page and 'name="klagevejledning"' in page and ELSEWHERE not in page


async def test_with_two_parents_the_letter_page_asks_who_and_without_a_cpr_it_says_so(
    dp_stack: Stack,
) -> None:
    """Eva and Frank (one case, both with a CPR): no choice is 400 letter_recipient and the
    page lists both; choosing Frank queues one letter. Carl (no CPR on file): no form."""
    stack = dp_stack
    logins = await give_logins(stack)
    w = stack.world
    await set_person_cpr(stack.svc, person_id=w.persons["eva"], cpr="0202801111")
    await set_person_cpr(stack.svc, person_id=w.persons["frank"], cpr="0303802222")
    await staff_login(stack, logins["mette"])
    action = f"/sagsbehandler/sager/{w.cases['eriksen']}/afgoerelse-brev"
    fields = {"title": "Afgørelse", "decision": DECISION, "klagevejledning": KLAGE}
    resp = await form_post(stack, action, to="", **fields)
    page = await resp.text()
    assert resp.status == 400 and "Vælg, hvem brevet skal sendes til" in page
    assert "Eva Eriksen" in page and "Frank Eriksen" in page
    assert await _letter_rows(stack) == (0, 0)
    frank = re.search(r'value="([^"]+)"[^>]*>\s*<label for="to-[^"]+">Frank Eriksen', page)
    assert frank is not None
    resp = await form_post(stack, action, to=frank.group(1), **fields)
    assert resp.status == 303
    assert await _letter_rows(stack) == (1, 1)
    page = await (
        await stack.client.get(f"/sagsbehandler/sager/{w.cases['carl']}/afgoerelse-brev")
    ).text()
    assert "der er ikke registreret et CPR-nummer" in page and 'name="klagevejledning"' not in page

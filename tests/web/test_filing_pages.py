"""The filing pages over HTTP: file an unassigned thread, register the sender, move a message.

On SQLite and PostgreSQL through the real app: every refusal is a 4xx with a
plain message (or the 404 page) and writes nothing; two moves at once, one wins.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.store.schema.core import (
    access_log,
    conversations,
    journal_entries,
    messages,
    participants,
    persons,
)
from tests.harness import Stack, annas_second_case, foreign_case
from tests.web.conftest import Login, csrf_of, staff_login

UNKNOWN = "+4520999002"


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:800])
    return text


async def _post(stack: Stack, page: str, action: str, **fields: str) -> Any:
    html = await (await stack.client.get(page)).text()
    return await stack.client.post(
        action, data={"csrf": csrf_of(html), **fields}, allow_redirects=False
    )


async def _snapshot(stack: Stack) -> tuple[int, ...]:
    return (
        await _count(stack, journal_entries),
        await _count(stack, participants),
        await _count(stack, conversations),
        await _count(stack, messages, messages.c.case_id.is_(None)),
        await _count(stack, persons, persons.c.origin == "known"),
        await _count(stack, persons, persons.c.phone_index.is_not(None)),
    )


async def _unassigned(stack: Stack) -> str:
    assert (await stack.sms(UNKNOWN, "Hej, jeg er Carls mor")).status == 200
    async with stack.svc.read() as conn:
        conv = (
            await conn.execute(select(conversations.c.id).where(conversations.c.case_id.is_(None)))
        ).scalar_one()
    return str(conv)


def _case_id(html: str) -> str:
    found = re.search(r'name="case_id" value="([0-9a-f-]{36})"', html)
    assert found, "no case in the form"
    return found.group(1)


async def test_lead_files_an_unknown_number_as_a_new_person_on_a_case(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """From the thread's action to the case: a new parent on Carl's case, confirmed on the case's thread; reads are access-logged."""
    conv = await _unassigned(stack)
    await staff_login(stack, logins["hanne"])
    thread = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert f'href="/sagsbehandler/ikke-fordelt/{conv}"' in thread
    page = await _page(stack, f"/sagsbehandler/ikke-fordelt/{conv}")
    assert "Hej, jeg er Carls mor" in page and "En ny person" not in page
    assert await _count(stack, access_log, access_log.c.purpose == "fordeling") == 2
    found = await _page(stack, f"/sagsbehandler/ikke-fordelt/{conv}?sag=2025-004")
    assert "Carl Carlsen" in found and "En ny person med afsenderens nummer" in found
    # Forgot the name: told so, nothing written.
    before = await _snapshot(stack)
    form = {"case_id": _case_id(found), "sag": "2025-004", "person_id": "sender", "role": "parent"}
    resp = await _post(
        stack,
        f"/sagsbehandler/ikke-fordelt/{conv}",
        f"/sagsbehandler/ikke-fordelt/{conv}/arkiver",
        **form,
    )
    assert resp.status == 400
    assert "Skriv personens fulde navn" in await resp.text()
    assert await _snapshot(stack) == before
    resp = await _post(
        stack,
        f"/sagsbehandler/ikke-fordelt/{conv}",
        f"/sagsbehandler/ikke-fordelt/{conv}/arkiver",
        **form,
        name="Ida Ibsen",
    )
    assert resp.status == 303, await resp.text()
    target = resp.headers["Location"]
    assert target.endswith("?arkiveret=1") and conv not in target
    done = await _page(stack, target)
    assert "Beskederne er arkiveret på sagen" in done and "Ida Ibsen" in done
    assert "Sag 2025-004" in done and "Forkert sag? Flyt en besked" in done
    assert await _count(stack, participants, participants.c.role == "parent") == 4
    # The same form again (a colleague's, a second click): 409, nothing written.
    before = await _snapshot(stack)
    resp = await _post(
        stack,
        f"/sagsbehandler/ikke-fordelt/{conv}",
        f"/sagsbehandler/ikke-fordelt/{conv}/arkiver",
        **form,
        name="Ida Ibsen",
    )
    assert resp.status == 409
    assert "En kollega har lige arkiveret tråden" in await resp.text()
    assert await _snapshot(stack) == before


async def test_register_only_the_person(stack: Stack, logins: dict[str, Login]) -> None:
    """The sender gets a name; the thread stays in the queue, now named."""
    conv = await _unassigned(stack)
    await staff_login(stack, logins["hanne"])
    url = f"/sagsbehandler/ikke-fordelt/{conv}"
    resp = await _post(stack, url, f"{url}/person", new_name=" ")
    assert resp.status == 400 and "Skriv personens fulde navn" in await resp.text()
    resp = await _post(stack, url, f"{url}/person", new_name="Ida Ibsen")
    assert resp.status == 303
    page = await _page(stack, resp.headers["Location"])
    assert "Personen er oprettet" in page and "Ida Ibsen" in page
    assert "opret kun personen" not in page
    inbox = await _page(stack, "/sagsbehandler/")
    assert "Ida Ibsen" in inbox


async def test_filing_refusals(stack: Stack, logins: dict[str, Login]) -> None:
    """A caseworker gets 404 for the queue; another team's or municipality's case is 404 (the
    lookup says so on the page); a participant with another number is a 400; nothing is written."""
    w = stack.world
    conv = await _unassigned(stack)
    async with stack.svc.write() as c:
        foreign = await foreign_case(c, stack.svc, number="2025-900")
    url = f"/sagsbehandler/ikke-fordelt/{conv}"
    await staff_login(stack, logins["mette"])
    await _page(stack, url, status=404)
    before = await _snapshot(stack)
    resp = await _post(
        stack,
        "/sagsbehandler/",
        f"{url}/arkiver",
        case_id=w.cases["anna"],
        person_id=w.persons["anna"],
    )
    assert resp.status == 404
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["hanne"])
    for number in ("2025-003", "2025-900"):  # Lars's team; Aarhus
        page = await _page(stack, f"{url}?sag={number}", status=404)
        assert "ingen sag med det nummer, som du har adgang til" in page
    page = await _page(stack, f"{url}?sag={'x' * 65}", status=400)
    assert "højst 64 tegn" in page
    for case_id, person in ((foreign, "sender"), (w.cases["bo_jobs"], w.persons["bo"])):
        resp = await _post(
            stack, url, f"{url}/arkiver", case_id=case_id, person_id=person, name="X Y"
        )
        assert resp.status == 404, case_id
        assert "Siden findes ikke" in await resp.text()
    resp = await _post(
        stack, url, f"{url}/arkiver", case_id=w.cases["anna"], person_id=w.persons["anna"]
    )
    assert resp.status == 400
    assert "Personen har allerede et andet mobilnummer" in await resp.text()
    assert await _snapshot(stack) == before


async def _annas_move(stack: Stack) -> tuple[str, str, str]:
    """Anna's SMS on her case, and a second case of hers (the right one)."""
    w = stack.world
    assert (await stack.sms(w.phones["anna"], "Det drejer sig om skolen")).status == 200
    async with stack.svc.write() as c:
        second = await annas_second_case(c, stack.svc, w)
        conv, mid = (
            await c.execute(
                select(messages.c.conversation_id, messages.c.id).where(
                    messages.c.direction == "in", messages.c.case_id == w.cases["anna"]
                )
            )
        ).one()
    return str(conv), str(mid), second


async def test_caseworker_moves_a_misfiled_message(stack: Stack, logins: dict[str, Login]) -> None:
    """Pick the message and the case number, then the person: moved, confirmed; the stale form is a 409."""
    conv, mid, second = await _annas_move(stack)
    await staff_login(stack, logins["mette"])
    thread = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    url = f"/sagsbehandler/samtaler/{conv}/flyt"
    assert f'href="{url}"' in thread
    page = await _page(stack, f"{url}?besked={mid}&sag=2025-101")
    assert "Det drejer sig om skolen" in page and "Anna Andersen</bdi> (part)" in page
    assert await _count(stack, access_log, access_log.c.purpose == "flytning") >= 1
    await _page(stack, f"{url}?besked={mid}&sag=2025-003", status=404)  # Lars's case
    csrf = csrf_of(page)
    form = {"csrf": csrf, "message_id": mid, "case_id": second, "sag": "2025-101"}
    resp = await stack.client.post(url, data=form, allow_redirects=False)
    assert resp.status == 303
    done = await _page(stack, resp.headers["Location"])
    assert "Beskeden er flyttet til den rigtige sag" in done
    assert "Det drejer sig om skolen" not in done
    before = await _snapshot(stack)
    resp = await stack.client.post(url, data=form, allow_redirects=False)
    assert resp.status == 409
    assert "En kollega har lige flyttet beskeden" in await resp.text()
    assert await _snapshot(stack) == before


async def test_two_moves_at_once_over_http(stack: Stack, logins: dict[str, Login]) -> None:
    """Two POSTs of one move at the same moment: one 303, one 409 with the conflict message; one record."""
    conv, mid, second = await _annas_move(stack)
    await staff_login(stack, logins["mette"])
    url = f"/sagsbehandler/samtaler/{conv}/flyt"
    csrf = csrf_of(await _page(stack, f"{url}?besked={mid}&sag=2025-101"))
    form = {"csrf": csrf, "message_id": mid, "case_id": second, "sag": "2025-101"}
    first, again = await asyncio.gather(
        stack.client.post(url, data=form, allow_redirects=False),
        stack.client.post(url, data=form, allow_redirects=False),
    )
    assert sorted([first.status, again.status]) == [303, 409]
    loser = first if first.status == 409 else again
    assert "En kollega har lige flyttet beskeden" in await loser.text()
    assert await _count(stack, journal_entries, journal_entries.c.kind == "moved_out") == 1
    assert await _count(stack, journal_entries, journal_entries.c.kind == "moved_in") == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_move_waits_for_a_colleagues_move_in_flight_then_conflicts(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """PostgreSQL: while another transaction holds the message (a colleague's move), the POST
    waits; when that commits, the POST answers 409 and writes nothing."""
    conv, mid, second = await _annas_move(stack)
    await staff_login(stack, logins["mette"])
    url = f"/sagsbehandler/samtaler/{conv}/flyt"
    csrf = csrf_of(await _page(stack, f"{url}?besked={mid}&sag=2025-101"))
    form = {"csrf": csrf, "message_id": mid, "case_id": second, "sag": "2025-101"}
    async with stack.svc.engine.connect() as other:
        elsewhere = await other.execute(
            conversations.insert().values(
                id="00000000-0000-0000-0000-00000000c0de",
                tenant_id=stack.world.tenant_id,
                case_id=second,
                person_id=stack.world.persons["anna"],
                last_activity_at=stack.clock.now(),
                created_at=stack.clock.now(),
            )
        )
        assert elsewhere.rowcount == 1
        held = await other.execute(
            select(messages.c.id).where(messages.c.id == mid).with_for_update()
        )
        assert held.scalar_one() == mid
        before = await _snapshot(stack)
        post = asyncio.ensure_future(stack.client.post(url, data=form, allow_redirects=False))
        await asyncio.sleep(0.5)
        assert not post.done()  # waiting for the row
        await other.execute(
            messages.update()
            .where(messages.c.id == mid)
            .values(conversation_id="00000000-0000-0000-0000-00000000c0de", case_id=second)
        )
        await other.commit()
    resp = await post
    assert resp.status == 409
    assert "En kollega har lige flyttet beskeden" in await resp.text()
    assert await _snapshot(stack) == (before[0], before[1], before[2] + 1, *before[3:])

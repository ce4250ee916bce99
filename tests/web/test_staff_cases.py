"""Mine sager over HTTP: the list, its filters, the search and the case page.

On SQLite and PostgreSQL through the real app: logged-in staff only; a case
outside the caseworker's reach is a 404 that names nothing; bad search input is
a 400 with a clear Danish message and no query; the case page is access-logged.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from bot.store.schema.core import access_log
from tests.harness import Stack
from tests.web.conftest import Login, staff_login

CASE_LINK = re.compile(r'href="/sagsbehandler/sager/([0-9a-f-]{36})"')


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:500])
    return text


async def _count(stack: Stack, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(access_log).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def test_cases_need_a_login(stack: Stack) -> None:
    """Not logged in: the list and a case page send to the login page, showing nothing."""
    for path in ("/sagsbehandler/sager", f"/sagsbehandler/sager/{stack.world.cases['anna']}"):
        resp = await stack.client.get(path, allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"].startswith("/sagsbehandler/log-ind")


async def test_my_cases_list_with_names_and_open_items(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Mette's four cases with the citizens' names; Anna's shows her waiting message first."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    await staff_login(stack, logins["mette"])
    html = await _page(stack, "/sagsbehandler/sager")
    assert 'Sager <span class="count">(4)</span>' in html
    ids = CASE_LINK.findall(html)
    assert ids[0] == stack.world.cases["anna"]
    assert set(ids) == {stack.world.cases[k] for k in ("anna", "bo_children", "carl", "eriksen")}
    assert "Anna Andersen" in html
    assert re.search(r"(Eva Eriksen, Frank Eriksen|Frank Eriksen, Eva Eriksen)</a>", html)
    assert "1 besked venter på svar i 1 samtale" in html
    assert "Dorte" not in html and "2025-003" not in html
    # As the form sends it: an empty search box is no search.
    waiting = await _page(stack, "/sagsbehandler/sager?q=&venter=1&stille=")
    assert CASE_LINK.findall(waiting) == [stack.world.cases["anna"]]
    assert 'id="venter" name="venter" value="1" checked' in waiting


async def test_search_finds_by_name_phone_and_number(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A whole name, a phone number and a case number each find the one case."""
    await staff_login(stack, logins["mette"])
    for q in ("Anna+Andersen", "20123401", "2025-001"):
        html = await _page(stack, f"/sagsbehandler/sager?q={q}")
        assert CASE_LINK.findall(html) == [stack.world.cases["anna"]], q
        assert "Fundne sager" in html
    html = await _page(stack, "/sagsbehandler/sager?q=Lars+Berg")
    assert CASE_LINK.findall(html) == []
    assert "Ingen af dine sager passer på søgningen." in html
    assert await _count(stack, access_log.c.action == "search") == 4


async def test_bad_search_and_filters_say_why_and_look_nothing_up(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """One character, 500 characters, a bad number of days or page: 400, a clear message,
    no cases listed and nothing logged as searched."""
    await staff_login(stack, logins["mette"])
    for query, message in (
        ("q=a", "Skriv mindst 2 tegn for at søge."),
        ("q=" + "x" * 500, "Søgningen er for lang. Skriv højst 100 tegn."),
        ("stille=abc", "Antal dage uden aktivitet skal være et helt tal fra 1 til 365."),
        ("stille=0", "Antal dage uden aktivitet skal være et helt tal fra 1 til 365."),
        ("stille=99999", "Antal dage uden aktivitet skal være et helt tal fra 1 til 365."),
        ("side=-1", "Siden findes ikke."),
    ):
        html = await _page(stack, f"/sagsbehandler/sager?{query}", status=400)
        assert message in html, query
        assert 'role="alert"' in html
        assert CASE_LINK.findall(html) == [], query
    assert await _count(stack, access_log.c.action == "search") == 0


async def test_case_page_lists_threads_and_is_access_logged(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """The case page shows the thread (linked), its newest message and "Ny besked"; the read is
    logged; another team's case and an unknown id are the same 404."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    await staff_login(stack, logins["mette"])
    case = stack.world.cases["anna"]
    html = await _page(stack, f"/sagsbehandler/sager/{case}")
    conv = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', html)
    assert len(conv) == 1
    assert f'href="/sagsbehandler/sager/{case}/ny-besked"' in html
    assert "Hej, hvornår hører jeg noget?" in html
    assert "<h1>Sag <bdi>2025-001</bdi></h1>" in html
    assert (
        await _count(
            stack,
            access_log.c.purpose == "sagsoversigt",
            access_log.c.case_id == case,
            access_log.c.staff_id == stack.world.mette,
        )
        == 1
    )
    other = await _page(stack, f"/sagsbehandler/sager/{stack.world.cases['bo_jobs']}", 404)
    unknown = await _page(stack, "/sagsbehandler/sager/00000000-0000-0000-0000-000000000000", 404)
    assert "2025-003" not in other
    assert other == unknown


async def test_lead_sees_the_team_and_not_other_teams(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Hanne (lead of Mette's team) sees Mette's cases as the team's, not the Jobcenter's."""
    await staff_login(stack, logins["hanne"])
    html = await _page(stack, "/sagsbehandler/sager")
    assert len(set(CASE_LINK.findall(html))) == 4
    assert "Teamets sag · ansvarlig Mette Holm" in html
    await _page(stack, f"/sagsbehandler/sager/{stack.world.cases['anna']}")
    await _page(stack, f"/sagsbehandler/sager/{stack.world.cases['dorte']}", 404)
    found = await _page(stack, "/sagsbehandler/sager?q=Bo+Bech")
    assert CASE_LINK.findall(found) == [stack.world.cases["bo_children"]]

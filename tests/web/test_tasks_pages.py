"""The task list page and the inbox's "Opgaver (n)": over HTTP, on SQLite and PostgreSQL.

A nudge is one click; a call task shows whom to call and closes only with what
happened; a covering colleague sees the absent owner's tasks; a foreign task is 404.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.base.clock import COPENHAGEN
from bot.base.phones import grouped as phone_text
from bot.store.schema.core import journal_entries
from bot.store.schema.scheduler import followup_tasks
from scheduler.runner import run_due
from tests.harness import Stack
from tests.web.conftest import Login, form_post, staff_login
from tests.web.test_staff_desk import _sofie

TASKS = "/sagsbehandler/opgaver"


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:500])
    return text


async def _open_tasks(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        return list(
            await conn.execute(select(followup_tasks).where(followup_tasks.c.state == "open"))
        )


async def _call_task(stack: Stack) -> Any:
    """Anna's receipt is undeliverable and she has no e-mail: a call task on Mette's list."""
    await stack.faults(undeliverable=[stack.world.phones["anna"]])
    await stack.sms(stack.world.phones["anna"], "Hej")
    await stack.drain()
    for _ in range(200):
        rows = [r for r in await _open_tasks(stack) if r.kind == "call"]
        if rows:
            return rows[0]
        await asyncio.sleep(0.03)
    raise AssertionError("no call task")


def test_phone_text_groups_a_number_as_people_read_it() -> None:
    """Danish numbers in pairs after +45, others as their country writes them; what cannot be
    read (or nothing) is left as it is."""
    assert phone_text("+4520123456") == "+45 20 12 34 56"
    assert phone_text("+46701234567") == "+46 70 123 45 67"
    assert phone_text("ring omstillingen") == "ring omstillingen"
    assert phone_text(None) == ""


def _summary(page: str) -> str:
    return page.split('class="task-summary"')[1].split("</section>")[0]


async def test_inbox_counts_tasks_and_the_call_task_closes_with_an_outcome(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Opgaver (0) → (1); whom to call and by when; no outcome: refused, kept; then closed."""
    await staff_login(stack, logins["mette"])
    assert "Opgaver (0)" in _summary(await _page(stack, "/sagsbehandler/"))
    task = await _call_task(stack)
    summary = _summary(await _page(stack, "/sagsbehandler/"))
    assert 'href="/sagsbehandler/opgaver">Opgaver (1)' in summary
    assert "Ingen har nået fristen endnu." in summary
    page = await _page(stack, TASKS)
    assert "Ring til borgeren" in page and "Anna Andersen" in page
    assert 'href="tel:+4520123401"><bdi>+45 20 12 34 01</bdi></a>' in page
    assert "Frist mandag den 24. februar 08:00" in page
    assert f'id="outcome-{task.id}"' in page and "required" in page
    action = f"{TASKS}/{task.id}/afslut"
    resp = await form_post(stack, TASKS, action, outcome="   ")
    assert resp.status == 400
    assert "før du afslutter en ringeopgave" in await resp.text()
    assert [r.id for r in await _open_tasks(stack)] == [task.id]
    resp = await form_post(stack, TASKS, action, outcome="ringede, talte med mor")
    assert resp.status == 303 and resp.headers["Location"] == f"{TASKS}?afsluttet=1"
    assert "Opgaven er afsluttet" in await _page(stack, resp.headers["Location"])
    assert await _open_tasks(stack) == []
    async with stack.svc.read() as conn:
        kinds = list((await conn.execute(select(journal_entries.c.kind))).scalars())
    assert kinds.count("call_done") == 1
    resp = await form_post(stack, TASKS, action, outcome="igen")
    assert resp.status == 409 and "allerede afsluttet" in await resp.text()
    # A new call task on Monday is due Tuesday 08:00; on Tuesday the inbox says it is due.
    stack.clock.set(datetime(2025, 2, 24, 9, 0, tzinfo=COPENHAGEN))
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Hej"})
    assert resp.status == 201, await resp.text()
    await stack.drain()
    for _ in range(200):
        if await _open_tasks(stack):
            break
        await asyncio.sleep(0.03)
    [again] = await _open_tasks(stack)
    assert again.due_at == datetime(2025, 2, 25, 8, 0, tzinfo=COPENHAGEN)
    stack.clock.set(datetime(2025, 2, 25, 9, 0, tzinfo=COPENHAGEN))
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["mette"])
    summary = _summary(await _page(stack, "/sagsbehandler/"))
    assert "Opgaver (1)" in summary and "1 opgave har nået fristen." in summary
    assert "Forfalden" in await _page(stack, TASKS)


async def test_a_nudge_is_one_click_to_send_the_update(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Ten quiet working days: "Send opdateringen" sends it to Anna and closes the task."""
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    assert resp.status == 201
    for day, hour in ((6, 10), (7, 10), (7, 11)):
        stack.clock.set(datetime(2025, 3, day, hour, 0, tzinfo=COPENHAGEN))
        await run_due(stack.svc)
    [nudge] = await _open_tasks(stack)
    await staff_login(stack, logins["mette"])
    page = await _page(stack, TASKS)
    assert "Ingen nyt til borgeren" in page and "Send opdateringen" in page
    resp = await form_post(stack, TASKS, f"{TASKS}/{nudge.id}/send-opdatering")
    assert resp.status == 303 and resp.headers["Location"] == f"{TASKS}?sendt=1"
    await stack.drain()
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1].startswith(
        "Vi arbejder stadig på din sag."
    )
    assert await _open_tasks(stack) == []
    assert "Du har ingen åbne opgaver." in await _page(stack, resp.headers["Location"])
    resp = await form_post(stack, TASKS, f"{TASKS}/{nudge.id}/send-opdatering")
    assert resp.status == 409


async def test_covering_colleague_sees_the_tasks_and_strangers_get_404(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Sofie covers Mette today: Mette's call task is on her list, marked; Lars gets 404."""
    task = await _call_task(stack)
    await staff_login(stack, logins["mette"])
    resp = await form_post(
        stack,
        "/sagsbehandler/fravaer",
        starts_on="2025-02-21",
        ends_on="2025-02-28",
        substitute_id=stack.world.sofie,
    )
    assert resp.status == 303
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["lars"])
    assert "Du har ingen åbne opgaver." in await _page(stack, TASKS)
    resp = await form_post(stack, TASKS, f"{TASKS}/{task.id}/afslut", outcome="x")
    assert resp.status == 404
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, await _sofie(stack))
    page = await _page(stack, TASKS)
    assert "Du dækker for Mette" in page and f'id="opgave-{task.id}"' in page
    assert "Opgaver (1)" in await _page(stack, "/sagsbehandler/")
    # No CSRF token: refused, nothing closed.
    resp = await stack.client.post(
        f"{TASKS}/{task.id}/afslut", data={"outcome": "x"}, allow_redirects=False
    )
    assert resp.status == 403
    resp = await form_post(stack, TASKS, f"{TASKS}/{task.id}/afslut", outcome="Talte med Anna")
    assert resp.status == 303
    assert await _open_tasks(stack) == []
    assert re.search(r"Opgaver \(0\)", await _page(stack, "/sagsbehandler/"))

"""Samtykke on the caseworker's desk: what the family said, recorded on the one consent record.

On SQLite and PostgreSQL, through the real app and the simulated gateway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.domain import consent
from bot.store.schema.consent import consent_records
from bot.store.schema.core import journal_entries
from tests.harness import Stack
from tests.scheduler.conftest import at, cph
from tests.web.conftest import Login, csrf_of, form_post, staff_login


async def _anna_thread(stack: Stack) -> str:
    await stack.sms(stack.world.phones["anna"], "Hej Mette, jeg har et spørgsmål om påmindelserne")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _records(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(consent_records))).scalar_one()
        )


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:500])
    return text


async def _journal(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.kind, journal_entries.c.actor).where(
                journal_entries.c.case_id == stack.world.cases["anna"],
                journal_entries.c.kind.like("consent_%"),
            )
        )
        return [tuple(r) for r in rows]


async def test_a_caseworker_records_what_the_family_said_and_the_gate_obeys(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Told by phone "no reminders by SMS": recorded from the thread, journalised, and the next reminder never reaches the phone; the citizen's START shows on the page; "yes to e-mail" counts for the e-mail notice."""
    anna = stack.world.phones["anna"]
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    page = f"{thread}/samtykke"
    assert page in await _page(stack, thread)
    html = await _page(stack, page)
    assert "Intet registreret: påmindelser og nyheder sendes på SMS." in html
    assert "Intet er registreret endnu." in html

    resp = await form_post(stack, page, sms="withdrawn")  # no choice: nothing recorded
    assert resp.status == 400 and "Vælg, hvad borgeren har sagt." in await resp.text()
    resp = await form_post(stack, page, choice="sms_maybe")
    assert resp.status == 400
    assert await _records(stack) == 0

    resp = await form_post(stack, page, choice="sms_withdrawn")
    assert resp.status == 303, await resp.text()
    html = await _page(stack, f"{page}?gemt=1")
    assert "Gemt og journaliseret på sagen." in html
    assert "Borgeren har frameldt påmindelser og nyheder på SMS. Svar sendes stadig." in html
    assert "<td>sagsbehandler</td>" in html and "<td>dig</td>" in html
    assert await _journal(stack) == [("consent_sms_withdrawn", f"staff:{stack.world.mette}")]

    await stack.drain()
    before = await stack.sent_to(anna)
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/appointments",
        json={"starts_at": cph(2025, 2, 25, 9, 0).isoformat(), "place": "Rådhuset"},
    )
    assert resp.status == 201, await resp.text()
    await at(stack, cph(2025, 2, 24, 10, 0))  # the reminder is due
    assert await stack.sent_to(anna) == before

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "START")
    await stack.drain()
    await staff_login(stack, logins["mette"])  # three days on: the session has run out
    html = await _page(stack, page)
    assert "Borgeren vil gerne have påmindelser og nyheder på SMS." in html
    assert "<td>SMS (STOP/START)</td>" in html and "<td>borgeren</td>" in html

    async with stack.svc.read() as conn:
        assert not await consent.email_consented(conn, stack.world.persons["anna"])
    resp = await form_post(stack, page, choice="email_given")
    assert resp.status == 303
    async with stack.svc.read() as conn:
        assert await consent.email_consented(conn, stack.world.persons["anna"])
    assert "Borgeren har sagt ja til besked på e-mail." in await _page(stack, page)


async def test_another_team_gets_a_404_and_changes_nothing(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Lars (another team) neither sees nor records the consent of Anna's thread."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["lars"])
    page = f"/sagsbehandler/samtaler/{conv}/samtykke"
    assert "Siden findes ikke" in await _page(stack, page, 404)
    csrf = csrf_of(await _page(stack, "/sagsbehandler/"))
    resp = await stack.client.post(
        page, data={"csrf": csrf, "choice": "sms_withdrawn"}, allow_redirects=False
    )
    assert resp.status == 404
    resp = await stack.client.post(page, data={"choice": "sms_withdrawn"}, allow_redirects=False)
    assert resp.status == 403  # no CSRF token
    assert await _records(stack) == 0 and await _journal(stack) == []

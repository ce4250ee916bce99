"""The caseworker's desk over HTTP: templates, send later, promises, timeline, notes, absence.

On SQLite and PostgreSQL (the stack's ``db_url``), through the real app and
the simulated gateway; every bad form is a 4xx that writes nothing.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.errors import BadInput, NotFound
from bot.base.staff import StaffUser
from bot.domain import reply_templates, staffing
from bot.domain.accounts import set_credentials
from bot.domain.conversations import GUIDANCE_LINE
from bot.domain.handover import hand_over_tick
from bot.store.schema.core import absences, journal_entries, messages
from bot.store.schema.pages import web_reply_templates
from bot.store.schema.scheduler import reply_promises
from tests.harness import Stack
from tests.web.conftest import PASSWORD, Login, citizen_login, csrf_of, form_post, staff_login

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _anna_thread(stack: Stack, body: str = "Hej, hvornår hører jeg noget?") -> str:
    await stack.sms(stack.world.phones["anna"], body)
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:500])
    return text


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return htmllib.unescape(found.group(1))


async def _sofie(stack: Stack) -> Login:
    """Sofie (Mette's colleague in the children's team) gets a login."""
    secret = await set_credentials(
        stack.svc, staff_id=stack.world.sofie, username="sofie@kbh.example", password=PASSWORD
    )
    return Login("sofie@kbh.example", PASSWORD, secret)


# -- templates ------------------------------------------------------------------------------


def test_templates_take_only_known_bare_variables() -> None:
    """Attribute, index, conversion and format-spec access are refused; known names are filled."""
    for bad in (
        "{fornavn.__class__}",
        "{fornavn[0]}",
        "{fornavn!r}",
        "{fornavn:>30}",
        "{0}",
        "{}",
        "{navn}",
        "Hej {fornavn",
        "Hej }",
    ):
        with pytest.raises(BadInput) as err:
            reply_templates.check("Titel", bad)
        assert err.value.code in ("unknown_variable", "bad_template"), bad
    text = "Hej {fornavn}. {{ikke en variabel}} Hilsen {sagsbehandler}, sag {sagsnummer}"
    assert reply_templates.check(" T ", text) == ("T", text)
    assert (
        reply_templates.fill(text, {"fornavn": "Anna", "sagsbehandler": "Mette"})
        == "Hej Anna. {ikke en variabel} Hilsen Mette, sag …"
    )
    for title, body in reply_templates.DEFAULTS:
        reply_templates.check(title, body)
        assert (
            len(
                body.format(
                    fornavn="Anna", sagsbehandler="Mette", dato="x" * 25, sagsnummer="2025-001"
                )
            )
            <= 160
        )


async def test_template_fills_the_reply_box_for_this_thread(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """The picker offers the seeded templates with Anna's name, Mette's and the reply-by date."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    page = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    expected = (
        "Hej Anna. Tak for din besked. Jeg ser på det og svarer dig senest "
        "tirsdag den 25. februar. Hilsen Mette"
    )
    assert f'data-text="{expected}"' in page
    ids = dict(
        re.findall(r'<option value="([0-9a-f-]{36})" data-text="[^"]*">([^<]+)</option>', page)
    )
    tid = next(k for k, v in ids.items() if v == "Tak, jeg vender tilbage")
    filled = await _page(stack, f"/sagsbehandler/samtaler/{conv}?skabelon={tid}")
    assert _textarea(filled, "body") == expected
    # Seeded once for the municipality, however often the page is shown.
    # (each default in da, en, uk and ar)
    assert await _count(stack, web_reply_templates) == 4 * len(reply_templates.DEFAULTS)
    resp = await form_post(
        stack,
        f"/sagsbehandler/samtaler/{conv}",
        f"/sagsbehandler/samtaler/{conv}/svar",
        body=expected,
    )
    assert resp.status == 303
    await stack.drain()
    assert expected in await stack.sent_to(stack.world.phones["anna"])


async def test_lead_edits_templates_and_others_cannot(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Hanne adds a template (bad variables refused, nothing written); Mette may not edit (404)."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["hanne"])
    await _page(stack, "/sagsbehandler/skabeloner")
    before = await _count(stack, web_reply_templates)
    for title, body in (("Ny", "Hej {fornavn.__init__}"), ("", "Hej"), ("Ny", "Hej {")):
        resp = await form_post(
            stack, "/sagsbehandler/skabeloner/ny", title=title, body=body, active="1"
        )
        assert resp.status == 400
    assert await _count(stack, web_reply_templates) == before
    resp = await form_post(
        stack,
        "/sagsbehandler/skabeloner/ny",
        title="<b>Ferie</b>",
        body="Hej {fornavn}. <script>x</script> Jeg er tilbage {dato}. Hilsen {sagsbehandler}",
        active="1",
    )
    assert resp.status == 303
    listing = await _page(stack, "/sagsbehandler/skabeloner")
    assert "<script>x" not in listing and "&lt;script&gt;x&lt;/script&gt;" in listing
    assert "&lt;b&gt;Ferie&lt;/b&gt;" in listing
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["mette"])
    page = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert "Hej Anna. &lt;script&gt;x&lt;/script&gt; Jeg er tilbage" in page
    assert "<script>x" not in page
    await _page(stack, "/sagsbehandler/skabeloner", 404)
    async with stack.svc.read() as c:
        tid = (await c.execute(select(web_reply_templates.c.id).limit(1))).scalar_one()
    await _page(stack, f"/sagsbehandler/skabeloner/{tid}", 404)
    resp = await form_post(
        stack, "/sagsbehandler/", f"/sagsbehandler/skabeloner/{tid}", title="X", body="Y"
    )
    assert resp.status == 404
    # A lead in another municipality cannot see or change it either.
    stranger = StaffUser(stack.world.hanne, "another-tenant", stack.world.team_children, "lead")
    with pytest.raises(NotFound):
        await reply_templates.get_template(stack.svc, stranger, tid)
    with pytest.raises(NotFound):
        await reply_templates.save_template(stack.svc, stranger, tid, title="X", body="Y")


# -- send later, promise, guidance ----------------------------------------------------------


async def test_schedule_later_is_listed_and_can_be_withdrawn(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A reply for Monday 09:30 waits in the outbox, shows on the thread, and is withdrawn."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    resp = await form_post(
        stack,
        thread,
        f"{thread}/svar",
        body="Husk mødet i dag kl. 13.",
        send_date="2025-02-24",
        send_time="09:30",
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?planlagt=1")
    page = await _page(stack, f"{thread}?planlagt=1")
    assert "Planlagte SMS'er" in page and "Sendes mandag den 24. februar 09:30" in page
    await stack.drain()
    assert "Husk mødet i dag kl. 13." not in await stack.sent_to(stack.world.phones["anna"])
    mid = re.search(r"/planlagt/([0-9a-f-]{36})/tilbagekald", page)
    assert mid
    resp = await form_post(stack, thread, f"{thread}/planlagt/{mid.group(1)}/tilbagekald")
    assert resp.status == 303
    page = await _page(stack, f"{thread}?tilbagekaldt=1")
    assert "Planlagte SMS" not in page and "Trukket tilbage" in page
    stack.clock.advance(days=4)
    await stack.drain()
    assert "Husk mødet i dag kl. 13." not in await stack.sent_to(stack.world.phones["anna"])


async def test_bad_times_and_dates_are_refused_and_write_nothing(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """In the past, half-filled, not a date, sensitive+later, promise+later: 400, nothing written."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    before = await _count(stack, messages)
    cases: list[tuple[dict[str, str], str]] = [
        ({"send_date": "2025-02-21", "send_time": "09:00"}, "overskredet"),
        ({"send_date": "2025-02-24", "send_time": ""}, "ikke gyldigt"),
        ({"send_date": "", "send_time": "09:00"}, "ikke gyldigt"),
        ({"send_date": "24-02-2025", "send_time": "09:00"}, "ikke gyldigt"),
        ({"send_date": "2027-02-24", "send_time": "09:00"}, "et år frem"),
        ({"send_date": "2025-02-24", "send_time": "09:00", "sensitive": "1"}, "Følsomme"),
        ({"send_date": "2025-02-24", "send_time": "09:00", "promise_due": "2025-02-26"}, "løfte"),
        ({"promise_due": "2025-02-20"}, "overskredet"),
        ({"promise_due": "i morgen"}, "ikke en gyldig dato"),
        ({"promise_due": "2026-06-01"}, "mere end et år"),
        ({"promise_due": "2025-02-23"}, "lørdag, søndag eller helligdag"),  # a Sunday
    ]
    for fields, words in cases:
        resp = await form_post(stack, thread, f"{thread}/svar", body="Hej Anna", **fields)
        text = await resp.text()
        assert resp.status == 400, fields
        assert words in text, (fields, words)
        assert 'role="alert"' in text and ">Hej Anna</textarea>" in text
    assert await _count(stack, messages) == before
    assert await _count(stack, reply_promises) == 0
    assert await _count(stack, messages, messages.c.awaiting_reply.is_(True)) == 1


async def test_a_reply_in_quiet_hours_says_when_it_goes_or_goes_if_urgent(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Mette answers at 21:30: the page says the reply goes tomorrow at 08:00, and it waits;
    with a reason for the hurry it goes at once."""
    from datetime import datetime

    from bot.base.clock import COPENHAGEN

    conv = await _anna_thread(stack)
    stack.clock.set(datetime(2025, 2, 24, 21, 30, tzinfo=COPENHAGEN))  # a Monday evening
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    resp = await form_post(stack, thread, f"{thread}/svar", body="Vi ses i morgen.")
    assert resp.status == 303
    page = await _page(stack, resp.headers["Location"])
    assert "Det er stilletid, så det sendes tirsdag den 25. februar kl. 08:00." in page
    resp = await form_post(
        stack, thread, f"{thread}/svar", body="Mødet er aflyst.", urgent_reason="Mødet er kl. 8"
    )
    assert resp.status == 303 and "kl=" not in resp.headers["Location"]
    await stack.drain()
    sent = await stack.sent_to(stack.world.phones["anna"])
    assert "Mødet er aflyst." in sent and "Vi ses i morgen." not in sent
    stack.clock.set(datetime(2025, 2, 25, 8, 0, tzinfo=COPENHAGEN))
    await stack.drain()
    assert "Vi ses i morgen." in await stack.sent_to(stack.world.phones["anna"])


async def test_promise_and_guidance_go_with_the_reply(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A promised date is recorded and shown; guidance adds its plain line to the SMS."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    resp = await form_post(
        stack,
        thread,
        f"{thread}/svar",
        body="Du kan søge om hjælp til tandlæge.",
        guidance="1",
        promise_due="2025-02-27",
    )
    assert resp.status == 303, await resp.text()
    await stack.drain()
    assert f"Du kan søge om hjælp til tandlæge.\n{GUIDANCE_LINE}" in await stack.sent_to(
        stack.world.phones["anna"]
    )
    assert await _count(stack, reply_promises, reply_promises.c.status == "open") == 1
    page = await _page(stack, thread)
    assert "Lovet svar senest torsdag den 27. februar" in page


# -- timeline, delivery, phone note ---------------------------------------------------------


async def test_thread_shows_the_case_timeline_and_delivery(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """The case's milestones beside the thread, current step marked; replies show delivery."""
    conv = await _anna_thread(stack)
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline", json={"expected": {"decision": "2025-03-21"}}
    )
    assert resp.status == 201, await resp.text()
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    resp = await form_post(stack, thread, f"{thread}/svar", body="Tak, jeg kigger på det.")
    assert resp.status == 303
    await stack.drain()
    page = await _page(stack, thread)
    assert "Sagens forløb" in page and 'aria-current="step"' in page
    assert "Forventet fredag den 21. marts" in page
    # Each message to the citizen carries its delivery status.
    status = r"Tak, jeg kigger på det\.</p>\s*<p class=\"message-status\">\s*(I kø|Sendt|Leveret)"
    assert re.search(status, page)
    assert "Læst af borgeren" not in page
    # Anna reads it in the secure inbox; Mette sees when.
    stack.client.session.cookie_jar.clear()
    await citizen_login(stack, stack.world.phones["anna"])
    stack.clock.advance(minutes=3)
    await _page(stack, f"/borger/samtaler/{conv}")
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["mette"])
    page = await _page(stack, thread)
    assert re.search(
        r"Tak, jeg kigger på det\.</p>\s*<p class=\"message-status\">[^<]*· Læst af borgeren 10:03",
        page,
    )


async def test_phone_note_is_journalised_and_keeps_the_thread_open(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A phone-call note is filed on the case; the thread stays open; empty is refused."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    notes = journal_entries.c.kind == "note"
    resp = await form_post(stack, thread, f"{thread}/telefonnotat", phone_note="   ")
    assert resp.status == 400 and "Skriv notatet" in await resp.text()
    assert await _count(stack, journal_entries, notes) == 0
    resp = await form_post(
        stack, thread, f"{thread}/telefonnotat", phone_note="Anna ringede om mødet. Aftalt tirsdag."
    )
    assert resp.status == 303
    assert await _count(stack, journal_entries, notes) == 1
    assert await _count(stack, messages, messages.c.awaiting_reply.is_(True)) == 1
    assert "Notatet om telefonsamtalen er journaliseret" in await _page(stack, f"{thread}?notat=1")


@sqlite_only
async def test_new_forms_refuse_missing_csrf_and_foreign_threads(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Without the CSRF token every new form is a 403; on another team's thread a 404."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["mette"])
    thread = f"/sagsbehandler/samtaler/{conv}"
    posts = [
        (f"{thread}/svar", {"body": "Hej", "send_date": "2025-02-24", "send_time": "10:00"}),
        (f"{thread}/telefonnotat", {"phone_note": "x"}),
        (f"{thread}/planlagt/x/tilbagekald", {}),
        ("/sagsbehandler/fravaer", {"starts_on": "2025-02-24", "ends_on": "2025-02-25"}),
    ]
    before = (await _count(stack, messages), await _count(stack, absences))
    for path, data in posts:
        for token in ({}, {"csrf": "forged"}):
            resp = await stack.client.post(path, data={**data, **token}, allow_redirects=False)
            assert resp.status == 403, path
    assert (await _count(stack, messages), await _count(stack, absences)) == before
    assert await _count(stack, journal_entries, journal_entries.c.kind == "note") == 0
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["lars"])
    csrf = csrf_of(await _page(stack, "/sagsbehandler/"))
    for path, data in posts[:3]:
        resp = await stack.client.post(path, data={**data, "csrf": csrf}, allow_redirects=False)
        assert resp.status == 404, path
        assert "Siden findes ikke" in await resp.text()
    assert (await _count(stack, messages), await _count(stack, absences)) == before


# -- absence and roster ---------------------------------------------------------------------


async def test_absence_with_substitute_moves_new_messages(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Mette is away from today with Sofie as substitute: Anna's waiting SMS moves to Sofie at
    once (journalised), her next one goes there too, and Sofie sees the thread as "covering"."""
    await stack.sms(stack.world.phones["anna"], "Hej Mette")
    await staff_login(stack, logins["mette"])
    page = await _page(stack, "/sagsbehandler/fravaer")
    assert "Sofie" in page and "Lars" not in page  # only colleagues from her own team
    bad = [
        ({"starts_on": "2025-02-25", "ends_on": "2025-02-24"}, "før startdatoen"),
        ({"starts_on": "2025-02-10", "ends_on": "2025-02-14"}, "allerede slut"),
        ({"starts_on": "", "ends_on": "2025-02-24"}, "gyldig dato i både"),
        ({"starts_on": "21.2.2025", "ends_on": "2025-02-24"}, "gyldig dato i både"),
        (
            {"starts_on": "2025-02-21", "ends_on": "2025-02-28", "substitute_id": stack.world.lars},
            "fra dit team",
        ),
        (
            {
                "starts_on": "2025-02-21",
                "ends_on": "2025-02-28",
                "substitute_id": stack.world.mette,
            },
            "fra dit team",
        ),
    ]
    for fields, words in bad:
        resp = await form_post(stack, "/sagsbehandler/fravaer", **fields)
        assert resp.status == 400 and words in await resp.text(), fields
    assert await _count(stack, absences) == 0
    resp = await form_post(
        stack,
        "/sagsbehandler/fravaer",
        starts_on="2025-02-21",
        ends_on="2025-02-28",
        substitute_id=stack.world.sofie,
        reason="Kursus",
    )
    assert resp.status == 303 and resp.headers["Location"].endswith("?gemt=1&flyttet=1")
    page = await _page(stack, resp.headers["Location"])
    assert "fredag den 28. februar" in page and "Sofie" in page
    assert "Én ubesvaret besked er flyttet videre nu." in page
    routed = journal_entries.c.kind == "routed"
    assert await _count(stack, journal_entries, routed) == 1
    assert (
        "fraværende til og med fredag den 28. februar. Nye beskeder fra dine sager går til "
        "Sofie Dahl" in await _page(stack, "/sagsbehandler/")
    )
    stack.clock.advance(minutes=5)
    await stack.sms(stack.world.phones["anna"], "Er du der?")
    async with stack.svc.read() as c:
        owners = (
            await c.execute(select(messages.c.owner_id).where(messages.c.awaiting_reply.is_(True)))
        ).scalars()
        assert list(owners) == [stack.world.sofie, stack.world.sofie]
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, await _sofie(stack))
    inbox = await _page(stack, "/sagsbehandler/")
    covering = inbox.split('id="group-covering"')[1].split("</section>")[0]
    assert "Anna Andersen" in covering
    # Sofie covers Mette's case while Mette is away: the thread with send-later, the
    # timeline and phone notes, as Mette would have them (scheduler.store.case_visible).
    conv = re.search(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', covering)
    assert conv
    thread = f"/sagsbehandler/samtaler/{conv.group(1)}"
    page = await _page(stack, thread)
    assert "Jeg dækker for en kollega" in page  # the seeded template for covering
    assert "Send senere" in page and "Notat om telefonsamtale" in page
    assert "Sagens forløb" in page and "Lovet svar senest (valgfrit)" in page
    resp = await form_post(stack, thread, f"{thread}/telefonnotat", phone_note="Talte med Anna")
    assert resp.status == 303
    assert await _count(stack, journal_entries, journal_entries.c.kind == "note") == 1
    # Sofie cannot delete Mette's absence (404), Mette can.
    async with stack.svc.read() as c:
        aid = (await c.execute(select(absences.c.id))).scalar_one()
    resp = await form_post(stack, "/sagsbehandler/", f"/sagsbehandler/fravaer/{aid}/slet")
    assert resp.status == 404
    stack.client.session.cookie_jar.clear()
    stack.clock.advance(seconds=30)  # a TOTP code is accepted once: wait for the next
    await staff_login(stack, logins["mette"])
    resp = await form_post(stack, "/sagsbehandler/fravaer", f"/sagsbehandler/fravaer/{aid}/slet")
    assert resp.status == 303
    assert await _count(stack, absences) == 0


async def test_roster_shows_who_is_on_duty_and_the_gaps(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Four weeks of duty: names per day, weekends closed, gaps (nobody, or away) highlighted."""
    w = stack.world
    hanne = StaffUser(w.hanne, w.tenant_id, w.team_children, "lead")
    await staffing.set_rotation(
        stack.svc, hanne, w.team_children, {"rotation": {"0": w.sofie, "1": w.mette, "2": w.sofie}}
    )
    await staffing.add_absence(
        stack.svc, hanne, {"staff_id": w.mette, "starts_on": "2025-02-25", "ends_on": "2025-02-25"}
    )
    await staff_login(stack, logins["mette"])
    page = await _page(stack, "/sagsbehandler/vagtplan")
    rows = re.findall(
        r"<tr class=\"([^\"]*)\">\s*<th scope=\"row\">([^<]+)</th>\s*<td>([^<]*)", page
    )
    by_day = {day: (cls, who.strip()) for cls, day, who in rows}
    assert len(by_day) == 28
    assert by_day["mandag den 24. februar"] == ("", "Sofie Dahl")
    assert by_day["tirsdag den 25. februar"][0] == "roster-gap"  # Mette is away that day
    assert by_day["torsdag den 27. februar"] == ("roster-gap", "Ingen")
    assert by_day["lørdag den 22. februar"] == ("roster-closed", "Lukket")
    assert "Hul: den på vagt er væk" in page and "Hul: ingen på vagt" in page


async def test_thread_without_a_case_for_the_lead(stack: Stack, logins: dict[str, Login]) -> None:
    """An unknown number's thread (no case): templates leave blanks, no case-only tools."""
    await stack.sms("+4531234599", "Hvem er jeg?")
    await staff_login(stack, logins["hanne"])
    inbox = await _page(stack, "/sagsbehandler/")
    conv = re.search(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', inbox)
    assert conv
    page = await _page(stack, f"/sagsbehandler/samtaler/{conv.group(1)}")
    assert 'data-text="Hej …. Tak for din besked.' in page
    for absent in ("Sagens forløb", "Lovet svar senest", "Send senere", "Notat om telefonsamtale"):
        assert absent not in page, absent


async def test_covering_shows_even_with_an_older_message_for_the_absent_owner(
    stack: Stack,
) -> None:
    """An absence registered elsewhere (API, calendar) moves only new SMS until the hand-over
    runs; the substitute's inbox still lists the thread under "covering", never hides it."""
    w = stack.world
    mette = StaffUser(w.mette, w.tenant_id, w.team_children, "caseworker")
    await stack.sms(w.phones["anna"], "Hej Mette")
    await staffing.add_absence(
        stack.svc,
        mette,
        {"starts_on": "2025-02-21", "ends_on": "2025-02-28", "substitute_id": w.sofie},
    )
    stack.clock.advance(minutes=5)
    await stack.sms(w.phones["anna"], "Er du der?")
    async with stack.svc.read() as c:
        owners = (
            await c.execute(select(messages.c.owner_id).where(messages.c.awaiting_reply.is_(True)))
        ).scalars()
        assert sorted(owners) == sorted([w.mette, w.sofie])
    await staff_login(stack, await _sofie(stack))
    inbox = await _page(stack, "/sagsbehandler/")
    assert "Anna Andersen" in inbox.split('id="group-covering"')[1].split("</section>")[0]


async def test_hand_over_tick_moves_waiting_messages_when_the_absence_begins(
    stack: Stack,
) -> None:
    """An absence from Monday: nothing moves on Friday; on Monday the tick hands over, once."""
    w = stack.world
    mette = StaffUser(w.mette, w.tenant_id, w.team_children, "caseworker")
    await stack.sms(w.phones["anna"], "Hej Mette")
    await staffing.add_absence(
        stack.svc,
        mette,
        {"starts_on": "2025-02-24", "ends_on": "2025-02-28", "substitute_id": w.sofie},
    )
    assert await hand_over_tick(stack.svc) == 0
    stack.clock.advance(days=3)
    assert await hand_over_tick(stack.svc) == 1
    assert await hand_over_tick(stack.svc) == 0
    async with stack.svc.read() as c:
        row = (
            await c.execute(
                select(messages.c.owner_id, messages.c.original_owner_id).where(
                    messages.c.awaiting_reply.is_(True)
                )
            )
        ).one()
    assert (row.owner_id, row.original_owner_id) == (w.sofie, w.mette)

"""The pages over HTTP, on SQLite and PostgreSQL: logins, sessions, CSRF, access and escaping."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from bot.domain.accounts import set_credentials
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.store.schema.core import access_log, journal_entries, messages
from bot.store.schema.pages import web_sessions
from tests.harness import Stack
from tests.web.conftest import (
    PASSWORD,
    Login,
    citizen_login,
    code_from_sms,
    csrf_of,
    form_post,
    staff_login,
)

# Pure page behaviour: one backend is enough (storage paths run on both elsewhere).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _anna_thread(stack: Stack, body: str = "Hej, kan vi flytte mødet?") -> str:
    await stack.sms(stack.world.phones["anna"], body)
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    return str(items[0]["id"])


async def _count(stack: Stack, table: object, *where: object) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table)  # type: ignore[arg-type]
        return int((await conn.execute(q.where(*where))).scalar_one())  # type: ignore[arg-type]


async def test_form_without_csrf_token_is_refused(stack: Stack, logins: dict[str, Login]) -> None:
    """A POST without its CSRF token, or with another one, is a 403 and nothing happens."""
    conv = await _anna_thread(stack)
    resp = await stack.client.post("/borger/log-ind", data={"phone": stack.world.phones["anna"]})
    assert resp.status == 403 and "Formularen er udløbet" in await resp.text()
    await staff_login(stack, logins["mette"])
    path = f"/sagsbehandler/samtaler/{conv}/svar"
    for data in ({"body": "Hej"}, {"body": "Hej", "csrf": "forged"}, {"body": "Hej", "csrf": ""}):
        resp = await stack.client.post(path, data=data, allow_redirects=False)
        assert resp.status == 403, data
    assert await _count(stack, messages, messages.c.kind == "reply") == 0
    assert await _count(stack, messages, messages.c.kind == "login_code") == 0
    resp = await form_post(stack, f"/sagsbehandler/samtaler/{conv}", path, body="Hej Anna")
    assert resp.status == 303
    assert await _count(stack, messages, messages.c.kind == "reply") == 1


async def test_other_cases_and_tenants_are_not_found(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Another caseworker, another municipality and another family get a 404 page, and no log row."""
    conv = await _anna_thread(stack)
    await staff_login(stack, logins["lars"])
    for path in (f"/sagsbehandler/samtaler/{conv}", "/sagsbehandler/samtaler/nope"):
        resp = await stack.client.get(path)
        assert resp.status == 404 and "Siden findes ikke" in await resp.text()
    resp = await stack.client.post(
        f"/sagsbehandler/samtaler/{conv}/svar",
        data={
            "csrf": csrf_of(await (await stack.client.get("/sagsbehandler/")).text()),
            "body": "x",
        },
    )
    assert resp.status == 404
    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(
            c, svc, slug="other", name="Anden Kommune", sms_number="+4533123456"
        )
        a = await create_administration(c, svc, tenant_id=t, name="X")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Y")
        ole = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="Ole", full_name="Ole O", role="lead"
        )
    secret = await set_credentials(
        svc, staff_id=ole, username="ole@other.example", password=PASSWORD
    )
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, Login("ole@other.example", PASSWORD, secret))
    assert (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).status == 404
    stack.client.session.cookie_jar.clear()
    await citizen_login(stack, stack.world.phones["bo"])
    resp = await stack.client.get(f"/borger/samtaler/{conv}")
    assert resp.status == 404
    assert await _count(stack, access_log) == 0


async def test_caseworker_page_view_is_access_logged(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Every view of a thread page writes one access-log row per message shown."""
    conv = await _anna_thread(stack)
    before = await _count(stack, access_log)
    await staff_login(stack, logins["mette"])
    for _ in range(2):
        assert (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).status == 200
    rows = await _count(stack, access_log, access_log.c.staff_id == stack.world.mette)
    assert rows - before == 2 * 2  # two views of the SMS and its receipt


@sqlite_only
async def test_script_in_a_message_is_shown_as_text(stack: Stack, logins: dict[str, Login]) -> None:
    """HTML in a message body is escaped on the caseworker's and on the family's page."""
    conv = await _anna_thread(stack, '<script>alert(1)</script><img src=x onerror="y">')
    await staff_login(stack, logins["mette"])
    html = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;y&#34;&gt;" in html
    stack.client.session.cookie_jar.clear()
    await citizen_login(stack, stack.world.phones["anna"])
    html = await (await stack.client.get(f"/borger/samtaler/{conv}")).text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


async def test_expired_code_says_so(stack: Stack) -> None:
    """A code entered after ten minutes is refused with a plain "expired" message."""
    anna = stack.world.phones["anna"]
    await form_post(stack, "/borger/log-ind", phone=anna)
    code = await code_from_sms(stack, anna)
    stack.clock.advance(minutes=10)
    resp = await form_post(stack, "/borger/log-ind/kode", code=code)
    assert resp.status == 400
    assert "Koden er udløbet. En kode gælder i 10 minutter." in await resp.text()


async def test_reused_code_says_so(stack: Stack) -> None:
    """A code works once; entered again (after logging out) it is refused as already used."""
    anna = stack.world.phones["anna"]
    await form_post(stack, "/borger/log-ind", phone=anna)
    code = await code_from_sms(stack, anna)
    assert (await form_post(stack, "/borger/log-ind/kode", code=code)).status == 303
    assert (await form_post(stack, "/borger/", "/borger/log-ud")).status == 303
    resp = await form_post(stack, "/borger/log-ind/kode", code=code)
    assert resp.status == 400
    assert "Koden er allerede brugt." in await resp.text()


async def test_wrong_codes_count_down_then_stop(stack: Stack) -> None:
    """Five wrong tries use the code up: the right code no longer works after them."""
    anna = stack.world.phones["anna"]
    await form_post(stack, "/borger/log-ind", phone=anna)
    code = await code_from_sms(stack, anna)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        resp = await form_post(stack, "/borger/log-ind/kode", code=wrong)
        assert f"Du har {left} forsøg tilbage." in await resp.text()
    resp = await form_post(stack, "/borger/log-ind/kode", code=wrong)
    assert "forkert kode for mange gange" in await resp.text()
    resp = await form_post(stack, "/borger/log-ind/kode", code=code)
    assert resp.status == 400 and "forkert kode for mange gange" in await resp.text()


async def test_codes_are_rate_limited_and_unknown_numbers_look_the_same(stack: Stack) -> None:
    """Three codes an hour per number; an unknown number gets the same answer and no SMS."""
    anna = stack.world.phones["anna"]
    for _ in range(3):
        resp = await form_post(stack, "/borger/log-ind", phone=anna)
        assert resp.status == 303 and resp.headers["Location"] == "/borger/log-ind/kode"
    resp = await form_post(stack, "/borger/log-ind", phone=anna)
    assert resp.status == 429 and "mange koder" in await resp.text()
    resp = await form_post(stack, "/borger/log-ind", phone="+4529999999")
    assert resp.status == 303 and resp.headers["Location"] == "/borger/log-ind/kode"
    await stack.drain()
    assert await stack.sent_to("+4529999999") == []
    assert len(await stack.sent_to(anna)) == 3
    stack.clock.advance(hours=1, seconds=1)
    assert (await form_post(stack, "/borger/log-ind", phone=anna)).status == 303
    resp = await form_post(stack, "/borger/log-ind", phone="12")
    assert resp.status == 400 and "Skriv et gyldigt mobilnummer." in await resp.text()


@sqlite_only
async def test_codes_are_rate_limited_per_address(stack: Stack) -> None:
    """From one client address, at most twenty code requests an hour, whatever the numbers."""
    for n in range(20):
        resp = await form_post(stack, "/borger/log-ind", phone=f"+45299900{n:02d}")
        assert resp.status == 303
    resp = await form_post(stack, "/borger/log-ind", phone="+4529990099")
    assert resp.status == 429


async def test_citizen_sees_their_threads_not_login_codes(stack: Stack) -> None:
    """Bo sees his two cases' threads; code SMS never show; a reply is filed and journalised."""
    bo = stack.world.phones["bo"]
    await stack.sms(bo, "Hej")  # two open cases: Bo is asked which one
    await stack.sms(bo, "1")
    await citizen_login(stack, bo)
    html = await (await stack.client.get("/borger/")).text()
    assert "Børn og Familie – Mette" in html and "Sag <bdi>2025-002</bdi>" in html
    links = re.findall(r'href="(/borger/samtaler/[^"]+)">\s*Børn og Familie – Mette', html)
    assert len(links) == 1
    html = await (await stack.client.get(links[0])).text()
    assert "Din kode til den sikre indbakke" not in html
    resp = await form_post(stack, links[0], links[0] + "/svar", body="Tak for svaret")
    assert resp.status == 303
    html = await (await stack.client.get(resp.headers["Location"])).text()
    assert "Tak for din besked." in html and "<bdi>Mette</bdi> svarer dig senest" in html
    assert await _count(stack, messages, messages.c.provider == "web") == 1
    resp = await form_post(stack, links[0], links[0] + "/svar", body="   ")
    assert resp.status == 400 and "Skriv en besked, før du sender." in await resp.text()


async def test_sessions_time_out_and_logout_ends_them_on_the_server(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """30 idle minutes end a session; activity keeps it only up to 12 hours; logout is final."""
    await staff_login(stack, logins["mette"])
    assert (await stack.client.get("/sagsbehandler/", allow_redirects=False)).status == 200
    stack.clock.advance(minutes=29)
    assert (await stack.client.get("/sagsbehandler/", allow_redirects=False)).status == 200
    stack.clock.advance(minutes=31)
    resp = await stack.client.get("/sagsbehandler/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/sagsbehandler/log-ind")
    await staff_login(stack, logins["mette"])
    for _ in range(25):  # active all day: every 29 minutes
        stack.clock.advance(minutes=29)
        resp = await stack.client.get("/sagsbehandler/", allow_redirects=False)
        if resp.status != 200:
            break
    assert resp.status == 303
    stack.clock.advance(minutes=2)  # a fresh TOTP step
    await staff_login(stack, logins["mette"])
    cookie = {c.key: c.value for c in stack.client.session.cookie_jar}["tvh_session"]
    assert (await form_post(stack, "/sagsbehandler/", "/sagsbehandler/log-ud")).status == 303
    resp = await stack.client.get(
        "/sagsbehandler/", headers={"Cookie": f"tvh_session={cookie}"}, allow_redirects=False
    )
    assert resp.status == 303
    assert await _count(stack, web_sessions, web_sessions.c.ended_at.is_(None)) == 0


async def test_staff_login_refuses_wrong_password_reused_code_and_locks(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Wrong password or TOTP: refused; a TOTP code works once; five failures lock the account."""
    mette = logins["mette"]
    resp = await form_post(
        stack, "/sagsbehandler/log-ind", username=mette.username, password="wrong-password!"
    )
    assert resp.status == 400 and "Brugernavn eller adgangskode er forkert." in await resp.text()
    await staff_login(stack, mette)
    stack.client.session.cookie_jar.clear()
    await form_post(
        stack, "/sagsbehandler/log-ind", username=mette.username, password=mette.password
    )
    resp = await form_post(stack, "/sagsbehandler/log-ind/kode", code=mette.code(stack))
    assert resp.status == 400 and "allerede brugt" in await resp.text()
    for _ in range(4):  # the reused code was the first failure
        await form_post(
            stack, "/sagsbehandler/log-ind", username=mette.username, password="wrong-password!"
        )
    resp = await form_post(
        stack, "/sagsbehandler/log-ind", username=mette.username, password=mette.password
    )
    assert resp.status == 400 and "Kontoen er låst" in await resp.text()
    stack.clock.advance(minutes=16)
    await staff_login(stack, mette)


@sqlite_only
async def test_cookies_and_headers(stack: Stack, logins: dict[str, Login]) -> None:
    """HttpOnly, SameSite=Lax cookies; strict CSP and no caching on pages; the API is untouched."""
    resp = await stack.client.get("/borger/log-ind")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in await resp.text()  # no inline script anywhere
    cookie = resp.cookies["tvh_csrf"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    api = await stack.client.get("/api/v1/conversations")
    assert api.status == 401 and "Content-Security-Policy" not in api.headers
    assert (await stack.client.get("/static/pages/tovholder.css")).status == 200


@sqlite_only
async def test_secure_cookies_when_configured(
    aiohttp_client: object, aiohttp_server: object, db_url: str, keys: dict[str, bytes]
) -> None:
    """With TOVHOLDER_WEB_SECURE_COOKIES=1 cookies are Secure and use the __Host- prefix."""
    from tests.harness import start_stack
    from tests.web.conftest import FRIDAY_MORNING

    s = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        seed=False,
        extra={"TOVHOLDER_WEB_SECURE_COOKIES": "1"},
    )
    try:
        resp = await s.client.get("/borger/log-ind")
        cookie = resp.cookies["__Host-tvh_csrf"]
        assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    finally:
        await s.session.close()


@sqlite_only
async def test_login_redirect_stays_on_our_pages(stack: Stack, logins: dict[str, Login]) -> None:
    """After login the ?next= target is followed only within the staff pages (no open redirect)."""
    mette = logins["mette"]
    resp = await form_post(
        stack,
        "/sagsbehandler/log-ind?next=//evil.example/",
        "/sagsbehandler/log-ind",
        username=mette.username,
        password=mette.password,
        next="//evil.example/",
    )
    assert resp.status == 303
    resp = await form_post(
        stack,
        resp.headers["Location"],
        "/sagsbehandler/log-ind/kode",
        code=mette.code(stack),
        next="https://evil.example/",
    )
    assert resp.headers["Location"] == "/sagsbehandler/"


@sqlite_only
async def test_event_stream_announces_new_messages(stack: Stack, logins: dict[str, Login]) -> None:
    """The inbox's server-sent events say "inbox" when an SMS arrives, and end at logout."""
    await staff_login(stack, logins["mette"])
    resp = await stack.client.get("/sagsbehandler/begivenheder")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    assert (await resp.content.readline()).startswith(b"retry:")
    await asyncio.sleep(0.3)
    await stack.sms(stack.world.phones["anna"], "Ny besked")
    lines = []
    async with asyncio.timeout(5):
        while not any(line.startswith(b"event: inbox") for line in lines):
            lines.append(await resp.content.readline())
    assert (await form_post(stack, "/sagsbehandler/", "/sagsbehandler/log-ud")).status == 303
    async with asyncio.timeout(5):
        while not lines[-1].startswith(b"event: ended"):
            lines.append(await resp.content.readline())
    resp.close()
    anonymous = await stack.client.get(
        "/sagsbehandler/begivenheder", headers={"Cookie": ""}, allow_redirects=False
    )
    assert anonymous.status == 401


async def test_mark_handled_and_take_an_urgent_message(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """ "Jeg tager den" stops an urgent message's escalation; a note closes the thread, journalised."""
    conv = await _anna_thread(stack, "Det haster, min søn er væk")
    await staff_login(stack, logins["mette"])
    page = f"/sagsbehandler/samtaler/{conv}"
    html = await (await stack.client.get(page)).text()
    assert "Hastende: ingen har taget beskeden endnu" in html
    action = re.search(r'action="([^"]+/kvitter)"', html)
    assert action
    resp = await form_post(stack, page, action.group(1))
    assert resp.status == 303
    html = await (await stack.client.get(resp.headers["Location"])).text()
    assert "Eskaleringen er stoppet" in html and "Hastende: ingen" not in html
    resp = await form_post(stack, page, page + "/haandteret", note="")
    assert resp.status == 400 and "Skriv et notat" in await resp.text()
    resp = await form_post(stack, page, page + "/haandteret", note="Ringede til Anna.")
    assert resp.status == 303
    assert (await (await stack.api("GET", "/api/v1/conversations")).json())["items"] == []
    kinds = {k for (k,) in await _rows(stack, select(journal_entries.c.kind))}
    assert {"acknowledged", "note"} <= kinds


async def test_citizens_web_message_is_routed_and_triaged_like_an_sms(stack: Stack) -> None:
    """A web message gets the team's reply-by, the case owner, and urgency from the same triage."""
    conv = await _anna_thread(stack)
    await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Ja"})
    await citizen_login(stack, stack.world.phones["anna"])
    page = f"/borger/samtaler/{conv}"
    resp = await form_post(stack, page, page + "/svar", body="Det haster!")
    assert resp.status == 303
    rows = await _rows(
        stack,
        select(messages.c.owner_id, messages.c.urgent, messages.c.reply_by).where(
            messages.c.provider == "web"
        ),
    )
    assert len(rows) == 1 and rows[0][0] == stack.world.mette and rows[0][1] is True
    assert rows[0][2] is not None


async def _rows(stack: Stack, query: object) -> list[tuple[object, ...]]:
    async with stack.svc.read() as conn:
        return [tuple(r) for r in (await conn.execute(query)).all()]  # type: ignore[arg-type]


@sqlite_only
async def test_demo_logins_only_in_demo_mode(stack: Stack) -> None:
    """The published demo password and TOTP secret are refused outside demo mode."""
    from bot.wiring.demo_accounts import seed_logins

    with pytest.raises(RuntimeError):
        await seed_logins(stack.svc, {"mette": stack.world.mette})


async def test_spent_sessions_and_codes_are_purged(stack: Stack, logins: dict[str, Login]) -> None:
    """A day after a session ended or timed out, and after a code's window, their rows go."""
    from bot.domain.sessions import purge
    from bot.http.pages.page import SETTINGS
    from bot.store.schema.pages import web_login_codes

    await staff_login(stack, logins["mette"])
    await form_post(stack, "/borger/log-ind", phone=stack.world.phones["anna"])
    settings = stack.client.app[SETTINGS]  # type: ignore[index]
    assert await purge(stack.svc, settings) == 0
    stack.clock.advance(hours=26)
    assert await purge(stack.svc, settings) == 3  # pending + full staff session, one code
    assert await _count(stack, web_sessions) == 0 and await _count(stack, web_login_codes) == 0


async def test_login_codes_never_show_in_a_staff_thread(stack: Stack) -> None:
    """A lead reading the citizen's unassigned thread through the API never sees the one-time code."""
    await form_post(stack, "/borger/log-ind", phone=stack.world.phones["anna"])
    items = (await (await stack.api("GET", "/api/v1/conversations", who="hanne")).json())["items"]
    async with stack.svc.read() as conn:
        from bot.store.schema.core import conversations

        convs = list((await conn.execute(select(conversations.c.id))).scalars())
    for conv in {*convs, *(i["id"] for i in items)}:
        resp = await stack.api("GET", f"/api/v1/conversations/{conv}", who="hanne")
        if resp.status == 200:
            assert all(m["kind"] != "login_code" for m in (await resp.json())["messages"])
    assert await _count(stack, messages, messages.c.kind == "login_code") == 1


async def test_the_root_leads_to_the_family_inbox_and_the_icon_answers(stack: Stack) -> None:
    """`/` redirects to the family's secure inbox (no JSON 404), and /favicon.ico is an image."""
    resp = await stack.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/borger/"
    icon = await stack.client.get("/favicon.ico")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"


async def test_the_root_leads_a_logged_in_caseworker_to_the_desk(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """With a caseworker's session `/` goes to /sagsbehandler/ (the inbox, not a login)."""
    await staff_login(stack, logins["mette"])
    resp = await stack.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/sagsbehandler/"
    resp = await stack.client.get("/")
    assert resp.status == 200 and resp.url.path == "/sagsbehandler/"
    await form_post(stack, "/sagsbehandler/", "/sagsbehandler/log-ud")
    resp = await stack.client.get("/", allow_redirects=False)
    assert resp.headers["Location"] == "/borger/"


async def test_the_root_leads_a_logged_in_family_to_their_inbox(stack: Stack) -> None:
    """With a family's session `/` goes to /borger/ and shows their inbox, not the login."""
    await citizen_login(stack, stack.world.phones["anna"])
    resp = await stack.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/borger/"
    resp = await stack.client.get("/")
    assert resp.status == 200 and resp.url.path == "/borger/"
    assert "Log ud" in await resp.text()


@sqlite_only
async def test_every_page_names_its_icon_for_browsers_that_do_not_guess(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Family and staff pages (logged in or not) link the SVG icon, and that link answers."""
    links: set[str] = set()

    async def icons(path: str) -> None:
        resp = await stack.client.get(path)
        assert resp.status == 200 and resp.url.path == path, path
        html = await resp.text()
        found = re.findall(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', html)
        assert len(found) == 1, path
        links.add(found[0])

    await icons("/borger/log-ind")
    await icons("/sagsbehandler/log-ind")
    await citizen_login(stack, stack.world.phones["anna"])
    await icons("/borger/")
    await staff_login(stack, logins["mette"])
    await icons("/sagsbehandler/")
    (href,) = links
    icon = await stack.client.get(href)
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert (await icon.read()).startswith(b"<svg")

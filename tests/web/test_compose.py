"""Ny besked from a case, and files to the family, over HTTP (#19 points 1 and 5).

On SQLite and PostgreSQL, through the real app, the outbox relay and the
simulated gateway: what the family's phones got is read back from the gateway.
Every refused form is a 4xx with a Danish message that sends and stores nothing.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from sqlalchemy import func, select, update

from bot.base.staff import StaffUser
from bot.domain import reply_templates, sessions, staffing
from bot.domain.accounts import set_credentials
from bot.domain.directory import create_case, create_person
from bot.domain.integration.participants import add_participant
from bot.store.schema.attachments import message_attachments
from bot.store.schema.core import cases, journal_entries, messages, outbox, participants
from bot.store.schema.scheduler import reply_promises
from tests.harness import Stack
from tests.web.conftest import PASSWORD, Login, csrf_of, staff_login

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BODY = "Hej. Mødet på fredag er flyttet til kl. 10. Hilsen Mette"


@dataclass
class Family:
    """A case with a party, a parent writing English, representatives and a parent who said STOP."""

    case: str
    parts: dict[str, str]  # key -> participant id
    phones: dict[str, str]
    seen: int  # what the gateway had sent before the test's own messages


async def _family(stack: Stack) -> Family:
    w = stack.world
    phones = {
        "anna": w.phones["anna"],
        "peter": "+4520123501",
        "rita": "+4520123502",
        "olga": "+4520123503",
        "sune": "+4520123504",
    }
    async with stack.svc.write() as conn:
        case = await create_case(
            conn,
            stack.svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_children,
            team_id=w.team_children,
            owner_id=w.mette,
            number="2025-100",
        )
        people = {"anna": w.persons["anna"]}
        for key, name, language in (
            ("peter", "Peter Parker", "en"),
            ("rita", "Rita Rask", "da"),
            ("olga", "Olga Olsen", "da"),
            ("sune", "Sune Stop", "da"),
        ):
            people[key] = await create_person(
                conn,
                stack.svc,
                tenant_id=w.tenant_id,
                name=name,
                first_name=name.split()[0],
                phone=phones[key],
                language=language,
            )
        parts = {}
        for key, data in (
            ("anna", {"role": "party"}),
            ("peter", {"role": "parent"}),
            ("rita", {"role": "representative", "authority_from": "2025-01-01"}),
            (
                "olga",
                {
                    "role": "representative",
                    "authority_from": "2024-01-01",
                    "authority_to": "2025-02-01",
                },
            ),
            ("sune", {"role": "parent"}),
        ):
            parts[key] = await add_participant(
                conn, stack.svc, w.tenant_id, case, {"person_id": people[key], **data}
            )
    # Sune texts STOP, the real way: consent is recorded for his number.
    await stack.sms(phones["sune"], "STOP")
    await stack.drain()
    await stack.settle()  # its delivery report journalises: counted rows must not move after
    return Family(case, parts, phones, len(await stack.sent()))


async def _person_of(stack: Stack, participant_id: str) -> str:
    async with stack.svc.read() as conn:
        return str(
            (
                await conn.execute(
                    select(participants.c.person_id).where(participants.c.id == participant_id)
                )
            ).scalar_one()
        )


def _url(case: str) -> str:
    return f"/sagsbehandler/sager/{case}/ny-besked"


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:500])
    return text


async def _post(
    stack: Stack, case: str, files: list[tuple[str, bytes]] | None = None, **fields: str
) -> ClientResponse:
    """GET the form, then POST it as the browser does (multipart, the CSRF token first)."""
    html = await (await stack.client.get(_url(case))).text()
    data = FormData(default_to_multipart=True)
    data.add_field("csrf", csrf_of(html))
    for name, value in {"to": "alle", **fields}.items():
        data.add_field(name, value)
    for filename, content in files or []:
        data.add_field("file", content, filename=filename, content_type="application/pdf")
    return await stack.client.post(_url(case), data=data, allow_redirects=False)


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(q)).scalar_one())


async def _everything(stack: Stack) -> tuple[int, int, int, int, int]:
    return (
        await _count(stack, messages),
        await _count(stack, outbox),
        await _count(stack, message_attachments),
        await _count(stack, reply_promises),
        await _count(stack, journal_entries),
    )


async def _sent_bodies(stack: Stack, fam: Family) -> dict[str, list[str]]:
    await stack.drain()
    new = (await stack.sent())[fam.seen :]
    return {k: [m["body"] for m in new if m["to"] == p] for k, p in fam.phones.items()}


async def _follow(stack: Stack, resp: ClientResponse) -> str:
    assert resp.status == 303, (resp.status, (await resp.text())[:800])
    return await _page(stack, resp.headers["Location"])


# -- who gets it -------------------------------------------------------------------------


async def test_all_participants_get_it_through_the_gate_and_the_page_says_who_did_not(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """To all: the party, the parent and the representative in force get the SMS; the expired
    representative and the parent who texted STOP get nothing, and the page says why."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    page = await _follow(stack, await _post(stack, fam.case, body=BODY))
    sent = await _sent_bodies(stack, fam)
    assert {k for k, bodies in sent.items() if BODY in bodies} == {"anna", "peter", "rita"}
    assert sent["olga"] == [] and sent["sune"] == []
    assert "Beskeden er lagt i kø" in page
    assert "Sune Stop får ikke beskeden (tilbageholdt): borgeren har sagt STOP" in page
    assert "Olga Olsen får ikke beskeden (tilbageholdt): fuldmagten gælder ikke i dag" in page
    assert page.count("Se tråden") == 3
    # Each is journalised on the case as the caseworker's, with the text sealed.
    async with stack.svc.read() as conn:
        entries = (
            await conn.execute(
                select(journal_entries.c.actor, journal_entries.c.subject).where(
                    journal_entries.c.case_id == fam.case,
                    journal_entries.c.kind == "sms_out_update",
                )
            )
        ).all()
    assert entries and {e.actor for e in entries} == {f"staff:{stack.world.mette}"}
    assert len(entries) == 3
    # Each went into that participant's thread on the case, which Mette can open.
    conv = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', page)[0]
    thread = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert BODY in thread and f"/sagsbehandler/sager/{fam.case}/ny-besked" in thread


async def test_one_participant_with_a_template_in_their_language(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Picking Peter (who writes English) offers the templates in English; only he gets it."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    peter = fam.parts["peter"]
    html = await _page(stack, f"{_url(fam.case)}?til={peter}")
    assert "På engelsk" in html
    assert "Hi Peter. Thank you for your message." in html
    assert "Regards Mette" in html and "Tuesday 25 February" in html
    # Without JavaScript, the picker reloads the form with the text in the box.
    ids = dict(
        re.findall(r'<option value="([0-9a-f-]{36})" data-text="[^"]*"[^>]*>([^<]+)</option>', html)
    )
    tid = next(k for k, v in ids.items() if v == "Jeg ringer til dig")
    filled = await _page(stack, f"{_url(fam.case)}?til={peter}&skabelon={tid}")
    assert "Hi Peter. I would like to talk with you" in filled
    # A recipient who may not get messages cannot be picked.
    assert re.search(rf'value="{fam.parts["sune"]}" disabled', html)
    text = "Hi Peter. I will call you on Tuesday. Regards Mette"
    await _follow(stack, await _post(stack, fam.case, to=peter, body=text))
    sent = await _sent_bodies(stack, fam)
    assert sent["peter"] == [text]
    assert sent["anna"] == [] and sent["rita"] == []


def test_untouched_default_templates_come_in_english() -> None:
    """A default nobody changed comes translated; a lead's own text stays as written."""
    title, body = reply_templates.DEFAULTS[0]
    default = reply_templates.ReplyTemplate("t1", title, body, 0, True)
    text, ok = reply_templates.in_language(default, "en")
    assert ok and text.startswith("Hi {fornavn}.")
    reply_templates.check(title, text)
    changed = reply_templates.ReplyTemplate("t2", title, body + " Vh", 0, True)
    assert reply_templates.in_language(changed, "en") == (body + " Vh", False)
    assert reply_templates.in_language(default, "uk") == (
        reply_templates.TRANSLATIONS["uk"][title],
        True,
    )
    assert reply_templates.in_language(default, "xx") == (body, False)
    assert reply_templates.in_language(default, "da") == (body, True)
    assert set(reply_templates.TRANSLATIONS["en"]) == {t for t, _ in reply_templates.DEFAULTS}


async def test_sensitive_goes_as_a_link_and_a_promise_is_kept(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Sensitive: the phones get a notice with a link, never the text; the promised date is
    recorded on each recipient's thread."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    secret = "Lægens udtalelse om diagnosen er kommet."
    await _follow(
        stack,
        await _post(
            stack,
            fam.case,
            to=fam.parts["anna"],
            body=secret,
            sensitive="1",
            promise_due="2025-02-27",
        ),
    )
    sent = await _sent_bodies(stack, fam)
    assert len(sent["anna"]) == 1
    assert "diagnosen" not in sent["anna"][0]
    assert "Du har en ny besked fra Københavns Kommune" in sent["anna"][0]
    assert await _count(stack, reply_promises, reply_promises.c.case_id == fam.case) == 1


async def test_send_later_waits_and_the_gate_still_holds_back_a_late_stop(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Sent later, nothing goes now; at the time it goes, except to a parent who texted STOP
    in between: the send-time gate withholds it."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    page = await _follow(
        stack,
        await _post(stack, fam.case, body=BODY, send_date="2025-02-24", send_time="09:30"),
    )
    assert "Beskeden er planlagt" in page
    assert "planlagt til mandag den 24. februar kl. 09:30" in page  # when it really goes
    assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}
    await stack.sms(fam.phones["peter"], "STOP")
    stack.clock.advance(days=3)
    sent = await _sent_bodies(stack, fam)
    assert BODY in sent["anna"] and BODY in sent["rita"]
    assert BODY not in sent["peter"]
    async with stack.svc.read() as conn:
        statuses = dict(
            (
                await conn.execute(
                    select(messages.c.person_id, messages.c.status).where(
                        messages.c.case_id == fam.case, messages.c.kind == "scheduled"
                    )
                )
            ).all()
        )
    peter = await _person_of(stack, fam.parts["peter"])
    assert statuses.pop(peter) == "withheld"
    assert len(statuses) == 2 and "withheld" not in statuses.values()


# -- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"body": "   "}, 400, "Skriv en besked, før du sender."),
        ({"body": "Hej. " * 120}, 400, "Beskeden fylder for mange SMS'er"),
        ({"body": BODY, "to": "nogen"}, 400, "Vælg, hvem beskeden skal sendes til."),
        ({"body": BODY, "promise_due": "2025-02-30"}, 400, "ikke en gyldig dato"),
        ({"body": BODY, "promise_due": "2025-02-01"}, 400, "Datoen for lovet svar er overskredet"),
        ({"body": BODY, "send_date": "2025-02-20", "send_time": "09:00"}, 400, "overskredet"),
        ({"body": BODY, "send_date": "2025-02-24", "send_time": ""}, 400, "ikke gyldigt"),
        (
            {"body": BODY, "sensitive": "1", "send_date": "2025-02-24", "send_time": "09:00"},
            400,
            "Følsomme beskeder kan ikke planlægges",
        ),
    ],
)
async def test_a_bad_form_says_why_and_sends_nothing(
    stack: Stack, logins: dict[str, Login], fields: dict[str, str], status: int, words: str
) -> None:
    """Each bad form: the page says what is wrong in Danish, and nothing is stored or sent."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    before = await _everything(stack)
    resp = await _post(stack, fam.case, **fields)
    text = await resp.text()
    assert resp.status == status, text[:500]
    assert words in htmllib.unescape(text)
    assert await _everything(stack) == before
    assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}


async def test_nobody_to_reach_says_who_and_why(stack: Stack, logins: dict[str, Login]) -> None:
    """Only Sune (who said STOP) chosen: nothing is sent and the page says why."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    before = await _everything(stack)
    resp = await _post(stack, fam.case, to=fam.parts["sune"], body=BODY)
    text = await resp.text()
    assert resp.status == 400
    assert "Ingen af de valgte kan få beskeden nu" in text
    assert "Sune Stop: borgeren har sagt STOP" in text
    assert await _everything(stack) == before


async def test_a_case_i_do_not_work_on_is_not_found(stack: Stack, logins: dict[str, Login]) -> None:
    """Lars (another team) gets 404 for Mette's case, to look or to send; so does an unknown id."""
    fam = await _family(stack)
    await staff_login(stack, logins["lars"])
    await _page(stack, _url(fam.case), 404)
    await _page(stack, _url("00000000-0000-0000-0000-000000000000"), 404)
    before = await _everything(stack)
    html = await _page(stack, "/sagsbehandler/fravaer")
    data = FormData(default_to_multipart=True)
    data.add_field("csrf", csrf_of(html))
    data.add_field("to", "alle")
    data.add_field("body", BODY)
    resp = await stack.client.post(_url(fam.case), data=data, allow_redirects=False)
    assert resp.status == 404
    assert await _everything(stack) == before


async def test_a_covering_colleague_sends_and_opens_the_thread_only_during_the_absence(
    stack: Stack,
) -> None:
    """Mette answered Anna, then went away with Sofie as substitute: Sofie opens the case's
    (closed) thread, sends a quick update and "Se tråden" opens (200); the day after the
    absence the thread and the case are the house's 404 for her."""
    w = stack.world
    case = w.cases["anna"]
    await stack.sms(w.phones["anna"], "Hej Mette, hvornår hører jeg noget?")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    # A minute later, so the reply (not the automatic STATUS answer of the same instant) is
    # the newest message the case page shows.
    stack.clock.advance(minutes=1)
    resp = await stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": "I næste uge."}
    )
    assert resp.status == 201, await resp.text()
    assert await _count(stack, messages, messages.c.awaiting_reply.is_(True)) == 0
    mette = StaffUser(w.mette, w.tenant_id, w.team_children, "caseworker")
    await staffing.add_absence(
        stack.svc,
        mette,
        {"starts_on": "2025-02-21", "ends_on": "2025-02-24", "substitute_id": w.sofie},
    )
    secret = await set_credentials(
        stack.svc, staff_id=w.sofie, username="sofie@kbh.example", password=PASSWORD
    )
    sofie = Login("sofie@kbh.example", PASSWORD, secret)
    await staff_login(stack, sofie)
    case_page = await _page(stack, f"/sagsbehandler/sager/{case}")
    assert (
        f'href="/sagsbehandler/samtaler/{conv}?fra=%2Fsagsbehandler%2Fsager%2F{case}"' in case_page
    )
    assert "I næste uge." in case_page
    body = "Hej Anna. Jeg dækker for Mette i dag. Hilsen Sofie"
    page = await _follow(stack, await _post(stack, case, body=body))
    assert "Beskeden er lagt i kø" in page
    links = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})">Se tråden', page)
    assert links == [conv]
    thread = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert body in thread and "Hej Mette, hvornår hører jeg noget?" in thread
    # Tuesday: Mette is back; Sofie holds nothing on the case and sees none of it.
    stack.clock.advance(days=4)
    await staff_login(stack, sofie)
    gone = await _page(stack, f"/sagsbehandler/samtaler/{conv}", 404)
    unknown = await _page(
        stack, "/sagsbehandler/samtaler/00000000-0000-0000-0000-000000000000", 404
    )
    assert gone == unknown
    await _page(stack, f"/sagsbehandler/sager/{case}", 404)
    await _page(stack, _url(case), 404)


async def test_without_the_csrf_token_nothing_is_read(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A form without the session's token is refused before any file is read."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    data = FormData(default_to_multipart=True)
    data.add_field("csrf", "forkert")
    data.add_field("body", BODY)
    resp = await stack.client.post(_url(fam.case), data=data, allow_redirects=False)
    assert resp.status == 403
    assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}


# -- files to the family -----------------------------------------------------------------


async def test_a_file_reaches_the_secure_inbox_sealed_and_journalised_never_by_sms(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A PDF to Anna: stored sealed, journalised with its SHA-256, the SMS only says there is
    a new message; with MitID she sees and downloads the very file."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    note = "Her er mødeplanen for næste uge."
    page = await _follow(
        stack,
        await _post(
            stack, fam.case, [("Mødeplan uge 9.pdf", PDF)], to=fam.parts["anna"], body=note
        ),
    )
    assert "med 1 fil i den sikre indbakke" in page
    sent = await _sent_bodies(stack, fam)
    assert len(sent["anna"]) == 1
    assert "Du har en ny besked fra Københavns Kommune" in sent["anna"][0]
    assert note not in sent["anna"][0] and "PDF" not in sent["anna"][0]
    digest = hashlib.sha256(PDF).hexdigest()
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(message_attachments))).one()
        assert row.sha256 == digest and row.media_type == "application/pdf"
        assert PDF not in row.content_enc and b"Modeplan" not in row.filename_enc
        entry = (
            await conn.execute(
                select(journal_entries).where(journal_entries.c.kind == "attachment")
            )
        ).one()
    assert digest in entry.subject and "til borger" in entry.subject
    assert (entry.actor, entry.direction, entry.case_id) == (
        f"staff:{stack.world.mette}",
        "out",
        fam.case,
    )
    conv = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', page)[0]
    staff_view = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert note in staff_view and "Mødeplan uge 9.pdf" in staff_view
    # The family, logged in with MitID, sees the message and the file, and gets it whole.
    token, _ = await sessions.create(
        stack.svc,
        tenant_id=stack.world.tenant_id,
        kind="citizen",
        stage="full",
        assurance="substantial",
        phone_index=stack.svc.blind_index(fam.phones["anna"]),
    )
    stack.client.session.cookie_jar.clear()  # Mette's session ends here
    stack.client.session.cookie_jar.update_cookies({"tvh_session": token})
    html = await _page(stack, f"/borger/samtaler/{conv}")
    assert note in html and "Mødeplan uge 9.pdf" in html
    link = re.search(rf'href="(/borger/samtaler/{conv}/filer/[0-9a-f-]{{36}})"', html)
    assert link
    got = await stack.client.get(link.group(1))
    assert got.status == 200 and await got.read() == PDF


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 200, 400, "Kun PDF og billeder"),
        ("stor.pdf", b"%PDF-1.4\n" + b"0" * (64 * 1024), 413, "Filen er for stor"),
    ],
)
async def test_a_refused_file_stores_and_sends_nothing(
    aiohttp_client: Any,
    aiohttp_server: Any,
    db_url: str,
    keys: dict[str, bytes],
    name: str,
    content: bytes,
    status: int,
    words: str,
) -> None:
    """A type we do not take, or a file over the limit: a clear message, nothing stored or sent."""
    from tests.harness import start_stack
    from tests.web.conftest import FRIDAY_MORNING, give_logins

    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        extra={"TOVHOLDER_UPLOAD_MAX_BYTES": str(64 * 1024)},
    )
    try:
        fam = await _family(stack)
        await staff_login(stack, (await give_logins(stack))["mette"])
        before = await _everything(stack)
        resp = await _post(stack, fam.case, [(name, content)], to=fam.parts["anna"], body=BODY)
        text = await resp.text()
        assert resp.status == status, text[:500]
        assert words in text and BODY in text  # what was written stays in the box
        assert await _everything(stack) == before
        assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}
    finally:
        await stack.session.close()


async def test_files_go_now_and_a_closed_case_takes_nothing(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A file with a send-later time is refused; a closed case refuses any message (409)."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    before = await _everything(stack)
    resp = await _post(
        stack, fam.case, [("plan.pdf", PDF)], body=BODY, send_date="2025-02-24", send_time="09:00"
    )
    assert resp.status == 400
    assert "Filer sendes med det samme" in await resp.text()
    async with stack.svc.write() as conn:  # the case system closes the case
        await conn.execute(update(cases).where(cases.c.id == fam.case).values(status="closed"))
    before = await _everything(stack)
    assert "Sagen er lukket" in await _page(stack, _url(fam.case))
    html = await _page(stack, "/sagsbehandler/fravaer")
    data = FormData(default_to_multipart=True)
    data.add_field("csrf", csrf_of(html))
    data.add_field("to", "alle")
    data.add_field("body", BODY)
    resp = await stack.client.post(_url(fam.case), data=data, allow_redirects=False)
    assert resp.status == 409
    assert "Sagen er lukket" in await resp.text()
    assert await _everything(stack) == before
    assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}


async def test_sent_now_in_quiet_hours_waits_and_the_page_says_until_when(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """At 21:00 the message waits for the end of the family's quiet hours; the page says when."""
    fam = await _family(stack)
    stack.clock.advance(hours=11)  # Friday 21:00 in Copenhagen
    await staff_login(stack, logins["mette"])
    page = await _follow(stack, await _post(stack, fam.case, to=fam.parts["anna"], body=BODY))
    assert "Anna Andersen: sendes lørdag den 22. februar kl. 08:00" in page
    assert await _sent_bodies(stack, fam) == {k: [] for k in fam.phones}
    stack.clock.advance(hours=11, minutes=1)
    assert (await _sent_bodies(stack, fam))["anna"] == [BODY]

"""QA polish of the caseworker's desk (issue #19, QA run): page-level checks.

On SQLite and PostgreSQL through the real app, each check for something the QA
run in the browser found missing.
"""

from __future__ import annotations

import html as htmllib
import re

from tests.harness import Stack
from tests.web.conftest import Login, staff_login
from tests.web.test_compose import BODY, _everything, _family, _follow, _page, _post, _url


async def test_case_page_offers_write_to_each_participant_and_compose_preselects(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Each participant on the case page has "Skriv til …"; it opens Ny besked with that
    participant chosen as the recipient (not "Alle")."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    case_html = await _page(stack, f"/sagsbehandler/sager/{fam.case}")
    peter = fam.parts["peter"]
    link = f"{_url(fam.case)}?til={peter}"
    assert f'href="{link}">Skriv til Peter Parker</a>' in case_html
    assert f"{_url(fam.case)}?til={fam.parts['anna']}" in case_html
    compose_html = await _page(stack, link)
    assert re.search(rf'id="to-{peter}" name="to" value="{peter}" checked', compose_html)
    assert not re.search(r'id="to-all"[^>]*checked', compose_html)


async def test_an_answered_thread_on_an_open_case_says_besvaret_not_afsluttet(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Right after a reply nothing waits for us: Peter's thread (he wrote) says "Svar i kø" (our
    answer is written, not out yet; "Besvaret" once it is); Rita's (we started it) says where
    our message is, "I kø"; "Afsluttet" is kept for a closed case."""
    fam = await _family(stack)
    await stack.sms(fam.phones["peter"], "Hi Mette, is the meeting still on Friday?")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": BODY})
    assert resp.status == 201, await resp.text()
    await staff_login(stack, logins["mette"])
    await _follow(stack, await _post(stack, fam.case, to=fam.parts["rita"], body=BODY))
    case_html = await _page(stack, f"/sagsbehandler/sager/{fam.case}")
    assert case_html.count('<span class="badge">Svar i kø</span>') == 1
    assert case_html.count('<span class="badge">I kø</span>') == 1
    assert "Afsluttet" not in case_html and 'badge-warning">Åben' not in case_html


async def test_staff_header_names_the_desk_not_the_inbox(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Every staff page is headed "Tovholder · Sagsbehandler" (not "· Indbakke") and loads the
    small script that lets Esc close the phone menu (the menu itself needs no JavaScript)."""
    await staff_login(stack, logins["mette"])
    for path in ("/sagsbehandler/", "/sagsbehandler/sager", "/sagsbehandler/opgaver"):
        html = await _page(stack, path)
        assert "Tovholder · Sagsbehandler</a>" in html, path
        assert "Indbakke</a>" not in html, path
        assert "header-menu.js" in html and '<details class="header-menu' in html


async def test_sms_count_is_announced_and_a_sensitive_form_says_secure_inbox(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """The live count is a polite live region on Ny besked and a thread; a form sent back with
    "Følsomt" ticked labels the text as going to the secure inbox, not as an SMS."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    html = await _page(stack, _url(fam.case))
    assert 'id="body-count" aria-live="polite"' in html
    assert "Beskeden (<span data-sms-label>sendes som SMS</span>)" in html
    resp = await _post(stack, fam.case, body="  ", sensitive="1")
    assert resp.status == 400
    refused = htmllib.unescape(await resp.text())
    assert "Skriv en besked, før du sender." in refused
    assert "sendes i den sikre indbakke; SMS'en er kun en besked med link</span>)" in refused
    assert "Beskeden (<span data-sms-label>sendes som SMS" not in refused
    thread = await _follow(stack, await _post(stack, fam.case, to=fam.parts["peter"], body=BODY))
    conv = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', thread)[0]
    html = await _page(stack, f"/sagsbehandler/samtaler/{conv}")
    assert 'id="body-count" aria-live="polite"' in html


async def test_a_promise_on_a_weekend_is_refused_and_the_header_keeps_case_and_promise_apart(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A promised date on a Saturday is refused with a clear message and nothing is stored;
    a weekday promise shows in the thread's header separated from the case number."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    before = await _everything(stack)
    resp = await _post(stack, fam.case, body=BODY, promise_due="2025-02-22")  # a Saturday
    assert resp.status == 400
    assert "lørdag, søndag eller helligdag" in htmllib.unescape(await resp.text())
    assert await _everything(stack) == before
    peter = fam.parts["peter"]
    sent = await _follow(
        stack, await _post(stack, fam.case, to=peter, body=BODY, promise_due="2025-02-27")
    )
    conv = re.findall(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})"', sent)[0]
    thread = htmllib.unescape(await _page(stack, f"/sagsbehandler/samtaler/{conv}"))
    assert re.search(r"Sag 2025-100 · <span[^>]*>Lovet svar senest torsdag", thread), re.findall(
        r'font-lead">.*', thread
    )


async def test_the_filing_page_shows_the_unknown_senders_number_to_the_lead(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A lead filing a message from an unknown number sees that number (decrypted from the
    placeholder person) as a link to call back."""
    from tests.web.test_filing_pages import UNKNOWN, _unassigned

    conv = await _unassigned(stack)
    await staff_login(stack, logins["hanne"])
    page = await _page(stack, f"/sagsbehandler/ikke-fordelt/{conv}")
    assert f'href="tel:{UNKNOWN}"' in page
    assert re.search(rf"telefon <a[^>]*><bdi[^>]*>{re.escape(UNKNOWN)}</bdi></a>", page), page[
        :3000
    ]


async def test_compose_recipients_come_first_and_templates_greet_the_chosen_one(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """On Ny besked the recipients come before the template picker; to all, {fornavn} gives a
    neutral "Hej." (not "Hej Anna og Peter og Rita"); each option carries the text for each
    recipient (Peter's in English with his name) so the picker follows the choice; the
    picker's fields are not part of the message form's POST."""
    fam = await _family(stack)
    await staff_login(stack, logins["mette"])
    html = htmllib.unescape(await _page(stack, _url(fam.case)))
    assert html.index('<legend class="form-label">Modtagere</legend>') < html.index('id="skabelon"')
    assert 'data-text="Hej. Tak for din besked.' in html
    assert " og Peter" not in html
    peter = fam.parts["peter"]
    assert f'data-for-{peter}="Hi Peter. Thank you for your message.' in html
    assert f'data-for-{fam.parts["anna"]}="Hej Anna. Tak for din besked.' in html
    assert 'name="skabelon" form="template-picker"' in html
    # The message form still sends (the picker's select is not one of its fields).
    sent = await _follow(stack, await _post(stack, fam.case, to=peter, body=BODY))
    assert "Beskeden er lagt i kø" in sent

"""The family writes in another script than their SMS language: the thread page and the case
page say so in plain Danish, and the case page offers the SMS-sprog form with that language.

On SQLite and PostgreSQL through the real app: a Ukrainian message from Anna (SMS in Danish)
brings the hint; one click on the case page sets Ukrainian through the existing route (CSRF,
journal) and the hint goes; a Latin-letter message never brings one.
"""

from __future__ import annotations

import re

from tests.harness import Stack
from tests.integration.test_person_language import language_entries, language_of
from tests.web.conftest import Login, form_post, staff_login

HINT = "Anna skrev sidst på ukrainsk, men får SMS på dansk."
CASE_HINT = "Anna Andersen skrev sidst på ukrainsk, men får SMS på dansk."
THREAD = re.compile(r'href="/sagsbehandler/samtaler/([0-9a-f-]{36})[?"]')
HINT_FORM = re.compile(
    r'<form class="language-hint" method="post" action="(/sagsbehandler/sager/[0-9a-f-]{36}'
    r'/deltagere/[0-9a-f-]{36}/sprog)">\s*<input type="hidden" name="csrf" value="[^"]+">\s*'
    r'<input type="hidden" name="language" value="(\w+)">'
)


async def _pages(stack: Stack) -> tuple[str, str, str]:
    """The case page, the thread page and the thread's address, as Mette sees them."""
    case_page = f"/sagsbehandler/sager/{stack.world.cases['anna']}"
    resp = await stack.client.get(case_page)
    assert resp.status == 200
    case_html = await resp.text()
    [conv] = THREAD.findall(case_html)
    thread_page = f"/sagsbehandler/samtaler/{conv}"
    resp = await stack.client.get(thread_page)
    assert resp.status == 200
    return case_html, await resp.text(), thread_page


async def test_a_ukrainian_message_to_a_danish_person_brings_the_hint_until_it_is_set(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Anna (SMS in Danish) writes in Ukrainian: both pages say so, the thread page links to the
    case page's field; one click sets Ukrainian (journalised) and the hint is gone."""
    w = stack.world
    case_id = w.cases["anna"]
    resp = await stack.sms(w.phones["anna"], "Доброго дня! Коли буде зустріч щодо сина?")
    assert resp.status == 200
    await staff_login(stack, logins["mette"])
    case_html, thread_html, _ = await _pages(stack)

    assert CASE_HINT in case_html
    [(action, language)] = HINT_FORM.findall(case_html)
    assert language == "uk"
    assert "Skift SMS-sprog til ukrainsk" in case_html
    # The hint's form is the SMS-sprog form's own route: no second way to set the language.
    assert f'id="sms-sprog-{w.persons["anna"]}" method="post" action="{action}"' in case_html

    assert HINT in thread_html
    assert f'href="/sagsbehandler/sager/{case_id}#sms-sprog-{w.persons["anna"]}"' in thread_html

    page = f"/sagsbehandler/sager/{case_id}"
    resp = await form_post(stack, page, action, language=language)
    assert resp.status == 303, await resp.text()
    shown = await (await stack.client.get(resp.headers["Location"])).text()
    assert "SMS til Anna Andersen skrives nu på ukrainsk" in shown
    assert await language_of(stack, w.persons["anna"]) == "uk"
    assert [e.subject for e in await language_entries(stack, case_id)] == [
        "Sagsbehandleren: SMS til en deltager skrives nu på ukrainsk (før: dansk)"
    ]

    case_html, thread_html, _ = await _pages(stack)
    assert "skrev sidst på" not in case_html
    assert 'class="language-hint"' not in case_html
    assert "skrev sidst på" not in thread_html


async def test_an_arabic_message_to_an_english_person_says_arabic_and_english(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Anna's SMS in English, she writes in Arabic: the hint names both languages."""
    w = stack.world
    await staff_login(stack, logins["mette"])
    case_page = f"/sagsbehandler/sager/{w.cases['anna']}"
    [action] = re.findall(
        r'id="sms-sprog-[0-9a-f-]{36}" method="post" action="([^"]+)"',
        await (await stack.client.get(case_page)).text(),
    )
    assert (await form_post(stack, case_page, action, language="en")).status == 303
    await stack.sms(w.phones["anna"], "مرحبا، متى موعدنا القادم؟ شكرا")
    case_html, thread_html, _ = await _pages(stack)
    assert "Anna Andersen skrev sidst på arabisk, men får SMS på engelsk." in case_html
    assert "Anna skrev sidst på arabisk, men får SMS på engelsk." in thread_html


async def test_a_latin_letter_message_never_brings_a_hint(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Danish, English, Arabizi or Ukrainian in Latin letters: no guess, no hint on either page."""
    w = stack.world
    await staff_login(stack, logins["mette"])
    for body in (
        "Hej, hvornår hører jeg noget?",
        "Marhaba, shlonak? 3ayez a3raf el maw3ed",
        "Dobryi den, koly bude zustrich?",
    ):
        stack.clock.advance(minutes=5)
        resp = await stack.sms(w.phones["anna"], body)
        assert resp.status == 200
        case_html, thread_html, _ = await _pages(stack)
        assert "skrev sidst på" not in case_html, body
        assert 'class="language-hint"' not in case_html, body
        assert "skrev sidst på" not in thread_html, body


async def test_the_case_page_reads_only_the_message_it_shows(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """After our reply the case page shows our message, not Anna's: no hint there (nothing
    else is decrypted for it); the thread page, which shows her message, keeps the hint."""
    w = stack.world
    await stack.sms(w.phones["anna"], "Доброго дня! Коли буде зустріч?")
    await staff_login(stack, logins["mette"])
    _, _, thread_page = await _pages(stack)
    stack.clock.advance(minutes=5)
    resp = await form_post(
        stack, thread_page, f"{thread_page}/svar", body="Tak, vi ringer i morgen."
    )
    assert resp.status == 303, await resp.text()
    case_html, thread_html, _ = await _pages(stack)
    assert "Tak, vi ringer i morgen." in case_html
    assert "skrev sidst på" not in case_html
    assert HINT in thread_html

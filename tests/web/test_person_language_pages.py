"""SMS-sprog on the pages: the caseworker's field on the case page, the family's choice in the
secure inbox. Each writes ``persons.language``, is journalised, and the next SMS that reaches
the gateway simulator is in the new language; a bad language changes nothing.
"""

from __future__ import annotations

import re

from aiohttp import ClientResponse

from tests.harness import Stack
from tests.integration.test_person_language import (
    language_entries,
    language_of,
    opening,
    receipt_for,
)
from tests.web.conftest import Login, citizen_login, csrf_of, form_post, staff_login

ACTION = re.compile(
    r'action="(/sagsbehandler/sager/[0-9a-f-]{36}/deltagere/([0-9a-f-]{36})/sprog)"'
)


async def _language_forms(stack: Stack, case_id: str) -> list[tuple[str, str]]:
    """(action, participant id) of each language form on the case page, in page order."""
    resp = await stack.client.get(f"/sagsbehandler/sager/{case_id}")
    assert resp.status == 200
    return ACTION.findall(await resp.text())


async def test_the_caseworker_sets_ukrainian_and_the_next_receipt_is_ukrainian(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Mette picks Ukrainian for Anna: stored, journalised, said on the page, and the receipt."""
    w = stack.world
    case_id = w.cases["anna"]
    await staff_login(stack, logins["mette"])
    html = await (await stack.client.get(f"/sagsbehandler/sager/{case_id}")).text()
    assert '<label class="form-label" for="language-' in html
    assert "SMS-sprog for Anna Andersen" in html
    [(action, participant)] = await _language_forms(stack, case_id)

    page = f"/sagsbehandler/sager/{case_id}"
    resp = await form_post(stack, page, action, language="uk")
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == f"{page}?sprog={participant}"
    shown = await (await stack.client.get(resp.headers["Location"])).text()
    assert "SMS til Anna Andersen skrives nu på ukrainsk" in shown
    assert '<option value="uk" selected>Ukrainsk</option>' in shown

    assert await language_of(stack, w.persons["anna"]) == "uk"
    entries = await language_entries(stack, case_id)
    assert [(e.subject, e.actor) for e in entries] == [
        (
            "Sagsbehandleren: SMS til en deltager skrives nu på ukrainsk (før: dansk)",
            f"staff:{w.mette}",
        )
    ]
    receipt = await receipt_for(stack, w.phones["anna"])
    assert receipt.startswith(opening("uk", "receipt")), receipt


async def test_a_bad_language_from_the_caseworker_changes_nothing(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """A forged value (de) or none: 422 with a plain Danish message; nothing stored or sent."""
    w = stack.world
    case_id = w.cases["anna"]
    await staff_login(stack, logins["mette"])
    [(action, _)] = await _language_forms(stack, case_id)
    page = f"/sagsbehandler/sager/{case_id}"
    for fields in ({"language": "de"}, {"language": ""}, {}):
        resp = await form_post(stack, page, action, **fields)
        assert resp.status == 422, fields
        html = await resp.text()
        assert "Vælg et af sprogene på listen" in html
        assert "Sproget er ikke ændret" in html
        assert 'aria-invalid="true"' in html
    assert await language_of(stack, w.persons["anna"]) == "da"
    assert await language_entries(stack, case_id) == []
    receipt = await receipt_for(stack, w.phones["anna"])
    assert receipt.startswith(opening("da", "receipt")), receipt


async def test_a_case_i_may_not_see_is_not_found(stack: Stack, logins: dict[str, Login]) -> None:
    """Lars (another team) gets 404 for Anna's case; a participant of another case is 404 too."""
    w = stack.world
    await staff_login(stack, logins["mette"])
    [(action, _)] = await _language_forms(stack, w.cases["anna"])
    [(_, carl)] = await _language_forms(stack, w.cases["carl"])
    # Carl is on his own case, not on Anna's: the same 404 as an unknown id.
    foreign = action.rsplit("/deltagere/", 1)[0] + f"/deltagere/{carl}/sprog"
    resp = await form_post(stack, "/sagsbehandler/sager", foreign, language="en")
    assert resp.status == 404
    stack.client.session.cookie_jar.clear()  # a fresh browser

    await staff_login(stack, logins["lars"])
    resp = await form_post(stack, "/sagsbehandler/sager", action, language="en")
    assert resp.status == 404
    assert "Anna" not in await resp.text()
    assert await language_of(stack, w.persons["anna"]) == "da"
    assert await language_of(stack, w.persons["carl"]) == "da"
    assert await language_entries(stack, w.cases["anna"]) == []


async def test_the_form_needs_the_csrf_token(stack: Stack, logins: dict[str, Login]) -> None:
    """Without the session's token the POST is refused (403) before anything changes."""
    w = stack.world
    await staff_login(stack, logins["mette"])
    [(action, _)] = await _language_forms(stack, w.cases["anna"])
    resp = await stack.client.post(
        action, data={"language": "en", "csrf": "forged"}, allow_redirects=False
    )
    assert resp.status == 403
    assert await language_of(stack, w.persons["anna"]) == "da"


async def _choose(stack: Stack, lang: str, page: str = "/borger/", **extra: str) -> ClientResponse:
    """Press a language in the secure inbox's header (the form's own CSRF token)."""
    html = await (await stack.client.get(page)).text()
    assert 'action="/borger/sprog"' in html
    data = {"csrf": csrf_of(html), "lang": lang, "next": page, **extra}
    return await stack.client.post("/borger/sprog", data=data, allow_redirects=False)


async def test_the_familys_choice_in_the_inbox_is_also_their_sms_language(stack: Stack) -> None:
    """Anna picks Українська: the page says so, persons.language is uk, journalised, and the
    next receipt that reaches the gateway is Ukrainian."""
    w = stack.world
    await citizen_login(stack, w.phones["anna"])
    html = await (await stack.client.get("/borger/")).text()
    assert "Vi skriver også til dig på dansk i SMS." in html

    resp = await _choose(stack, "uk")
    assert resp.status == 303
    assert resp.headers["Location"] == "/borger/"
    html = await (await stack.client.get("/borger/")).text()
    assert '<html lang="uk"' in html
    assert "Ми також пишемо вам SMS українською мовою." in html
    assert "Щоб змінити мову" not in html  # page and SMS agree: no hint to change

    assert await language_of(stack, w.persons["anna"]) == "uk"
    entries = await language_entries(stack, w.cases["anna"])
    assert [(e.subject, e.actor) for e in entries] == [
        (
            "Familien (i den sikre indbakke): SMS til en deltager skrives nu på ukrainsk"
            " (før: dansk)",
            "citizen",
        )
    ]
    receipt = await receipt_for(stack, w.phones["anna"])
    assert receipt.startswith(opening("uk", "receipt")), receipt


async def test_a_shared_phone_changes_everyone_it_speaks_for(stack: Stack) -> None:
    """Eva and Frank share a phone (SMS-code login): both get English, each journalised."""
    w = stack.world
    await citizen_login(stack, w.phones["shared_same"])
    thread_page = "/borger/"
    resp = await _choose(stack, "en", thread_page)
    assert resp.status == 303
    assert await language_of(stack, w.persons["eva"]) == "en"
    assert await language_of(stack, w.persons["frank"]) == "en"
    assert await language_of(stack, w.persons["anna"]) == "da"
    assert len(await language_entries(stack, w.cases["eriksen"])) == 2


async def test_a_bad_language_or_address_from_the_inbox_changes_nothing(stack: Stack) -> None:
    """lang=de: 422 with a plain message, nothing stored; a foreign next goes to the inbox."""
    w = stack.world
    await citizen_login(stack, w.phones["anna"])
    for bad in ("de", "", "DA"):
        resp = await _choose(stack, bad)
        assert resp.status == 422, bad
        html = await resp.text()
        assert "Det sprog kan vi ikke skrive på." in html
        assert "Intet er ændret." in html
    assert await language_of(stack, w.persons["anna"]) == "da"
    assert await language_entries(stack, w.cases["anna"]) == []
    resp = await _choose(stack, "en", next="//evil.example/borger/")
    assert resp.headers["Location"] == "/borger/"
    receipt = await receipt_for(stack, w.phones["bo"])
    assert receipt.startswith(opening("da", "receipt")), receipt


async def test_without_a_login_the_choice_sets_nothing(stack: Stack) -> None:
    """Not logged in: the header keeps its links, and a POST goes to the login page."""
    html = await (await stack.client.get("/borger/log-ind")).text()
    assert 'href="?lang=uk"' in html
    assert 'action="/borger/sprog"' not in html
    resp = await stack.client.post(
        "/borger/sprog", data={"csrf": csrf_of(html), "lang": "uk"}, allow_redirects=False
    )
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/borger/log-ind")
    assert await language_of(stack, stack.world.persons["anna"]) == "da"

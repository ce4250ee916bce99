"""Reply templates in the families' languages: one too long for SMS in its language is refused,
naming the language, while the same words in Danish fit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.errors import BadInput
from bot.base.staff import StaffUser
from bot.domain import reply_templates
from bot.store.schema.core import persons
from bot.store.schema.pages import web_reply_templates
from channels.smstext import DEFAULT_MAX_SEGMENTS
from tests.harness import Stack
from tests.web.conftest import Login, form_post, staff_login

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DANISH = (
    "Hej {fornavn}. Tak for din besked. Jeg ser på de papirer, du har sendt, og taler med mine"
    " kolleger i jobcentret. Jeg svarer dig senest {dato}. Skriv igen, hvis det haster."
    " Hilsen {sagsbehandler}"
)
UKRAINIAN = (
    "Вітаю, {fornavn}. Дякую за повідомлення. Я перегляну документи, які ви надіслали, і"
    " поговорю з колегами з центру зайнятості. Відповім вам до {dato}. Якщо це терміново,"
    " напишіть ще раз. З повагою, {sagsbehandler}"
)
SHORT_UKRAINIAN = "Вітаю, {fornavn}. Дякую за повідомлення. Відповім до {dato}. {sagsbehandler}"


def test_the_same_words_fit_in_danish_but_not_in_ukrainian() -> None:
    """Danish (GSM-7) takes two segments; the Ukrainian (UCS-2) four: refused, saying Ukrainian."""
    assert reply_templates.check_segments(DANISH, DEFAULT_MAX_SEGMENTS) == "da"
    with pytest.raises(BadInput) as err:
        reply_templates.check_segments(UKRAINIAN, DEFAULT_MAX_SEGMENTS)
    assert err.value.code == "template_too_long"
    assert err.value.message.startswith("Skabelonen på ukrainsk fylder 4 SMS'er (UCS-2")
    assert "højst 3 er tilladt" in err.value.message
    assert reply_templates.check_segments(SHORT_UKRAINIAN, DEFAULT_MAX_SEGMENTS) == "uk"
    assert reply_templates.written_in("مرحبا {fornavn}") == "ar"
    for _title, body in reply_templates.DEFAULTS:
        assert reply_templates.check_segments(body, 1) == "da"


async def _count(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        q = select(func.count()).select_from(web_reply_templates)
        return int((await conn.execute(q)).scalar_one())


async def test_a_ukrainian_template_over_the_limit_is_refused_and_nothing_is_written(
    stack: Stack,
) -> None:
    """Saving: the Danish and the short Ukrainian template are kept; the long one is refused."""
    lead = StaffUser(stack.world.hanne, stack.world.tenant_id, stack.world.team_children, "lead")
    await reply_templates.list_templates(stack.svc, lead)  # seeded
    before = await _count(stack)
    await reply_templates.save_template(stack.svc, lead, None, title="Papirer", body=DANISH)
    await reply_templates.save_template(
        stack.svc, lead, None, title="Відповім (uk)", body=SHORT_UKRAINIAN
    )
    with pytest.raises(BadInput) as err:
        await reply_templates.save_template(
            stack.svc, lead, None, title="Папери (uk)", body=UKRAINIAN
        )
    assert err.value.code == "template_too_long" and "ukrainsk" in err.value.message
    assert await _count(stack) == before + 2


@sqlite_only
async def test_the_template_page_names_the_language(
    stack: Stack, logins: dict[str, Login], database_url: Any
) -> None:
    """The team lead's form answers 400 and says which language is too long; a Ukrainian
    template is offered in a thread with its date in Ukrainian."""
    lead = StaffUser(stack.world.hanne, stack.world.tenant_id, stack.world.team_children, "lead")
    await reply_templates.save_template(stack.svc, lead, None, title="uk", body=SHORT_UKRAINIAN)
    await stack.sms(stack.world.phones["anna"], "Добрий день")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await staff_login(stack, logins["mette"])
    thread = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    assert "Вітаю, Anna. Дякую за повідомлення. Відповім до 25 лютого (вівторок). Mette" in thread
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["hanne"])
    resp = await form_post(
        stack, "/sagsbehandler/skabeloner/ny", title="Папери", body=UKRAINIAN, active="1"
    )
    assert resp.status == 400
    page = await resp.text()
    assert "Skabelonen på ukrainsk fylder 4 SMS&#39;er" in page


# -- four languages per template (0034_template_languages) ----------------------------------

LONG_ARABIC = (
    "مرحبا {fornavn}. شكرا على رسالتك. سأنظر في الأوراق التي أرسلتها وأتحدث مع زملائي في"
    " مركز العمل. سأرد عليك قبل {dato}. اكتب مرة أخرى إذا كان الأمر عاجلا. مع التحية"
    " {sagsbehandler}. أنا أعمل على قضيتك كل يوم وسأخبرك بكل جديد."
)
SHORT_ARABIC = "مرحبا {fornavn}. سأرد عليك قبل {dato}. {sagsbehandler}"


def _lead(stack: Stack) -> StaffUser:
    return StaffUser(stack.world.hanne, stack.world.tenant_id, stack.world.team_children, "lead")


def _names(body: str) -> set[str]:
    return {name for _, name in reply_templates._fields(body) if name}


async def _rows(stack: Stack, *where: Any) -> list[Any]:
    async with stack.svc.read() as conn:
        q = select(web_reply_templates).where(*where).order_by(web_reply_templates.c.language)
        return list((await conn.execute(q)).all())


async def test_the_six_defaults_exist_in_four_languages_and_each_fits(stack: Stack) -> None:
    """Seeded: every default title in da, en, uk and ar, same place in the list, same
    variables as the Danish, each a valid template within the segment limit of its language."""
    items = await reply_templates.list_templates(stack.svc, _lead(stack))
    groups = reply_templates.versions(items)
    assert [title for title, _ in groups] == [title for title, _ in reply_templates.DEFAULTS]
    for title, group in groups:
        assert [t.language for t in group] == ["da", "en", "uk", "ar"]
        assert len({t.position for t in group}) == 1
        danish = group[0].body
        assert danish == dict(reply_templates.DEFAULTS)[title]
        for t in group:
            assert _names(t.body) == _names(danish), (title, t.language)
            assert reply_templates.check(title, t.body) == (title, t.body)
            assert reply_templates.check_segments(t.body, DEFAULT_MAX_SEGMENTS, t.language)
            if t.language in ("uk", "ar"):
                assert reply_templates.written_in(t.body) == t.language
    # The picker: one version per title, the family's language first.
    picked = reply_templates.for_language(items, "ar")
    assert len(picked) == len(reply_templates.DEFAULTS)
    assert all(ok and t.language == "ar" for t, ok in picked)


async def test_a_too_long_arabic_version_is_refused_naming_arabic(stack: Stack) -> None:
    """The Danish version fits; the long Arabic one (UCS-2) does not: refused with
    template_too_long naming Arabic, nothing written; a short Arabic joins the template."""
    lead = _lead(stack)
    await reply_templates.list_templates(stack.svc, lead)
    before = await _count(stack)
    await reply_templates.save_template(stack.svc, lead, None, title="Ferie", body=DANISH)
    with pytest.raises(BadInput) as err:
        await reply_templates.save_template(
            stack.svc, lead, None, title="Ferie", body=LONG_ARABIC, language="ar"
        )
    assert err.value.code == "template_too_long"
    assert err.value.message.startswith("Skabelonen på arabisk fylder")
    assert await _count(stack) == before + 1
    with pytest.raises(BadInput) as bad:
        await reply_templates.save_template(
            stack.svc, lead, None, title="Ferie", body=SHORT_ARABIC, language="fr"
        )
    assert bad.value.code == "bad_language"
    await reply_templates.save_template(
        stack.svc, lead, None, title="Ferie", body=SHORT_ARABIC, language="ar"
    )
    with pytest.raises(BadInput) as dup:
        await reply_templates.save_template(
            stack.svc, lead, None, title="Ferie", body=SHORT_ARABIC, language="ar"
        )
    assert dup.value.code == "duplicate_title"
    rows = await _rows(stack, web_reply_templates.c.title == "Ferie")
    assert [(r.language, r.body) for r in rows] == [("ar", SHORT_ARABIC), ("da", DANISH)]
    assert rows[0].position == rows[1].position


async def test_a_ukrainian_familys_thread_offers_the_ukrainian_template(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Anna reads Ukrainian: the picker offers the Ukrainian versions with a Ukrainian date,
    and a template that exists only in Danish is offered in Danish, marked and said so."""
    lead = _lead(stack)
    await reply_templates.list_templates(stack.svc, lead)  # seeded
    await reply_templates.save_template(
        stack.svc, lead, None, title="Kun dansk", body="Hej {fornavn}. Hilsen {sagsbehandler}"
    )
    async with stack.svc.write() as conn:
        await conn.execute(
            persons.update()
            .where(persons.c.id == stack.world.persons["anna"])
            .values(language="uk")
        )
    await stack.sms(stack.world.phones["anna"], "Добрий день")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await staff_login(stack, logins["mette"])
    page = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    uk = reply_templates.TRANSLATIONS["uk"]["Tak, jeg vender tilbage"]
    expected = reply_templates.fill(
        uk, {"fornavn": "Anna", "sagsbehandler": "Mette", "dato": "25 лютого (вівторок)"}
    )
    assert f'data-text="{expected}"' in page, re.findall(r"<option[^>]*>[^<]*", page)
    assert "Hej Anna. Tak for din besked" not in page
    assert "På ukrainsk, med navn" in page
    assert "Skabeloner, der ikke findes på ukrainsk, står på dansk." in page
    assert 'data-text="Hej Anna. Hilsen Mette">Kun dansk (dansk)</option>' in page


async def test_the_lead_edits_and_adds_a_language_version_on_the_page(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Hanne changes the Ukrainian text of a default (the Danish stays), adds an Arabic text
    to her own template from the "Tilføj" link; a too-long Arabic text answers 400 naming
    Arabic and writes nothing."""
    lead = _lead(stack)
    await reply_templates.list_templates(stack.svc, lead)
    await reply_templates.save_template(stack.svc, lead, None, title="Ferie", body=DANISH)
    [uk] = await _rows(
        stack,
        web_reply_templates.c.title == "Bekræft møde",
        web_reply_templates.c.language == "uk",
    )
    await staff_login(stack, logins["hanne"])
    listing = await (await stack.client.get("/sagsbehandler/skabeloner")).text()
    assert (
        f'href="/sagsbehandler/skabeloner/{uk.id}" aria-describedby="skabelon-3">Ukrainsk</a>'
        in (listing)
    )
    add = "/sagsbehandler/skabeloner/ny?titel=Ferie&amp;sprog=ar"
    assert f'<a href="{add}" aria-describedby="skabelon-7">arabisk</a>' in listing
    form = await (await stack.client.get(f"/sagsbehandler/skabeloner/{uk.id}")).text()
    assert '<option value="uk" selected>Ukrainsk</option>' in form
    changed = "Вітаю, {fornavn}. Чекаю на вас {dato}. {sagsbehandler}"
    path = f"/sagsbehandler/skabeloner/{uk.id}"
    resp = await form_post(
        stack, path, title="Bekræft møde", language="uk", body=changed, active="1"
    )
    assert resp.status == 303
    rows = await _rows(stack, web_reply_templates.c.title == "Bekræft møde")
    assert {r.language: r.body for r in rows} == {
        "da": dict(reply_templates.DEFAULTS)["Bekræft møde"],
        "en": reply_templates.TRANSLATIONS["en"]["Bekræft møde"],
        "uk": changed,
        "ar": reply_templates.TRANSLATIONS["ar"]["Bekræft møde"],
    }
    new = await (await stack.client.get(add.replace("&amp;", "&"))).text()
    assert 'value="Ferie"' in new and '<option value="ar" selected>Arabisk</option>' in new
    before = await _count(stack)
    resp = await form_post(
        stack,
        "/sagsbehandler/skabeloner/ny",
        title="Ferie",
        language="ar",
        body=LONG_ARABIC,
        active="1",
    )
    assert resp.status == 400
    assert "Skabelonen på arabisk fylder" in await resp.text()
    assert await _count(stack) == before
    resp = await form_post(
        stack,
        "/sagsbehandler/skabeloner/ny",
        title="Ferie",
        language="ar",
        body=SHORT_ARABIC,
        active="1",
    )
    assert resp.status == 303
    rows = await _rows(stack, web_reply_templates.c.title == "Ferie")
    assert [(r.language, r.body) for r in rows] == [("ar", SHORT_ARABIC), ("da", DANISH)]

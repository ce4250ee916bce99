"""Reply templates in the families' languages: one too long for SMS in its language is refused,
naming the language, while the same words in Danish fit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.errors import BadInput
from bot.base.staff import StaffUser
from bot.domain import reply_templates
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

"""The family's language at the gateway: receipts, reminders and STOP/START in Ukrainian and
Arabic; a language we have no texts for gets Danish, and the journal says so."""

from __future__ import annotations

from sqlalchemy import update

from bot.domain.consent import proactive_allowed
from bot.store.schema.core import persons
from tests.harness import Stack

from .conftest import at, cph, journal_subjects


async def _speaks(stack: Stack, who: str, language: str) -> None:
    """The case system records the person's language (as the integration API does)."""
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons[who])
            .values(language=language)
        )


async def _book(stack: Stack) -> None:
    """A meeting Tuesday 25 February 09:00 at the town hall: reminded Monday 10:00."""
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/appointments",
        json={"starts_at": cph(2025, 2, 25, 9, 0).isoformat(), "place": "Rådhuset, lokale 3"},
    )
    assert resp.status == 201, await resp.text()


async def test_a_ukrainian_family_gets_receipt_reminder_and_stop_in_ukrainian(stack: Stack) -> None:
    """What reached the gateway: a Ukrainian receipt with a Ukrainian date, a reminder with time
    and place, the answer to ТАК, and a STOP confirmation that says СТАРТ (which then works)."""
    anna = stack.world.phones["anna"]
    await _speaks(stack, "anna", "uk")
    await _book(stack)

    await stack.sms(anna, "Добрий день, коли буде відповідь?")
    await stack.drain()
    assert await stack.sent_to(anna) == [
        "Дякуємо за повідомлення. Mette відповість вам до 25 лютого (вівторок)."
    ]

    await at(stack, cph(2025, 2, 24, 10, 0))
    reminder = (
        "Нагадування: у вас зустріч із Københavns Kommune 25 лютого (вівторок) о 09:00. "
        "Місце: Rådhuset, lokale 3. Відповідайте: ТАК, ПЕРЕНЕСТИ або СКАСУВАТИ."
    )
    assert (await stack.sent_to(anna))[-1] == reminder

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "Так")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Дякуємо. Ми записали, що ви прийдете 25 лютого (вівторок) о 09:00."
    )

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "СТОП")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Ви більше не отримуватимете SMS із нагадуваннями та новинами про вашу справу. "
        "Відповіді на ваші повідомлення надходитимуть і далі. "
        "Щоб знову їх отримувати, напишіть СТАРТ."
    )
    async with stack.svc.read() as conn:
        assert not await proactive_allowed(conn, stack.world.persons["anna"])

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "старт")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Ви знову отримуватимете SMS із нагадуваннями та новинами про вашу справу. "
        "Щоб зупинити, напишіть СТОП."
    )
    async with stack.svc.read() as conn:
        assert await proactive_allowed(conn, stack.world.persons["anna"])
    subjects = await journal_subjects(stack, stack.world.cases["anna"])
    assert not [s for s in subjects if "findes ikke i SMS-teksterne" in s]


async def test_an_arabic_family_stops_in_arabic(stack: Stack) -> None:
    """توقف stops reminders; the confirmation is Arabic and names «ابدأ»."""
    anna = stack.world.phones["anna"]
    await _speaks(stack, "anna", "ar")
    await stack.sms(anna, "توقف")
    await stack.drain()
    assert await stack.sent_to(anna) == [
        "لن تصلك بعد الآن رسائل SMS بالتذكيرات والأخبار عن ملفك. وستظل تصلك الردود على رسائلك. "
        "لتلقيها من جديد، أرسل «ابدأ»."
    ]
    async with stack.svc.read() as conn:
        assert not await proactive_allowed(conn, stack.world.persons["anna"])


async def test_a_language_without_texts_gets_danish_and_the_journal_says_so(stack: Stack) -> None:
    """Somali (no catalogue): the receipt and the reminder are Danish, dates too, and each
    one's journal entry says the language was missing."""
    anna = stack.world.phones["anna"]
    await _speaks(stack, "anna", "so")
    await _book(stack)
    await stack.sms(anna, "Hej, hvornår hører jeg fra jer?")
    await stack.drain()
    assert await stack.sent_to(anna) == [
        "Tak for din besked. Mette svarer dig senest tirsdag den 25. februar."
    ]
    await at(stack, cph(2025, 2, 24, 10, 0))
    assert (await stack.sent_to(anna))[-1].startswith(
        "Påmindelse: Du har et møde med Københavns Kommune tirsdag den 25. februar kl. 09:00."
    )
    note = "sproget «so» findes ikke i SMS-teksterne, så beskeden er sendt på dansk"
    subjects = await journal_subjects(stack, stack.world.cases["anna"])
    assert f"Automatisk kvittering til borger; {note}" in subjects
    assert f"Påmindelse om møde til borger; {note}" in subjects

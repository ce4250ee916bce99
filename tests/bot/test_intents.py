"""Natural intents through the real webhook: keywords act, own words act or ask first, urgency wins."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.base.clock import COPENHAGEN
from bot.base.ids import new_id
from bot.domain import intents, texts
from bot.domain.inbound_batch import BatchedSms, file_batch
from bot.domain.readings import default_triage
from bot.store.schema.consent import consent_records
from bot.store.schema.core import (
    journal_entries,
    messages,
    persons,
    staff_notices,
    triage_terms,
)
from bot.store.schema.intents import intent_confirmations
from bot.store.schema.scheduler import appointments
from channels.base import InboundSms
from journal.verify import verify
from scheduler.runner import run_due
from tests.harness import MUNICIPALITY, Stack, message_sid, seed_families

TUESDAY = date(2025, 2, 25)  # the meeting: Tuesday 25 February 09:00, reminded Monday 10:00
MEETING = datetime(2025, 2, 25, 9, 0, tzinfo=COPENHAGEN)
MONDAY = datetime(2025, 2, 24, 10, 5, tzinfo=COPENHAGEN)

# Each intent in each language: the keyword our texts ask for (or the reader's own
# keyword, as AFMELD and UNSUBSCRIBE), and the way a family says it in its own words.
KEYWORDS = {
    "da": {"STATUS": "Status", "OK": "ok", "FLYT": "FLYT", "AFLYS": "aflys", "STOP": "AFMELD"},
    "en": {
        "STATUS": "status",
        "OK": "OK",
        "FLYT": "MOVE",
        "AFLYS": "Cancel",
        "STOP": "unsubscribe",
    },
    "uk": {
        "STATUS": "СТАТУС",
        "OK": "ТАК",
        "FLYT": "ПЕРЕНЕСТИ",
        "AFLYS": "СКАСУВАТИ",
        "STOP": "СТОП",
    },
    "ar": {"STATUS": "الحالة", "OK": "نعم", "FLYT": "تأجيل", "AFLYS": "إلغاء", "STOP": "توقف"},
}
START_WORDS = {"da": "start", "en": "START", "uk": "СТАРТ", "ar": "ابدأ"}
OWN_WORDS = {
    "da": {
        "STATUS": "hvordan går det med min sag?",
        "OK": "fint, vi ses",
        "FLYT": "kan vi tage det en anden dag",
        "AFLYS": "kan ikke komme tirsdag, aflys",
        "STOP": "stop med at sende mig beskeder",
        "START": "I må gerne sende mig sms igen",
    },
    "en": {
        "STATUS": "what is happening with my case",
        "OK": "we'll be there",
        "FLYT": "can we do another day",
        "AFLYS": "I can't come on tuesday",
        "STOP": "please stop sending these",
        "START": "you can text me again",
    },
    "uk": {
        "STATUS": "як справи з моєю справою?",
        "OK": "добре, будемо",
        "FLYT": "можна перенести на інший день",
        "AFLYS": "не зможу прийти у вівторок",
        "STOP": "будь ласка, припиніть надсилати повідомлення",
        "START": "можете знову надсилати повідомлення",
    },
    "ar": {
        "STATUS": "شو صار بملفي",
        "OK": "رح اجي",
        "FLYT": "بدي غير الموعد",
        "AFLYS": "ما رح اقدر اجي",
        "STOP": "ما بدي رسائل",
        "START": "ابعتولي مره ثانيه",
    },
}
YES = {"da": "JA", "en": "yes I do", "uk": "ТАК", "ar": "نعم"}


async def _speaks(stack: Stack, language: str) -> None:
    async with stack.svc.write() as conn:
        await conn.execute(
            update(persons)
            .where(persons.c.id == stack.world.persons["anna"])
            .values(language=language)
        )


async def _meeting(stack: Stack, *, reminded: bool = True) -> None:
    """Anna's timeline started, a meeting Tuesday 09:00, and (Monday 10:00) its reminder sent."""
    cid = stack.world.cases["anna"]
    assert (await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})).status == 201
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/appointments", json={"starts_at": MEETING.isoformat()}
    )
    assert resp.status == 201, await resp.text()
    if reminded:
        stack.clock.set(MONDAY)
        await run_due(stack.svc)
    await stack.drain()


async def _say(stack: Stack, body: str) -> str | None:
    """Anna texts ``body``; what she was sent back (None: nothing)."""
    anna = stack.world.phones["anna"]
    stack.clock.set(stack.clock.now() + timedelta(minutes=1))  # each SMS its own minute
    before = len(await stack.sent_to(anna))
    assert (await stack.sms(anna, body)).status == 200
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) <= before + 1, sent[before:]
    return sent[-1] if len(sent) > before else None


async def _tasks(stack: Stack) -> list[str]:
    return [t["kind"] for t in (await (await stack.api("GET", "/api/v1/tasks")).json())["items"]]


async def _questions(stack: Stack) -> list[tuple[str, str]]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(intent_confirmations.c.intent, intent_confirmations.c.state).order_by(
                intent_confirmations.c.asked_at
            )
        )
        return [(r.intent, r.state) for r in rows]


async def _consent(stack: Stack) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(consent_records.c.state)
            .where(consent_records.c.person_id == stack.world.persons["anna"])
            .order_by(consent_records.c.at)
        )
        return [str(s) for s in rows.scalars()]


async def _last_in(stack: Stack) -> Any:
    async with stack.svc.read() as conn:
        return (
            await conn.execute(
                select(messages)
                .where(messages.c.direction == "in")
                .order_by(messages.c.created_at.desc(), messages.c.id.desc())
                .limit(1)
            )
        ).one()


async def _kinds(stack: Stack) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.kind)
            .where(journal_entries.c.case_id == stack.world.cases["anna"])
            .order_by(journal_entries.c.seq)
        )
        return [str(k) for k in rows.scalars()]


def _t(lang: str, key: str, **values: Any) -> str:
    return texts.text(lang, key, **values)


def _when(lang: str) -> dict[str, str]:
    return {"date": texts.long_date(TUESDAY, lang), "time": texts.clock_time(MEETING, lang)}


def _status_prefix(lang: str) -> str:
    return texts.template(lang, "status").split("%(step)s")[0]


@pytest.mark.parametrize("lang", ["da", "en", "uk", "ar"])
async def test_every_keyword_acts_at_once(stack: Stack, lang: str) -> None:
    """STATUS, OK, FLYT, AFLYS, STOP (also AFMELD/UNSUBSCRIBE) and START, as the one word,
    act at once in each language: answered, a task, consent recorded; nothing is asked."""
    await _speaks(stack, lang)
    await _meeting(stack)
    words = KEYWORDS[lang]
    assert (await _say(stack, words["STATUS"]) or "").startswith(_status_prefix(lang))
    assert not (await _last_in(stack)).awaiting_reply
    assert await _say(stack, words["OK"]) == _t(lang, "confirmed", **_when(lang))
    assert (await _say(stack, words["FLYT"]) or "").startswith(
        _t(lang, "move_asked", date="@").split("@")[0]
    )
    assert (await _say(stack, words["AFLYS"]) or "").startswith(
        _t(lang, "cancel_asked", date="@").split("@")[0]
    )
    assert sorted(await _tasks(stack)) == ["appointment_cancel", "appointment_move"]
    assert await _say(stack, words["STOP"]) == _t(lang, "stopped")
    assert await _consent(stack) == ["withdrawn"]
    assert await _say(stack, START_WORDS[lang]) == _t(lang, "started")
    assert await _consent(stack) == ["withdrawn", "given"]
    assert await _questions(stack) == []


@pytest.mark.parametrize("lang", ["da", "en", "uk", "ar"])
async def test_own_words_act_when_harmless_and_ask_first_when_not(stack: Stack, lang: str) -> None:
    """STATUS, OK after the reminder and FLYT (a task) in own words act like the keyword;
    cancelling, opting out and back in are asked once ("… Svar JA"); each question lapses
    when the family writes something else, and the journal says so."""
    await _speaks(stack, lang)
    await _meeting(stack)
    said = OWN_WORDS[lang]
    assert (await _say(stack, said["STATUS"]) or "").startswith(_status_prefix(lang))
    assert (await _last_in(stack)).awaiting_reply  # own words: a caseworker reads it too
    assert await _say(stack, said["OK"]) == _t(lang, "confirmed", **_when(lang))
    assert (await _say(stack, said["FLYT"]) or "").startswith(
        _t(lang, "move_asked", date="@").split("@")[0]
    )
    assert await _tasks(stack) == ["appointment_move"]
    assert await _say(stack, said["AFLYS"]) == _t(lang, "confirm_cancel", **_when(lang))
    assert (await _last_in(stack)).awaiting_reply  # a caseworker still reads it
    assert await _say(stack, said["STOP"]) == _t(lang, "confirm_stop")
    assert await _say(stack, said["START"]) == _t(lang, "confirm_start")
    assert await _tasks(stack) == ["appointment_move"]  # nothing cancelled
    assert await _consent(stack) == []  # nothing stopped
    assert await _questions(stack) == [("AFLYS", "lapsed"), ("STOP", "lapsed"), ("START", "open")]
    kinds = await _kinds(stack)
    assert kinds.count("intent_asked") == 3 and kinds.count("intent_lapsed") == 2
    assert (await verify(stack.config.database_url)).ok


@pytest.mark.parametrize("lang", ["da", "en", "uk", "ar"])
async def test_an_opt_out_in_own_words_acts_on_the_yes(stack: Stack, lang: str) -> None:
    """ "Please stop sending these" → "Vil du stoppe …? Svar JA" → the yes (JA, "yes I do",
    ТАК, نعم) opts the number out, confirms, and journalises question and answer."""
    await _speaks(stack, lang)
    assert await _say(stack, OWN_WORDS[lang]["STOP"]) == _t(lang, "confirm_stop")
    assert await _consent(stack) == []
    assert await _say(stack, YES[lang]) == _t(lang, "stopped")
    assert await _consent(stack) == ["withdrawn"]
    assert await _questions(stack) == [("STOP", "confirmed")]
    async with stack.svc.read() as conn:
        row = (await conn.execute(select(intent_confirmations))).one()
    assert row.answer_id == (await _last_in(stack)).id
    kinds = await _kinds(stack)
    assert kinds.index("intent_asked") < kinds.index("consent_opted_out")
    assert "intent_confirmed" in kinds


async def test_a_cancellation_in_own_words_waits_for_ja_then_acts(stack: Stack) -> None:
    """ "Kan ikke komme tirsdag, aflys": asked once; "ja tak" cancels as AFLYS would (a task
    for the caseworker, and the answer); question and answer are on the case."""
    await _meeting(stack, reminded=False)
    assert await _say(stack, "kan ikke komme tirsdag, aflys") == (
        "Vil du aflyse mødet tirsdag den 25. februar kl. 09:00? Svar JA."
    )
    assert await _tasks(stack) == []
    assert (await _say(stack, "ja tak") or "").startswith(
        "Tak. Vi har sagt til din sagsbehandler, at du vil aflyse."
    )
    assert await _tasks(stack) == ["appointment_cancel"]
    assert await _questions(stack) == [("AFLYS", "confirmed")]
    kinds = await _kinds(stack)
    assert kinds.index("intent_asked") < kinds.index("appointment_change_asked")
    assert kinds.index("appointment_change_asked") < kinds.index("intent_confirmed")
    assert (await verify(stack.config.database_url)).ok


async def test_a_question_lapses_after_a_day_and_a_late_yes_cancels_nothing(stack: Stack) -> None:
    """A day without an answer: the question lapses; a late "JA" is an ordinary message."""
    await _meeting(stack, reminded=False)
    assert (await _say(stack, "jeg er syg og når det ikke") or "").startswith("Vil du aflyse")
    stack.clock.set(stack.clock.now() + intents.LIFETIME + timedelta(minutes=1))
    reply = await _say(stack, "JA")  # no receipt: the first message still awaits its answer
    assert reply is None or reply.startswith("Tak for din besked.")
    assert await _tasks(stack) == []
    assert await _questions(stack) == [("AFLYS", "lapsed")]
    assert "intent_lapsed" in await _kinds(stack)


async def test_urgency_beats_stop(stack: Stack) -> None:
    """ "stop — han står uden for døren med en kniv" is urgent and paged, not an opt-out,
    and a question waiting for a yes lapses."""
    assert (await _say(stack, "please stop sending these") or "").startswith("Vil du stoppe")
    reply = await _say(stack, "stop — han står uden for døren med en kniv")
    assert reply is not None and reply.startswith("Tak for din besked.")  # not "stopped"
    msg = await _last_in(stack)
    assert msg.urgent and msg.case_id == stack.world.cases["anna"]
    async with stack.svc.read() as conn:
        pages = (
            await conn.execute(
                select(staff_notices.c.kind).where(staff_notices.c.message_id == msg.id)
            )
        ).all()
    assert pages
    assert await _consent(stack) == []
    assert await _questions(stack) == [("STOP", "lapsed")]
    await _say(stack, "JA")  # a yes now answers nothing
    assert await _consent(stack) == []


async def test_an_ordinary_message_is_not_read_as_an_intent(stack: Stack) -> None:
    """Papers sent, a question about a bill: the receipt, awaiting a caseworker; nothing asked."""
    await _meeting(stack)
    for body in ("jeg har sendt lønsedlerne nu", "kan vi tale om regningen fra tandlægen"):
        reply = await _say(stack, body)
        assert reply is None or reply.startswith("Tak for din besked.")
        assert (await _last_in(stack)).awaiting_reply
    assert await _questions(stack) == []
    assert await _tasks(stack) == []
    assert await _consent(stack) == []


def test_a_yes_is_a_yes_and_a_no_or_another_wish_is_not() -> None:
    """JA, YES, ТАК, نعم and plain yeses count; "nej", "ja men ikke nu", a new wish do not."""
    for body in ("JA", "ja tak", "Ja det vil jeg gerne", "yes I do", "так", "نعم", " Ok! "):
        assert intents.is_yes(body, intents.reading(body).intent), body
    for body in (
        *("nej", "ja men ikke nu", "ja, men kan vi tage det en anden dag", "no", ""),
        *("please call me", "ok men hvem betaler regningen", "ok?", "так, але не зараз"),
    ):
        assert not intents.is_yes(body, intents.reading(body).intent), body


async def test_a_municipality_without_words_of_its_own_reads_an_sms_once(stack: Stack) -> None:
    """No words or model of its own: the dispatch triage is the intent reading's, read once
    (with words of its own, see the test of the municipality's own urgent word below)."""
    body = f"Hej, kan I ringe mig op? Mvh {new_id()}"
    before = default_triage.cache_info()
    await _say(stack, body)
    after = default_triage.cache_info()
    assert after.misses == before.misses + 1 and after.hits > before.hits


async def test_a_batch_leaves_an_sms_to_a_waiting_question_to_be_filed_alone(stack: Stack) -> None:
    """On PostgreSQL a batch files the Eriksens' plain SMS but leaves Anna's (a question waits on her
    number) to be filed alone, where it settles the question; nothing is stopped meanwhile."""
    assert (await _say(stack, "please stop sending these") or "").startswith("Vil du stoppe")

    def item(who: str) -> BatchedSms:
        phone = stack.world.phones[who]
        sms = InboundSms(
            provider_id=message_sid(), sender=phone, recipient=MUNICIPALITY, body="hej igen"
        )
        return BatchedSms(sms, "twilio", MUNICIPALITY, phone, stack.svc.blind_index(phone))

    results = await file_batch(stack.svc, [item("anna"), item("shared_same")])
    if stack.config.database_url.startswith("postgresql"):
        assert results[0] is None and results[1] is not None
    else:
        assert results == [None, None]  # SQLite files every SMS alone
    assert await _questions(stack) == [("STOP", "open")]
    await _say(stack, "hej igen")
    assert await _questions(stack) == [("STOP", "lapsed")]
    assert await _consent(stack) == []


async def test_the_hooks_answer_in_a_batch_as_alone(stack: Stack) -> None:
    """On PostgreSQL one batch: Anna's "kan vi flytte mødet?" becomes a task for her meeting, the
    Eriksens' "hvordan går det med min sag?" gets their timeline, a new family's STATUS (no
    timeline) the receipt; each hook fetched once for all of them."""
    if not stack.config.database_url.startswith("postgresql"):
        pytest.skip("batches are PostgreSQL's")
    await _meeting(stack)
    eriksen = stack.world.cases["eriksen"]
    assert (await stack.api("POST", f"/api/v1/cases/{eriksen}/timeline", json={})).status == 201
    (new,) = await seed_families(stack.svc, stack.world, 1)
    phones = {"anna": stack.world.phones["anna"], "new": new}
    phones["shared_same"] = stack.world.phones["shared_same"]
    bodies = {
        "anna": "kan vi flytte mødet?",
        "new": "STATUS",
        "shared_same": "hvordan går det med min sag?",
    }
    items = []
    for who, body in bodies.items():
        phone = phones[who]
        sms = InboundSms(provider_id=message_sid(), sender=phone, recipient=MUNICIPALITY, body=body)
        items.append(BatchedSms(sms, "twilio", MUNICIPALITY, phone, stack.svc.blind_index(phone)))
    sent: list[str] = []
    engine = stack.svc.engine.sync_engine

    def count(*args: Any) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        results = await file_batch(stack.svc, items)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.outcome if r else None for r in results] == ["filed"] * 3
    assert sum("FROM appointments" in q for q in sent) == 1, sent
    assert sum("FROM milestones" in q for q in sent) == 1, sent
    await stack.drain()
    assert await _tasks(stack) == ["appointment_move"]
    anna = await stack.sent_to(phones["anna"])
    assert anna[-1].startswith(_t("da", "move_asked", date="@").split("@")[0])
    assert (await stack.sent_to(phones["new"]))[-1].startswith("Tak for din besked.")
    assert (await stack.sent_to(phones["shared_same"]))[-1].startswith(_status_prefix("da"))
    assert (await verify(stack.config.database_url)).ok


async def test_the_municipalitys_own_urgent_word_beats_a_wish_and_ok_waits_for_a_reminder(
    stack: Stack,
) -> None:
    """A wish with the municipality's own urgent word is urgent, never a task or a question;
    "fint, vi ses" confirms nothing before the meeting's reminder has gone."""
    async with stack.svc.write() as conn:
        await conn.execute(
            triage_terms.insert(),
            {
                "id": new_id(),
                "tenant_id": stack.world.tenant_id,
                "kind": "urgent",
                "term": "oversvømmelse",
            },
        )
    await _meeting(stack, reminded=False)
    for body in ("kan vi tage det en anden dag, oversvømmelse", "kan ikke komme, oversvømmelse"):
        await _say(stack, body)
        assert (await _last_in(stack)).urgent
    assert await _tasks(stack) == []
    assert await _questions(stack) == []
    await _say(stack, "fint, vi ses")
    async with stack.svc.read() as conn:
        confirmed = (await conn.execute(select(appointments.c.confirmed_at))).scalar_one()
    assert confirmed is None

"""Two triage levels (#16 point 2): *bekymring* goes first in the owner's inbox after the
urgent ones, answered the same day, nobody paged; every flag says why on the message
row (sealed) and in the journal. Through the real webhook and the web reply door."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.base.clock import COPENHAGEN
from bot.base.crypto import unseal
from bot.domain import citizen
from bot.domain.directory import add_participant, create_case, create_person
from bot.store.schema.core import cases, journal_entries, messages, staff_notices
from tests.harness import Stack

CONCERN = "jeg er så bekymret for min datter hun spiser ikke"
URGENT = "Det haster!"
PLAIN = "Hej, hvornår er næste møde?"


async def _family(stack: Stack, key: str, phone: str) -> str:
    """One more family on a case of Mette's (one case each: no "which case?")."""
    w = stack.world
    async with stack.svc.write() as c:
        person = await create_person(
            c, stack.svc, tenant_id=w.tenant_id, name=f"{key} Test", first_name=key, phone=phone
        )
        case_id = await create_case(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_children,
            team_id=w.team_children,
            owner_id=w.mette,
            number=f"2025-1{len(w.cases):02d}",
        )
        w.cases[key] = case_id
        await add_participant(
            c, stack.svc, tenant_id=w.tenant_id, case_id=case_id, person_id=person, role="party"
        )
    return phone


async def _last_in(stack: Stack, phone_owner_case: str) -> Any:
    async with stack.svc.read() as conn:
        return (
            await conn.execute(
                select(messages)
                .where(
                    messages.c.direction == "in",
                    messages.c.case_id == stack.world.cases[phone_owner_case],
                )
                .order_by(messages.c.created_at.desc(), messages.c.id)
                .limit(1)
            )
        ).one()


async def _case_dek(stack: Stack, case_id: str) -> bytes:
    async with stack.svc.read() as conn:
        wrapped = await conn.scalar(select(cases.c.dek).where(cases.c.id == case_id))
    return stack.svc.dek("cases", case_id, wrapped)


async def _journal(stack: Stack, message_id: str, case_id: str) -> list[tuple[str, str | None]]:
    """(kind, decrypted content) of the entries about one message, in chain order."""
    dek = await _case_dek(stack, case_id)
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(
                select(journal_entries.c.id, journal_entries.c.kind, journal_entries.c.content_enc)
                .where(journal_entries.c.message_id == message_id)
                .order_by(journal_entries.c.seq)
            )
        ).all()
    return [
        (
            r.kind,
            unseal(dek, r.content_enc, f"journal_entries:{r.id}:content")
            if r.content_enc is not None
            else None,
        )
        for r in rows
    ]


async def _pages(stack: Stack, message_id: str) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(staff_notices.c.kind).where(staff_notices.c.message_id == message_id)
        )
        return [r.kind for r in rows]


def _local(at: datetime) -> datetime:
    return at.astimezone(COPENHAGEN).replace(tzinfo=None)


async def _why(stack: Stack, row: Any) -> str:
    dek = await _case_dek(stack, row.case_id)
    return unseal(dek, row.triage_why_enc, f"messages:{row.id}:triage_why")


async def test_a_concern_is_first_after_urgent_answered_today_and_pages_nobody(
    stack: Stack,
) -> None:
    """Bekymring: after akut, before an older overdue thread; reply-by today 16:00; no page."""
    plain = await _family(stack, "plain", "+4520999001")
    worried = await _family(stack, "worried", "+4520999002")
    scared = await _family(stack, "scared", "+4520999003")
    assert (await stack.sms(plain, PLAIN)).status == 200  # Friday: due Tuesday 16:00
    stack.clock.advance(days=5)  # Wednesday 26 February 10:00: overdue
    assert (await stack.sms(worried, CONCERN)).status == 200
    assert (await stack.sms(scared, URGENT)).status == 200
    await stack.drain()
    await stack.settle()
    row = await _last_in(stack, "worried")
    assert (row.triage_level, row.urgent, row.next_escalation_at) == ("bekymring", False, None)
    assert _local(row.reply_by) == datetime(2025, 2, 26, 16, 0)  # today's closing
    assert await _pages(stack, row.id) == []
    assert await _pages(stack, (await _last_in(stack, "scared")).id) == ["urgent"]
    # Why: on the row (sealed: the citizen's words), and in the journal.
    assert CONCERN.encode() not in row.triage_why_enc
    assert "bekymret" in await _why(stack, row)
    entries = await _journal(stack, row.id, row.case_id)
    assert [k for k, _ in entries] == ["sms_in", "concern"]
    assert entries[1][1] is not None and entries[1][1].startswith("Udløst af: trivsel: bekymret")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    order = [(i["case_number"], i["urgent"], i.get("concern")) for i in items]
    numbers = _numbers(stack)
    assert [n for n, _, _ in order[:3]] == [numbers["scared"], numbers["worried"], numbers["plain"]]
    assert order[1][1:] == (False, True)


def _numbers(stack: Stack) -> dict[str, str]:
    """Case number by the family key _family gave (numbered in order of creation)."""
    keys = list(stack.world.cases)
    return {k: f"2025-1{keys.index(k):02d}" for k in keys if k in ("plain", "worried", "scared")}


async def test_a_concern_after_closing_is_due_at_the_next_opening_days_close(
    stack: Stack,
) -> None:
    """Friday 17:00 (closed): a concern is due Monday 16:00, and still pages nobody."""
    worried = await _family(stack, "worried", "+4520999002")
    stack.clock.advance(hours=7)
    assert (await stack.sms(worried, CONCERN)).status == 200
    row = await _last_in(stack, "worried")
    assert row.triage_level == "bekymring"
    assert _local(row.reply_by) == datetime(2025, 2, 24, 16, 0)
    assert await _pages(stack, row.id) == []


async def test_a_web_reply_with_a_concern_is_flagged_by_the_same_rule(stack: Stack) -> None:
    """The secure inbox door: the same level, reply-by, why and 'concern' entry as an SMS."""
    assert (await stack.sms(stack.world.phones["anna"], PLAIN)).status == 200
    sms = await _last_in(stack, "anna")
    assert sms.triage_level is None and sms.triage_why_enc is None
    who = citizen.Citizen(
        stack.world.tenant_id, stack.svc.blind_index(stack.world.phones["anna"]), "sms-code"
    )
    stack.clock.advance(minutes=1)
    await citizen.reply(stack.svc, who, sms.conversation_id, CONCERN)
    web = await _last_in(stack, "anna")
    assert (web.provider, web.triage_level, web.urgent) == ("web", "bekymring", False)
    assert _local(web.reply_by) == datetime(2025, 2, 21, 16, 0)
    assert [k for k, _ in await _journal(stack, web.id, web.case_id)] == ["web_in", "concern"]
    assert await _pages(stack, web.id) == []


async def test_akut_still_pages_and_now_keeps_its_why(stack: Stack) -> None:
    """Akut as before (paged, escalating, 'urgent' entry with 'Udløst af'), its why sealed."""
    assert (await stack.sms(stack.world.phones["anna"], URGENT)).status == 200
    row = await _last_in(stack, "anna")
    assert row.urgent and row.triage_level == "akut" and row.next_escalation_at is not None
    assert _local(row.reply_by) == datetime(2025, 2, 21, 16, 0)  # urgent: due today
    assert await _pages(stack, row.id) == ["urgent"]
    entries = await _journal(stack, row.id, row.case_id)
    assert ("urgent", "Udløst af: haster, det haster") in entries
    assert await _why(stack, row) == "haster\ndet haster"


async def test_a_message_the_model_raised_names_its_strongest_features(stack: Stack) -> None:
    """No lexicon phrase, the model says akut: the journal and the row name its features."""
    text = "Der er ingenting i huset og min søn er sulten"
    assert (await stack.sms(stack.world.phones["anna"], text)).status == 200
    row = await _last_in(stack, "anna")
    assert row.urgent and row.triage_level == "akut"
    why = await _why(stack, row)
    assert why.startswith("model akut: «")
    entries = dict(await _journal(stack, row.id, row.case_id))
    assert entries["urgent"] == "Udløst af: " + why


def test_because_names_phrases_and_readable_model_features() -> None:
    """Phrases as found; the model's features as words, negated words or letters."""
    from bot.domain.dispatch import because
    from bot.domain.triage import Triage

    phrase = Triage(False, ("trivsel: bekymret",), "bekymring", why=("phrase 'bekymret' (…)",))
    assert because(phrase) == ("trivsel: bekymret",)
    model = Triage(
        True,
        ("model akut",),
        "akut",
        why=("model akut (p=0.90/0.95; strongest 'n:akut', 'b:han slår', ' kni')",),
    )
    assert because(model) == ("model akut: «ikke … akut», «han slår», «…kni…»",)
    bare = Triage(
        False, (), "bekymring", why=("model bekymring (p=0.1/0.8; strongest no single feature)",)
    )
    assert because(bare) == ("model bekymring: no single feature",)

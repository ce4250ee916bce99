"""A family texts the municipality: the inbound path end to end."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.store.schema.core import journal_entries, messages, outbox
from tests.harness import Stack, message_sid


async def count(stack: Stack, table) -> int:  # type: ignore[no-untyped-def]
    async with stack.svc.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_known_sender_gets_named_receipt_with_reply_by(stack: Stack) -> None:
    """A single-case citizen's SMS is filed and receipted with the caseworker's name and date."""
    resp = await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg fra jer?")
    assert resp.status == 200
    assert "<Response" in await resp.text()
    assert (await stack.relay()).sent == 1
    assert await stack.sent_to(stack.world.phones["anna"]) == [
        "Tak for din besked. Mette svarer dig senest tirsdag den 25. februar."
    ]


async def test_retried_webhook_creates_nothing_new(stack: Stack) -> None:
    """The same MessageSid twice answers 200 and stores one message, one receipt."""
    sid = message_sid()
    for _ in range(3):
        resp = await stack.sms(stack.world.phones["anna"], "Hej", sid=sid)
        assert resp.status == 200
    assert await count(stack, messages) == 2  # the SMS and its receipt
    assert await count(stack, outbox) == 1


async def test_inbound_and_receipt_are_journalised_on_the_case(stack: Stack) -> None:
    """The inbound SMS and the receipt each get a journal entry on the citizen's case."""
    await stack.sms(stack.world.phones["anna"], "Hej")
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(
                select(
                    journal_entries.c.kind, journal_entries.c.case_id, journal_entries.c.seq
                ).order_by(journal_entries.c.seq)
            )
        ).all()
    assert [(r.kind, r.case_id, r.seq) for r in rows] == [
        ("sms_in", stack.world.cases["anna"], 1),
        ("sms_out_receipt", stack.world.cases["anna"], 2),
    ]


async def test_unsigned_or_forged_webhook_is_refused_and_writes_nothing(stack: Stack) -> None:
    """A missing or wrong X-Twilio-Signature is a 403 with a stable code, and nothing is stored."""
    for sig in ("", "bm90IGEgc2lnbmF0dXJl"):
        resp = await stack.sms(stack.world.phones["anna"], "Hej", signature=sig)
        assert resp.status == 403
        assert (await resp.json())["error"]["code"] == "bad_signature"
    assert await count(stack, messages) == 0


async def test_unknown_number_gets_neutral_receipt_and_lands_unassigned(stack: Stack) -> None:
    """An unknown number learns nothing: neutral receipt, message in the unassigned queue."""
    resp = await stack.sms("+4531234599", "Jeg vil gerne tale om sag 2025-001")
    assert resp.status == 200
    await stack.relay()
    texts = await stack.sent_to("+4531234599")
    assert texts == [
        "Tak for din besked. Vi har modtaget den, og en medarbejder ser på den hurtigst muligt."
    ]
    async with stack.svc.read() as conn:
        kinds = (
            await conn.execute(select(journal_entries.c.chain, journal_entries.c.subject))
        ).all()
    assert all(k.chain.startswith("unassigned:") for k in kinds)
    assert any("ukendt" in k.subject for k in kinds)


async def test_several_open_cases_asks_which_case_then_files_the_answer(stack: Stack) -> None:
    """A citizen with two open cases and no recent thread is asked which case, and the answer files it."""
    bo = stack.world.phones["bo"]
    await stack.sms(bo, "Hvad sker der med min sag?")
    await stack.relay()
    question = (await stack.sent_to(bo))[-1]
    assert question.startswith("Tak for din besked. Hvilken sag handler den om? Svar med tallet:")
    assert "1: Børn og Familie (Mette)" in question
    assert "2: Jobcenter (Lars)" in question
    await stack.sms(bo, "2")
    await stack.relay()
    assert (await stack.sent_to(bo))[-1] == (
        "Tak for din besked. Lars svarer dig senest onsdag den 26. februar."
    )
    resp = await stack.api("GET", "/api/v1/conversations", who="lars")
    items = (await resp.json())["items"]
    assert [i["case_number"] for i in items] == ["2025-003"]


async def test_recent_thread_is_used_without_asking(stack: Stack) -> None:
    """After filing, the next SMS goes to the thread the citizen was last active in."""
    bo = stack.world.phones["bo"]
    await stack.sms(bo, "Hej")
    await stack.sms(bo, "1")
    await stack.sms(bo, "En ting mere")
    await stack.drain()
    sent = await stack.sent_to(bo)
    assert len(sent) == 2  # the question and one receipt; the third SMS joins the open thread
    resp = await stack.api("GET", "/api/v1/conversations", who="mette")
    assert [i["open_count"] for i in (await resp.json())["items"]] == [2]


async def test_shared_phone_with_different_cases_always_asks(stack: Stack) -> None:
    """A number shared by two people with different cases is never filed by guesswork."""
    shared = stack.world.phones["shared_split"]
    await stack.sms(shared, "Hej")
    await stack.sms(shared, "1")
    await stack.sms(shared, "Og en ting til")
    await stack.drain()
    sent = await stack.sent_to(shared)
    assert sum("Hvilken sag" in s for s in sent) == 2


async def test_shared_phone_on_the_same_case_is_filed(stack: Stack) -> None:
    """Two parents sharing a phone on one case: the SMS is filed to that case directly."""
    await stack.sms(stack.world.phones["shared_same"], "Hej")
    await stack.relay()
    assert (await stack.sent_to(stack.world.phones["shared_same"]))[0].startswith(
        "Tak for din besked. Mette svarer"
    )


async def test_bad_input_gets_stable_codes_and_writes_nothing(stack: Stack) -> None:
    """Malformed numbers, missing fields and over-long bodies are 400s; nothing is stored."""
    resp = await stack.sms("not-a-number", "Hej")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_number"
    resp = await stack.sms(stack.world.phones["anna"], "x" * 1601)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "body_too_long"
    resp = await stack.sms(stack.world.phones["anna"], "Hej", to="+4533000000")
    assert resp.status in (400, 404)
    assert "Traceback" not in await resp.text()
    assert await count(stack, messages) == 0


async def test_unknown_numbers_learn_nothing(stack: Stack) -> None:
    """An unknown number, and a known one with no open case, get byte-identical answers and receipts."""
    from sqlalchemy import update

    from bot.store.schema.core import cases

    async with stack.svc.write() as conn:
        await conn.execute(
            update(cases).where(cases.c.id == stack.world.cases["anna"]).values(status="closed")
        )
    known_no_case = await stack.sms(stack.world.phones["anna"], "Sag 2025-001, er den lukket?")
    unknown = await stack.sms("+4531234599", "Sag 2025-001, er den lukket?")
    assert (known_no_case.status, await known_no_case.read()) == (
        unknown.status,
        await unknown.read(),
    )
    await stack.relay()
    assert await stack.sent_to(stack.world.phones["anna"]) == await stack.sent_to("+4531234599")


async def test_changed_parameter_or_url_breaks_the_signature(stack: Stack) -> None:
    """A webhook signed for other parameters, or another URL, is refused with 403."""
    from twilio.request_validator import RequestValidator

    from tests.harness import ACCOUNT_SID, AUTH_TOKEN, MUNICIPALITY

    params = {
        "MessageSid": message_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": stack.world.phones["anna"],
        "To": MUNICIPALITY,
        "Body": "Hej",
    }
    good = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{stack.base}/webhooks/twilio/sms", params
    )
    other_url = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{stack.base}/webhooks/twilio/sms?x=1", params
    )
    tampered = {**params, "Body": "Hej!"}
    for data, sig in ((tampered, good), (params, other_url), (params, good.lower())):
        resp = await stack.client.post(
            "/webhooks/twilio/sms", data=data, headers={"X-Twilio-Signature": sig}
        )
        assert resp.status == 403
    resp = await stack.client.post(
        "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": good}
    )
    assert resp.status == 200
    assert await count(stack, messages) == 2


async def test_two_first_messages_at_once_share_one_thread(stack: Stack) -> None:
    """Two first SMS from one citizen arriving together are both stored, in one thread."""
    import asyncio

    from bot.store.schema.core import conversations

    for _ in range(3):
        replies = await asyncio.gather(
            *(stack.sms(stack.world.phones["anna"], f"Hej {i}") for i in range(4))
        )
        assert [r.status for r in replies] == [200] * 4
    async with stack.svc.read() as conn:
        threads = (await conn.execute(select(func.count()).select_from(conversations))).scalar_one()
        inbound = (
            await conn.execute(
                select(func.count()).select_from(messages).where(messages.c.direction == "in")
            )
        ).scalar_one()
    assert (threads, inbound) == (1, 12)


async def test_sms_arriving_together_get_one_receipt(stack: Stack) -> None:
    """Several SMS from one citizen at once: all filed, one receipt for the open question."""
    import asyncio

    from bot.store.schema.core import outbox

    for _ in range(3):
        replies = await asyncio.gather(
            *(stack.sms(stack.world.phones["anna"], f"Hej {i}") for i in range(4))
        )
        assert [r.status for r in replies] == [200] * 4
    async with stack.svc.read() as conn:
        receipts = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
        reply_bys = set(
            (
                await conn.execute(select(messages.c.reply_by).where(messages.c.direction == "in"))
            ).scalars()
        )
    assert receipts == 1
    assert len(reply_bys) == 1  # every one of them is due when the first one is


async def test_an_sms_filed_on_a_case_costs_few_round_trips(stack: Stack) -> None:
    """On PostgreSQL, filing an SMS takes two statements, and its receipt two more."""
    from sqlalchemy import event

    # Another family's SMS first: the municipality, its words and calendar are cached.
    await stack.sms(stack.world.phones["shared_same"], "Hej")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = stack.svc.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await stack.sms(stack.world.phones["anna"], "Hej")  # filed, receipted
        first = len(statements)
        await stack.sms(stack.world.phones["anna"], "Hej igen")  # filed; a receipt is out
        second = len(statements) - first
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(await stack.sent_to(stack.world.phones["anna"])) == 0
    assert (await stack.relay()).sent == 2  # a receipt to each family
    if stack.config.database_url.startswith("postgresql"):
        assert (first, second) == (4, 2), statements

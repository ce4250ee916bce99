"""The thread page and the API say why the send-time gate held a message back (both databases).

Two SMS on one thread withheld for different reasons (STOP; a text that reads as an
afgørelse) are labelled with their own reason, not one "the citizen said no" for all.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.base.crypto import SealingKey
from bot.domain.outbound import OutboundSms, outbound_sms, queue_sms
from bot.store.schema.core import cases, conversations
from journal.journal import append_many
from tests.harness import Stack
from tests.web.conftest import Login, staff_login

DECISION = "Afgørelse: Du får afslag på din ansøgning om hjælp til tandpleje. Du kan klage."
UPDATE = "Vi har nu fået papirerne fra lægen og ser på dem i næste uge."


async def _queue_both(stack: Stack) -> str:
    """After Anna's STOP: a plain update (STOP holds it) and a reply that reads as a
    decision, queued around the queue-time guard (an answer: only the guard holds it)."""
    svc, case = stack.svc, stack.world.cases["anna"]
    now = svc.clock.now()
    async with svc.write() as conn:
        conv = (
            await conn.execute(
                select(conversations.c.id).where(
                    conversations.c.case_id == case,
                    conversations.c.person_id == stack.world.persons["anna"],
                )
            )
        ).scalar_one()
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case))).scalar_one()
        fields = {
            "tenant_id": stack.world.tenant_id,
            "conversation_id": conv,
            "case_id": case,
            "person_id": stack.world.persons["anna"],
            "key": SealingKey("case", case, svc.dek("cases", case, dek)),
            "at": now,
        }
        await queue_sms(conn, kind="update", body=UPDATE, **fields)
        sms = outbound_sms(kind="auto", body=DECISION, **fields)
        sms.message["kind"] = "reply"  # queued before the rule: only the gate can catch it
        await append_many(conn, [sms.entry], rows_first=OutboundSms.rows([sms]))
    return str(conv)


async def test_each_withheld_sms_shows_its_own_reason(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """STOP holds the update, the guard holds the decision: the page and the API say which."""
    anna = stack.world.phones["anna"]
    await stack.sms(anna, "Hej, hvad sker der med min sag?")
    await stack.sms(anna, "STOP")
    await stack.drain()
    seen = await stack.sent_to(anna)
    conv = await _queue_both(stack)
    await stack.drain()
    await stack.settle()
    assert await stack.sent_to(anna) == seen

    resp = await stack.api("GET", f"/api/v1/conversations/{conv}")
    assert resp.status == 200, await resp.text()
    reasons = {
        m["body"]: m["withheld_reason"] for m in (await resp.json())["messages"] if m["body"]
    }
    assert reasons[UPDATE] == "opted_out" and reasons[DECISION] == "decision"
    assert reasons["Hej, hvad sker der med min sag?"] is None

    await staff_login(stack, logins["mette"])
    page = await (await stack.client.get(f"/sagsbehandler/samtaler/{conv}")).text()
    assert "Ikke sendt (borgeren har sagt STOP til påmindelser og opdateringer)" in page
    assert "Ikke sendt (teksten lyder som en afgørelse; send den med Digital Post)" in page
    assert "borgeren har sagt fra" not in page

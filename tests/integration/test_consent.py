"""One consent record: the case system's API and the citizen's STOP/START speak of the same consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.schema.core import journal_entries, messages
from tests.integration.conftest import Integ

WITHHELD_NO_CONSENT = (
    "SMS ikke sendt: sagssystemet har registreret, at deltageren ikke vil have SMS"
)


async def _anna_part(integ: Integ) -> str:
    w = integ.stack.world
    items = (await integ.ok("GET", f"/api/v1/cases/{w.cases['anna']}/participants"))["items"]
    return str(next(p["id"] for p in items if p["person_id"] == w.persons["anna"]))


async def _sms_consent(integ: Integ, part: str) -> Any:
    return (await integ.ok("GET", f"/api/v1/participants/{part}"))["consent"]["sms"]


async def _patch_sms(integ: Integ, part: str, granted: bool | None) -> Any:
    body = {"consent": {"sms": granted}}
    return (await integ.ok("PATCH", f"/api/v1/participants/{part}", json=body))["consent"]["sms"]


async def _reply(integ: Integ, conv: str, body: str) -> None:
    resp = await integ.stack.api(
        "POST", f"/api/v1/conversations/{conv}/replies", json={"body": body}
    )
    assert resp.status == 201, await resp.text()
    await integ.stack.drain()


async def _no_recipients(integ: Integ, case_id: str, reason: str) -> None:
    """A case-system update to a case whose only party may not get it: refused, saying why."""
    resp = await integ.call(
        "POST", f"/api/v1/cases/{case_id}/updates", json={"body": "Vi har fået lægens svar."}
    )
    error = (await resp.json())["error"]
    assert (resp.status, error["code"]) == (409, "no_recipients")
    assert error["message"].endswith(reason)


async def _journal(integ: Integ, case_id: str) -> list[str]:
    async with integ.stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.subject).where(journal_entries.c.case_id == case_id)
        )
        return [str(s) for s in rows.scalars()]


async def test_the_api_and_stop_start_speak_of_one_consent(integ: Integ) -> None:
    """The case system withdraws SMS consent: the gate holds a caseworker's reply back and the update skips her, while the receipt of her own SMS goes; she texts START and the API shows consent given and the reply goes; her STOP shows in the API too, and stops no answers."""
    stack, w = integ.stack, integ.stack.world
    anna, cid = w.phones["anna"], w.cases["anna"]
    part = await _anna_part(integ)
    assert await _sms_consent(integ, part) is None
    assert await _patch_sms(integ, part, False) is False

    await stack.sms(anna, "Hvornår hører jeg fra jer?")
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) == 1 and sent[0].startswith("Tak for din besked")  # her own SMS: answered
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await _reply(integ, conv, "Vi ringer i morgen.")
    await _no_recipients(integ, cid, "no_consent")
    await stack.drain()
    assert await stack.sent_to(anna) == sent  # nothing more reached the gateway
    async with stack.svc.read() as conn:
        status = (
            await conn.execute(select(messages.c.status).where(messages.c.kind == "reply"))
        ).scalar_one()
    assert status == "withheld"
    assert WITHHELD_NO_CONSENT in await _journal(integ, cid)

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "START")
    await stack.drain()
    assert await _sms_consent(integ, part) is True
    await _reply(integ, conv, "Vi ringer på fredag.")
    assert (await stack.sent_to(anna))[-1] == "Vi ringer på fredag."

    # The case system sending its old "no" again is not a new word: START still stands.
    assert await _patch_sms(integ, part, False) is True
    said = "Sagssystemet: samtykke til sms for en deltager: nej"
    assert (await _journal(integ, cid)).count(said) == 1  # journalised once, with the key
    async with stack.svc.read() as conn:
        actors = await conn.execute(
            select(journal_entries.c.actor).where(journal_entries.c.kind == "consent_case_system")
        )
        assert list(actors.scalars()) == [f"integration:{integ.key_id}"]

    # STOP shows in the API; it stops proactive SMS, not the caseworker's answers.
    stack.clock.advance(minutes=5)
    await stack.sms(anna, "STOP")
    await stack.drain()
    assert await _sms_consent(integ, part) is False
    await _reply(integ, conv, "Vi ses på fredag.")
    assert (await stack.sent_to(anna))[-1] == "Vi ses på fredag."
    await _no_recipients(integ, cid, "opted_out")

"""STOP stops everything proactive, at the gateway: the one send-time gate every SMS passes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from bot.base.staff import StaffUser
from bot.domain.case_record import CONFIRMATION_SUBJECT
from bot.domain.directory import add_participant, create_case, create_person
from bot.domain.integration.credentials import SCOPES, issue_key
from bot.store.schema.core import journal_entries, messages, participants
from bot.store.schema.integration import participant_details
from journal.retention import restrict
from scheduler.runner import ensure_nudges
from tests.harness import Stack

from .conftest import at, cph, journal_subjects

WITHHELD_STOP = "SMS ikke sendt: borgeren har sagt STOP til påmindelser og opdateringer"


async def _book(stack: Stack, starts_at: Any) -> None:
    cid = stack.world.cases["anna"]
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/appointments",
        json={"starts_at": starts_at.isoformat(), "place": "Rådhuset, lokale 3"},
    )
    assert resp.status == 201, await resp.text()


async def _statuses(stack: Stack, kind: str) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(messages.c.status).where(
                messages.c.kind == kind, messages.c.person_id == stack.world.persons["anna"]
            )
        )
        return [r.status for r in rows]


async def test_after_stop_no_reminder_milestone_or_update_reaches_the_phone(stack: Stack) -> None:
    """STOP, then a due reminder, a milestone move and a case-system update: none reaches the gateway, each is withheld with its reason journalised; the answer to the citizen's own next SMS still goes; START lets them through again."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    await _book(stack, cph(2025, 2, 25, 9, 0))  # reminded Monday 10:00
    # A case-system update queued before the STOP, not yet sent when the STOP lands.
    resp = await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})
    assert resp.status == 201, await resp.text()
    await stack.sms(anna, "STOP")
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await stack.drain()
    sent = await stack.sent_to(anna)
    assert len(sent) == 1 and sent[0].startswith("Du får ikke længere påmindelser")

    stats = await at(stack, cph(2025, 2, 24, 10, 0))
    assert stats.sent == 1  # the runner queued it; the gate holds it at the gateway's door
    assert await stack.sent_to(anna) == sent
    assert await _statuses(stack, "reminder") == ["withheld"]
    assert "withheld" in await _statuses(stack, "update")
    subjects = await journal_subjects(stack, cid)
    assert subjects.count(WITHHELD_STOP) >= 2

    await stack.sms(anna, "Hvornår er mødet?")
    await stack.drain()
    receipt = (await stack.sent_to(anna))[-1]
    assert receipt.startswith("Tak for din besked")

    stack.clock.advance(minutes=5)
    await stack.sms(anna, "START")
    await stack.drain()
    before = len(await stack.sent_to(anna))
    await at(stack, cph(2025, 2, 25, 8, 0))  # the second reminder, after START
    assert len(await stack.sent_to(anna)) == before + 1


async def test_a_restricted_person_gets_answers_but_no_reminders(stack: Stack) -> None:
    """While processing is restricted (GDPR art. 18) a reminder is withheld as 'restricted'; a receipt still goes."""
    anna = stack.world.phones["anna"]
    await _book(stack, cph(2025, 2, 25, 9, 0))
    lead = StaffUser(stack.world.hanne, stack.world.tenant_id, stack.world.team_children, "lead")
    await restrict(stack.svc, lead, stack.world.persons["anna"], "Borgeren gør indsigelse")
    await at(stack, cph(2025, 2, 24, 10, 0))
    assert await stack.sent_to(anna) == []
    assert await _statuses(stack, "reminder") == ["withheld"]
    await stack.sms(anna, "Hej")
    await stack.drain()
    assert len(await stack.sent_to(anna)) == 1


async def test_a_representative_whose_period_ended_gets_nothing_more(stack: Stack) -> None:
    """A representative (fuldmagt) whose period ended before today: not even the receipt of their own SMS goes, nor a reminder or a milestone update."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    async with stack.svc.write() as conn:
        part = (
            await conn.execute(
                select(participants.c.id).where(
                    participants.c.case_id == cid,
                    participants.c.person_id == stack.world.persons["anna"],
                )
            )
        ).scalar_one()
        await conn.execute(
            participants.update().where(participants.c.id == part).values(role="representative")
        )
        await conn.execute(
            insert(participant_details).values(
                participant_id=part,
                tenant_id=stack.world.tenant_id,
                authority_from=cph(2024, 1, 1).date(),
                authority_to=cph(2025, 1, 31).date(),
                updated_at=stack.clock.now(),
            )
        )
    await stack.sms(anna, "Hej, jeg skriver for min mor")
    await stack.drain()
    assert await stack.sent_to(anna) == []
    async with stack.svc.read() as conn:
        reasons = (
            await conn.execute(
                select(journal_entries.c.subject).where(journal_entries.c.kind == "sms_withheld")
            )
        ).scalars()
        assert list(reasons) == ["SMS ikke sendt: fuldmagten gælder ikke i dag"]

    # Nor a reminder, nor a milestone move: nothing more reaches the phone.
    await _book(stack, cph(2025, 2, 25, 9, 0))
    resp = await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})
    assert resp.status == 201, await resp.text()
    resp = await stack.api(
        "POST", f"/api/v1/cases/{cid}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await at(stack, cph(2025, 2, 24, 10, 0))
    assert await stack.sent_to(anna) == []
    assert await _statuses(stack, "reminder") == ["withheld"]
    async with stack.svc.read() as conn:
        reasons = (
            await conn.execute(
                select(journal_entries.c.subject).where(journal_entries.c.kind == "sms_withheld")
            )
        ).scalars()
        assert set(reasons) == {"SMS ikke sendt: fuldmagten gælder ikke i dag"}


WITHHELD_NO_CONSENT = (
    "SMS ikke sendt: sagssystemet har registreret, at deltageren ikke vil have SMS"
)


async def _gitte(stack: Stack) -> tuple[str, str]:
    """A kontanthjælp case whose type sends "still working" by itself after five quiet days."""
    svc, w = stack.svc, stack.world
    async with svc.write() as c:
        person = await create_person(
            c, svc, tenant_id=w.tenant_id, name="Gitte Gram", first_name="Gitte", phone=GITTE
        )
        case = await create_case(
            c,
            svc,
            tenant_id=w.tenant_id,
            administration_id=w.admin_jobs,
            team_id=w.team_jobs,
            owner_id=w.lars,
            number="2025-101",
            case_type="kontanthjaelp",
        )
        await add_participant(
            c, svc, tenant_id=w.tenant_id, case_id=case, person_id=person, role="party"
        )
    return person, case


GITTE = "+4520123409"


async def test_after_stop_the_nudge_update_does_not_reach_the_phone(stack: Stack) -> None:
    """STOP, then the "still working" nudge the case type sends by itself: not at the gateway, withheld with its reason journalised; after START the next one goes."""
    _, case = await _gitte(stack)
    await stack.sms(GITTE, "STOP")
    await stack.drain()
    confirmed = await stack.sent_to(GITTE)
    assert len(confirmed) == 1 and confirmed[0].startswith("Du får ikke længere påmindelser")
    assert await ensure_nudges(stack.svc) >= 1
    await at(stack, cph(2025, 2, 28, 10, 0))
    assert await stack.sent_to(GITTE) == confirmed
    assert WITHHELD_STOP in await journal_subjects(stack, case)

    stack.clock.advance(minutes=5)
    await stack.sms(GITTE, "START")
    await stack.drain()
    before = len(await stack.sent_to(GITTE))
    for day in (3, 4, 5, 6, 7, 10):
        await ensure_nudges(stack.svc)
        await at(stack, cph(2025, 3, day, 10, 0))
    assert [
        b for b in (await stack.sent_to(GITTE))[before:] if b.startswith("Vi arbejder stadig")
    ], "after START the nudge update reaches the phone again"


UPDATE_SKIPPED = "Opdatering fra fagsystemet ikke sendt til en deltager: "


async def _update_as_case_system(stack: Stack, key: str, idem: str) -> tuple[int, dict[str, Any]]:
    resp = await stack.client.post(
        f"/api/v1/cases/{stack.world.cases['anna']}/updates",
        json={"body": "Vi har fået lægens svar."},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
    )
    return resp.status, await resp.json()


async def test_a_case_system_update_held_back_by_stop_or_restriction_is_journalised(
    stack: Stack,
) -> None:
    """/cases/{id}/updates to a participant who said STOP, then whose processing is
    restricted: still 409 no_recipients, nothing reaches the gateway, and each skip stands in
    the case's journal with its reason (once, however often the same request is replayed)."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    async with stack.svc.write() as conn:
        _, key = await issue_key(
            conn,
            tenant_id=stack.world.tenant_id,
            label="test",
            scopes=SCOPES,
            at=stack.clock.now(),
        )
    await stack.sms(anna, "STOP")
    await stack.drain()
    confirmed = await stack.sent_to(anna)
    for _ in range(2):  # the case system retries with the same key: the same answer
        status, body = await _update_as_case_system(stack, key, "update-1")
        assert (status, body["error"]["code"]) == (409, "no_recipients")
        assert body["error"]["message"].endswith("opted_out")
    stopped = UPDATE_SKIPPED + "borgeren har sagt STOP til påmindelser og opdateringer"
    assert (await journal_subjects(stack, cid)).count(stopped) == 1

    lead = StaffUser(stack.world.hanne, stack.world.tenant_id, stack.world.team_children, "lead")
    await restrict(stack.svc, lead, stack.world.persons["anna"], "Borgeren gør indsigelse")
    status, body = await _update_as_case_system(stack, key, "update-2")
    assert (status, body["error"]["code"]) == (409, "no_recipients")
    restricted = UPDATE_SKIPPED + "behandlingen af borgerens oplysninger er begrænset"
    assert (await journal_subjects(stack, cid)).count(restricted) == 1
    await stack.drain()
    assert await stack.sent_to(anna) == confirmed
    async with stack.svc.read() as conn:
        updates = (
            await conn.execute(select(messages.c.id).where(messages.c.kind == "update"))
        ).all()
        entry = (
            await conn.execute(
                select(journal_entries).where(journal_entries.c.subject == restricted)
            )
        ).one()
    assert updates == []
    # The participant is named under the case's key, never in the subject.
    assert entry.content_enc is not None and entry.kind == "update_skipped"


async def test_the_case_file_copy_of_a_stop_confirmation_does_not_claim_it_was_sent(
    stack: Stack,
) -> None:
    """The copy on the case is written when the confirmation is queued, before the gate has
    judged it: it says what was written to the family, never that it was sent."""
    anna, cid = stack.world.phones["anna"], stack.world.cases["anna"]
    await stack.sms(anna, "STOP")
    await stack.drain()
    subjects = await journal_subjects(stack, cid)
    assert subjects.count(CONFIRMATION_SUBJECT) == 1
    assert not [s for s in subjects if "sendt" in s]

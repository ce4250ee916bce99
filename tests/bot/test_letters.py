"""Letters by Digital Post: queued for a case, relayed over real HTTP to the SF1601 simulator,
journalised when sent or failed, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.domain import letters as letters_domain
from bot.domain.letters import (
    LEASE,
    MAX_ATTEMPTS,
    SUBJECT_FAILED,
    SUBJECT_SENT,
    get_letter,
    letters_needing_attention,
    mark_failure_seen,
    queue_decision,
    queue_letter,
    relay_letters,
)
from bot.simulators.digitalpost import DigitalPostSimulatorConfig, create_digitalpost_simulator
from bot.store.schema.core import cases, journal_entries
from bot.store.schema.letters import letters
from bot.store.schema.scheduler import followup_tasks
from channels.digitalpost import Sf1601Client, Sf1601Config
from tests.bot.test_crypto import dump
from tests.harness import Stack
from tests.web.conftest import form_post, give_logins, staff_login

CPR = "0101901234"
CVR = "29189846"
DECISION = "Du får bevilget merudgifter efter servicelovens § 41. Pelikan 8812."
KLAGE = "Du kan klage til Ankestyrelsen inden fire uger. Flamingo 4410."


@pytest.fixture
async def sim(aiohttp_server: Any) -> TestServer:
    server: TestServer = await aiohttp_server(
        create_digitalpost_simulator(DigitalPostSimulatorConfig())
    )
    return server


@pytest.fixture
async def client(sim: TestServer) -> AsyncIterator[Sf1601Client]:
    async with aiohttp.ClientSession() as session:
        yield Sf1601Client(
            Sf1601Config(base_url=str(sim.make_url("")), timeout=2.0),
            session,
            # The transaction time SF1601 is told; a fixed one is as good as any here.
            now=lambda: datetime(2025, 2, 21, 9, 0, tzinfo=UTC),
        )


async def faults(stack: Stack, sim: TestServer, **body: Any) -> None:
    async with stack.session.post(str(sim.make_url("/_sim/faults")), json=body) as resp:
        assert resp.status == 200, await resp.text()


async def received(stack: Stack, sim: TestServer) -> list[dict[str, Any]]:
    async with stack.session.get(str(sim.make_url("/_sim/letters"))) as resp:
        return list((await resp.json())["letters"])


async def decision(stack: Stack, case: str = "anna") -> str:
    w = stack.world
    async with stack.svc.write() as conn:
        queued = await queue_decision(
            conn,
            stack.svc,
            tenant_id=w.tenant_id,
            case_id=w.cases[case],
            cpr=CPR,
            title="Afgørelse om merudgifter",
            decision=DECISION,
            klagevejledning=KLAGE,
            sender_cvr=CVR,
            author_id=w.mette,
        )
    return queued.id


async def journal(stack: Stack, case: str = "anna") -> list[tuple[str, str, str]]:
    """The case's Digital Post entries: kind, subject and unsealed content, in order."""
    case_id = stack.world.cases[case]
    async with stack.svc.read() as conn:
        dek = (await conn.execute(select(cases.c.dek).where(cases.c.id == case_id))).scalar_one()
        rows = (
            await conn.execute(
                select(journal_entries)
                .where(
                    journal_entries.c.case_id == case_id, journal_entries.c.channel == "digitalpost"
                )
                .order_by(journal_entries.c.seq)
            )
        ).all()
    key = stack.svc.dek("cases", case_id, dek)
    return [
        (r.kind, r.subject, unseal(key, r.content_enc, f"journal_entries:{r.id}:content"))
        for r in rows
    ]


async def test_an_afgoerelse_goes_by_digital_post_and_is_journalised(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """A queued afgørelse is sent once, with its klagevejledning, and journalised with its receipt."""
    letter_id = await decision(stack)
    stats = await relay_letters(stack.svc, client)
    assert (stats.sent, stats.retried, stats.failed) == (1, 0, 0)
    (got,) = await received(stack, sim)
    assert got["recipient"] == CPR and got["sender"] == CVR
    assert got["sender_label"] == "Københavns Kommune" and got["case_id"] == "2025-001"
    assert got["legal_notification"] is True
    assert DECISION in got["files"][0]["text"] and KLAGE in got["files"][0]["text"]
    view = await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    assert view.state == "sent" and view.attempts == 1
    assert view.transaction_id == got["transaction_id"]
    entries = await journal(stack)
    assert [e[0] for e in entries] == ["letter_queued", "letter_sent"]
    kind, subject, content = entries[1]
    assert subject == SUBJECT_SENT == "Brev sendt via Digital Post"
    assert KLAGE in content and got["transaction_id"] in content and view.message_uuid in content
    assert (await relay_letters(stack.svc, client)).sent == 0


async def test_a_rejected_letter_is_failed_journalised_and_shown_to_the_caseworker(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """A letter the service rejects is never dropped: failed with its reason, journalised, listed."""
    await faults(stack, sim, unregistered=[CPR])
    letter_id = await decision(stack)
    stats = await relay_letters(stack.svc, client)
    assert (stats.sent, stats.failed) == (0, 1)
    view = await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    assert view.state == "failed" and view.failure_code == "recipient_not_registered"
    assert view.failure_reason and "exempt" in view.failure_reason
    entries = await journal(stack)
    assert [e[0] for e in entries] == ["letter_queued", "letter_failed"]
    assert entries[1][1] == SUBJECT_FAILED and "exempt" in entries[1][2]
    w = stack.world
    (todo,) = await letters_needing_attention(stack.svc, w.tenant_id, author_id=w.mette)
    assert todo.id == letter_id and todo.title == "Afgørelse om merudgifter"
    assert await letters_needing_attention(stack.svc, w.tenant_id, author_id=w.lars) == []
    await mark_failure_seen(stack.svc, w.tenant_id, letter_id, w.mette)
    assert await letters_needing_attention(stack.svc, w.tenant_id) == []
    assert (await journal(stack))[-1][0] == "letter_seen"
    assert (await relay_letters(stack.svc, client)).failed == 0
    assert await received(stack, sim) == []


async def _letter_tasks(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(followup_tasks).where(followup_tasks.c.kind == "letter_failed")
        )
        return list(rows)


async def test_a_failed_letter_is_a_task_on_the_authors_list(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """The caseworker is told: a task (opgave) for the letter's author, on her task page."""
    await faults(stack, sim, mode="reject", count=1)
    letter_id = await decision(stack)
    assert (await relay_letters(stack.svc, client)).failed == 1
    w = stack.world
    (task,) = await _letter_tasks(stack)
    assert (task.staff_id, task.case_id, task.ref_id, task.state) == (
        w.mette,
        w.cases["anna"],
        letter_id,
        "open",
    )
    assert task.title == SUBJECT_FAILED  # plain words: no CPR number, no letter title
    assert (await relay_letters(stack.svc, client)).failed == 0
    assert len(await _letter_tasks(stack)) == 1
    logins = await give_logins(stack)
    await staff_login(stack, logins["mette"])
    page = await (await stack.client.get("/sagsbehandler/opgaver")).text()
    assert SUBJECT_FAILED in page and f"{task.id}/afslut" in page
    # Which letter, why, and the way to the case: on the page only, never in the task row.
    assert "Afgørelse om merudgifter" in page and "kom ikke frem" in page
    assert f'href="/sagsbehandler/sager/{w.cases["anna"]}"' in page
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, logins["lars"])
    page = await (await stack.client.get("/sagsbehandler/opgaver")).text()
    assert SUBJECT_FAILED not in page


async def _failed_task(stack: Stack, sim: TestServer, client: Sf1601Client) -> tuple[str, Any]:
    """A letter of Mette's that Digital Post rejects, and its open task."""
    await faults(stack, sim, mode="reject", count=1)
    letter_id = await decision(stack)
    assert (await relay_letters(stack.svc, client)).failed == 1
    (task,) = await _letter_tasks(stack)
    return letter_id, task


async def test_closing_the_failed_letter_task_on_the_page_marks_the_failure_seen(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """The task page's "Afslut" marks the letter seen: off the unseen list, journalised once."""
    letter_id, task = await _failed_task(stack, sim, client)
    w = stack.world
    assert [v.id for v in await letters_needing_attention(stack.svc, w.tenant_id)] == [letter_id]
    await staff_login(stack, (await give_logins(stack))["mette"])
    tasks_page = "/sagsbehandler/opgaver"
    resp = await form_post(stack, tasks_page, f"{tasks_page}/{task.id}/afslut", outcome="")
    assert resp.status == 303, await resp.text()
    assert await letters_needing_attention(stack.svc, w.tenant_id) == []
    assert [e[0] for e in await journal(stack)] == ["letter_queued", "letter_failed", "letter_seen"]
    assert [t.state for t in await _letter_tasks(stack)] == ["done"]
    # Marking it seen again (another door) changes nothing and journalises nothing.
    await mark_failure_seen(stack.svc, w.tenant_id, letter_id, w.mette)
    assert [e[0] for e in await journal(stack)][-1:] == ["letter_seen"]
    assert len(await journal(stack)) == 3


async def test_closing_the_failed_letter_task_through_the_api_marks_the_failure_seen(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """POST /api/v1/tasks/{id}/done marks the letter seen; a second close is 409, still one entry."""
    letter_id, task = await _failed_task(stack, sim, client)
    w = stack.world
    resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/done")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["state"] == "done"
    assert await letters_needing_attention(stack.svc, w.tenant_id) == []
    async with stack.svc.read() as conn:
        seen = (
            await conn.execute(select(letters.c.failure_seen).where(letters.c.id == letter_id))
        ).scalar_one()
    assert seen is True
    resp = await stack.api("POST", f"/api/v1/tasks/{task.id}/done")
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "task_done"
    assert [e[0] for e in await journal(stack)].count("letter_seen") == 1


async def test_marking_the_failure_seen_closes_the_letters_task(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """The other way round: marking the failure seen closes its open task, so the two agree."""
    letter_id, _task = await _failed_task(stack, sim, client)
    await mark_failure_seen(stack.svc, stack.world.tenant_id, letter_id, stack.world.mette)
    assert [t.state for t in await _letter_tasks(stack)] == ["done"]


async def test_a_failed_letter_without_an_author_goes_to_the_cases_owner(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """No author (queued by the case system): the case's owner gets the task."""
    await faults(stack, sim, unregistered=[CPR])
    letter_id = await decision(stack)
    async with stack.svc.write() as conn:
        await conn.execute(letters.update().values(author_id=None))
        owner = (
            await conn.execute(
                select(cases.c.owner_id).where(cases.c.id == stack.world.cases["anna"])
            )
        ).scalar_one()
    assert owner is not None
    assert (await relay_letters(stack.svc, client)).failed == 1
    (task,) = await _letter_tasks(stack)
    assert (task.staff_id, task.ref_id) == (owner, letter_id)


async def test_a_simulated_rejection_is_journalised_as_failed(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """The simulator's fault switch 'reject' ends in a failed, journalised letter."""
    await faults(stack, sim, mode="reject", count=1)
    letter_id = await decision(stack)
    assert (await relay_letters(stack.svc, client)).failed == 1
    assert (
        await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    ).failure_code == "rejected"
    assert [e[0] for e in await journal(stack)] == ["letter_queued", "letter_failed"]


async def test_an_unavailable_service_is_tried_again_later_with_the_same_uuid(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """503 puts the letter back for later; the next try sends it; nothing failed is journalised."""
    await faults(stack, sim, mode="unavailable", count=1)
    letter_id = await decision(stack)
    assert (await relay_letters(stack.svc, client)).retried == 1
    view = await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    assert view.state == "queued" and view.attempts == 1
    assert (await relay_letters(stack.svc, client)).sent == 0  # not due yet
    stack.clock.advance(minutes=2)
    assert (await relay_letters(stack.svc, client)).sent == 1
    (got,) = await received(stack, sim)
    assert got["message_uuid"] == view.message_uuid
    assert [e[0] for e in await journal(stack)] == ["letter_queued", "letter_sent"]


async def test_a_relay_that_dies_after_sending_never_makes_a_second_letter(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """Sent but not recorded (a crash): after the lease the retry is 'already received', one letter."""
    letter_id = await decision(stack)
    ((claimed, attempts),) = await letters_domain._claim(stack.svc, 10)
    loaded = await letters_domain._load(stack.svc, claimed)
    assert loaded.memo is not None and attempts == 1
    await client.send(loaded.memo)  # … and the process dies before recording it
    assert (await relay_letters(stack.svc, client)).sent == 0  # the lease still holds
    stack.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert (await relay_letters(stack.svc, client)).sent == 1
    assert len(await received(stack, sim)) == 1
    view = await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    assert view.state == "sent" and view.attempts == 2
    assert [e[0] for e in await journal(stack)] == ["letter_queued", "letter_sent"]


async def test_a_letter_that_never_gets_through_fails_after_the_last_attempt(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """Transient failures every time: after MAX_ATTEMPTS the letter fails, journalised, listed."""
    await faults(stack, sim, mode="unavailable")
    letter_id = await decision(stack)
    for _ in range(MAX_ATTEMPTS):
        await relay_letters(stack.svc, client)
        stack.clock.advance(hours=13)
    view = await get_letter(stack.svc, stack.world.tenant_id, letter_id)
    assert view.state == "failed" and view.attempts == MAX_ATTEMPTS
    assert view.failure_reason and view.failure_reason.startswith(f"Opgivet efter {MAX_ATTEMPTS}")
    assert [e[0] for e in await journal(stack)] == ["letter_queued", "letter_failed"]
    assert len(await letters_needing_attention(stack.svc, stack.world.tenant_id)) == 1


async def test_a_plain_letter_and_a_pdf_letter_are_sent(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """An ordinary letter goes as text, a PDF as application/pdf; neither claims legal effect."""
    w = stack.world
    pdf = b"%PDF-1.4\n% a letter\n%%EOF\n"
    async with stack.svc.write() as conn:
        for body in ({"text": "Mødet er flyttet til tirsdag."}, {"pdf": pdf}):
            await queue_letter(
                conn, stack.svc, tenant_id=w.tenant_id, case_id=w.cases["bo_jobs"], cpr=CPR,
                title="Nyt mødetidspunkt", sender_cvr=CVR, **body,
            )  # fmt: skip
    assert (await relay_letters(stack.svc, client)).sent == 2
    got = await received(stack, sim)
    assert {g["files"][0]["media_type"] for g in got} == {"text/plain", "application/pdf"}
    assert not any(g["legal_notification"] for g in got)
    assert any("PDF" in e[2] and "SHA-256" in e[2] for e in await journal(stack, "bo_jobs"))


async def test_bad_letters_are_refused_when_queued(stack: Stack) -> None:
    """A bad CPR, no document, no klagevejledning or another municipality's case: nothing queued."""
    w = stack.world
    common = {"tenant_id": w.tenant_id, "case_id": w.cases["anna"], "title": "Brev"}
    async with stack.svc.write() as conn:
        with pytest.raises(BadInput):
            await queue_letter(conn, stack.svc, cpr="0101", sender_cvr=CVR, text="Hej", **common)
        with pytest.raises(BadInput):
            await queue_letter(conn, stack.svc, cpr=CPR, sender_cvr=CVR, **common)
        with pytest.raises(BadInput):
            await queue_letter(conn, stack.svc, cpr=CPR, sender_cvr="1", text="Hej", **common)
        with pytest.raises(BadInput):
            await queue_decision(
                conn, stack.svc, cpr=CPR, sender_cvr=CVR, decision="Afslag.", klagevejledning="",
                **common,
            )  # fmt: skip
        with pytest.raises(NotFound):
            await queue_letter(
                conn, stack.svc, tenant_id=w.tenant_id, case_id="no-such-case", title="Brev",
                cpr=CPR, sender_cvr=CVR, text="Hej",
            )  # fmt: skip
    async with stack.svc.read() as conn:
        assert (await conn.execute(select(letters.c.id))).all() == []


async def test_no_cpr_title_or_letter_text_is_stored_in_clear(
    stack: Stack, sim: TestServer, client: Sf1601Client
) -> None:
    """After a letter is sent and another fails, the database dump holds no CPR or letter text."""
    await decision(stack)
    await relay_letters(stack.svc, client)
    await faults(stack, sim, mode="reject", count=1)
    await decision(stack, "carl")
    await relay_letters(stack.svc, client)
    as_text, as_bytes = await dump(stack)
    for secret in (CPR, "Pelikan 8812", "Flamingo 4410", "merudgifter"):
        assert secret not in as_text and secret.encode() not in as_bytes

"""What the case system receives beyond the plain exchange: an unknown number's messages once
filed on a case, consent changes and their confirmations, the "which case?" exchange once
answered, and page deliveries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.base.staff import StaffUser
from bot.domain import filing
from bot.domain.delivery import apply_report
from bot.domain.filing import Recipient
from bot.domain.texts import text
from bot.store.schema.core import conversations, journal_entries, staff_notices
from channels.base import DeliveryReport, DeliveryState
from journal.config import JournalConfig
from journal.export import export_tick
from journal.exporters.file_drop import FileDropExporter
from journal.journal import case_chain, unassigned_chain
from tests.bot.test_routing import work_phones
from tests.harness import Stack
from tests.journal.pdftext import lines

CONFIG = JournalConfig(export_timeout=5.0)
UNKNOWN = "+4520999001"


def _read(folder: Path) -> list[tuple[dict[str, Any], list[str]]]:
    out = []
    for p in sorted(folder.glob("*.json")):
        meta = json.loads(p.read_text())
        out.append((meta, lines((folder / meta["document"]["file_name"]).read_bytes())))
    return sorted(out, key=lambda d: (d[0]["chain"]["name"], d[0]["chain"]["seq"]))


async def exported(stack: Stack, folder: Path) -> list[tuple[dict[str, Any], list[str]]]:
    """Export every case entry not yet exported to ``folder``; every document there, read back."""
    await asyncio.to_thread(folder.mkdir, exist_ok=True)
    stats = await export_tick(stack.svc, CONFIG, [FileDropExporter(folder)])
    assert stats.failed == 0
    return await asyncio.to_thread(_read, folder)


async def _kinds(stack: Stack, chain: str) -> list[str]:
    async with stack.svc.read() as conn:
        q = select(journal_entries.c.kind).where(journal_entries.c.chain == chain)
        return list((await conn.execute(q.order_by(journal_entries.c.seq))).scalars())


async def test_an_unknown_numbers_messages_reach_the_case_system_once_filed(
    stack: Stack, tmp_path: Path
) -> None:
    """Before filing nothing of an unknown number is exported; filed on Anna's case, each message
    reaches the case system with its text and who filed it, and the unassigned chain never does."""
    w = stack.world
    assert (await stack.sms(UNKNOWN, "Hej, det er Anna fra en ny telefon")).status == 200
    assert await exported(stack, tmp_path / "drop") == []
    async with stack.svc.read() as conn:
        conv = (
            await conn.execute(select(conversations.c.id).where(conversations.c.case_id.is_(None)))
        ).scalar_one()
    hanne = StaffUser(w.hanne, w.tenant_id, w.team_children, "lead")
    await filing.file_thread(
        stack.svc, hanne, conv, case_id=w.cases["anna"],
        to=Recipient(person_id=w.persons["anna"], replace_number=True),
    )  # fmt: skip
    docs = await exported(stack, tmp_path / "drop")
    assert {m["chain"]["name"] for m, _ in docs} == {case_chain(w.cases["anna"])}
    assert [m["kind"] for m, _ in docs] == await _kinds(stack, case_chain(w.cases["anna"]))
    assert [m["kind"] for m, _ in docs][:2] == ["filed_in", "filed_in"]
    first = " ".join(docs[0][1])
    assert "Hej, det er Anna fra en ny telefon" in first
    assert "Arkiveret fra ikke fordelt på sag 2025-001 af Hanne Lund" in first
    assert "Hanne Lund (teamleder)" in first
    assert all(m["signed_head"] is not None for m, _ in docs)
    unassigned = await _kinds(stack, unassigned_chain(w.tenant_id))
    assert unassigned[-2:] == ["filed_out", "filed_out"]  # recorded there, never exported


async def _notices(stack: Stack) -> list[Any]:
    async with stack.svc.read() as conn:
        return list((await conn.execute(select(staff_notices))).all())


async def test_a_pages_delivery_report_is_kept_and_reaches_the_case_system(
    stack: Stack, tmp_path: Path
) -> None:
    """An urgent SMS pages the caseworker's phone; the gateway's report on the page moves the
    page to delivered (no longer "unknown message … ignored") and is journalised on the case,
    naming whose phone it reached; a replayed or backward report changes nothing."""
    w = stack.world
    await work_phones(stack)
    assert (await stack.sms(w.phones["anna"], "Det haster! Ring til mig.")).status == 200
    await stack.drain()
    await stack.settle()  # every report posted (and answered) by the gateway simulator
    for _ in range(200):
        pages = await _notices(stack)
        if pages and all(p.status == "delivered" for p in pages):
            break
        await asyncio.sleep(0.02)
    assert pages and {p.status for p in pages} == {"delivered"}, [p.status for p in pages]
    page = pages[0]
    kinds = await _kinds(stack, case_chain(w.cases["anna"]))
    assert kinds.count("page_delivered") == len(pages)
    before = len(kinds)
    report = DeliveryReport(page.provider_id, DeliveryState.SENT, "sent")
    assert not await apply_report(stack.svc, page.id, report)
    assert not await apply_report(
        stack.svc, page.id, DeliveryReport(page.provider_id, DeliveryState.FAILED, "failed")
    )
    assert len(await _kinds(stack, case_chain(w.cases["anna"]))) == before
    docs = await exported(stack, tmp_path / "drop")
    [(meta, text)] = [(m, t) for m, t in docs if m["kind"] == "page_delivered"][:1]
    assert meta["subject"] == "Besked til medarbejderens telefon leveret"
    assert "Akut besked til: Mette Holm (sagsbehandler)" in text


async def test_stop_and_its_confirmation_reach_every_case_file(
    stack: Stack, tmp_path: Path
) -> None:
    """Bo (two cases) sends STOP: each case file receives the consent change and the
    confirmation as sent; START later the same."""
    w = stack.world
    assert (await stack.sms(w.phones["bo"], "STOP")).status == 200
    stack.clock.advance(minutes=1)
    assert (await stack.sms(w.phones["bo"], "START")).status == 200
    docs = await exported(stack, tmp_path / "drop")
    for case in ("bo_children", "bo_jobs"):
        mine = [(m, t) for m, t in docs if m["chain"]["name"] == case_chain(w.cases[case])]
        assert [m["kind"] for m, _ in mine] == [
            "consent_opted_out", "consent_confirmation", "consent_opted_in", "consent_confirmation",
        ]  # fmt: skip
        stopped, started = (" ".join(t) for m, t in mine if m["kind"] == "consent_confirmation")
        assert " ".join(text("da", "stopped").split()) in stopped
        assert " ".join(text("da", "started").split()) in started
        assert all(m["signed_head"] is not None for m, _ in mine)


async def test_the_which_case_exchange_reaches_the_chosen_case_once_answered(
    stack: Stack, tmp_path: Path
) -> None:
    """Bo's message waits for "which case?"; nothing is exported while it waits. Answered "2",
    the Jobcenter case receives the message, the question as sent, and the answer, in order;
    the other case receives nothing."""
    w = stack.world
    bo = w.phones["bo"]
    assert (await stack.sms(bo, "Hvornår er mødet?")).status == 200
    await stack.relay()
    question = (await stack.sent_to(bo))[-1]
    assert await exported(stack, tmp_path / "drop") == []
    stack.clock.advance(minutes=2)
    assert (await stack.sms(bo, "2")).status == 200
    docs = await exported(stack, tmp_path / "drop")
    assert {m["chain"]["name"] for m, _ in docs} == {case_chain(w.cases["bo_jobs"])}
    kinds = [m["kind"] for m, _ in docs]
    assert kinds[:3] == ["sms_in", "clarify", "sms_in"], kinds
    asked = " ".join(docs[1][1])
    assert " ".join(question.split()[:8]) in asked and "2: Jobcenter (Lars)" in asked
    assert docs[1][0]["subject"] == "Spørgsmål til borgeren om hvilken sag (besvaret)"
    assert "Hvornår er mødet?" in " ".join(docs[0][1])

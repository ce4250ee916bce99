"""The export relay: every case entry reaches the case system, through failures and hangs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import func, insert, select

from bot.base.ids import new_id
from bot.store.schema.core import journal_entries, messages
from bot.store.schema.journal import journal_exports
from journal.config import JournalConfig
from journal.export import export_tick, reconcile
from journal.exporters import JournalExporter
from tests.harness import Stack, start_stack
from tests.journal.conftest import FRIDAY_MORNING
from tests.journal.receivers import FileReceiver, HttpReceiver, SmtpReceiver


class Receivers:
    """All three receiving ends at once, and the exporters that deliver to them."""

    def __init__(self, folder: Path, stack: Stack, aiohttp_server: Any) -> None:
        self.folder = folder
        self.stack = stack
        self.aiohttp_server = aiohttp_server

    async def __aenter__(self) -> Receivers:
        self.session = ClientSession()
        self.file = FileReceiver(self.folder)
        self.mail = await SmtpReceiver().start()
        self.http = await HttpReceiver(self.stack.clock, self.session).start(self.aiohttp_server)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.mail.close()
        await self.http.close()
        await self.session.close()

    def exporters(self, timeout: float = 5.0) -> list[JournalExporter]:
        return [r.exporter(timeout) for r in (self.file, self.mail, self.http)]


CONFIG = JournalConfig(export_timeout=5.0)


async def journal(stack: Stack, case: str = "anna", who: str = "mette") -> list[dict[str, Any]]:
    resp = await stack.api("GET", f"/api/v1/cases/{stack.world.cases[case]}/journal", who=who)
    assert resp.status == 200, await resp.text()
    return list((await resp.json())["items"])


async def note(stack: Stack, text: str = "Borgeren ringede.") -> str:
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/notes",
        json={"subject": "Telefonnotat", "text": text},
    )
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["id"])


async def test_case_entries_reach_every_enabled_exporter_once(
    stack: Stack, tmp_path: Path, aiohttp_server: Any
) -> None:
    """An SMS, its receipt and a note reach the drop folder, the mailbox and the HTTP endpoint;
    a message from an unknown number (no case) is not exported; nothing is sent twice."""
    await stack.sms(stack.world.phones["anna"], "Hej, kan vi flytte mødet?")
    await note(stack)
    await stack.sms("+4531234599", "Hvem er I?")  # unassigned: no case, no export
    async with Receivers(tmp_path / "drop", stack, aiohttp_server) as rx:
        stats = await export_tick(stack.svc, CONFIG, rx.exporters())
        assert (stats.fanned_out, stats.claimed, stats.exported, stats.failed) == (3, 9, 9, 0)
        assert (await export_tick(stack.svc, CONFIG, rx.exporters())).claimed == 0
        for receiver in (rx.file, rx.mail, rx.http):
            got = await receiver.delivered()
            assert [d.metadata["chain"]["seq"] for d in sorted(
                got, key=lambda d: d.metadata["chain"]["seq"])] == [1, 2, 3]  # fmt: skip
            assert {d.metadata["case_number"] for d in got} == {"2025-001"}
            assert {d.metadata["subject"] for d in got} == {
                "SMS fra borger",
                "Automatisk kvittering til borger",
                "Notat fra sagsbehandler",  # the caseworker's own line is sealed
            }
            anna = {
                "role": "party",
                "name": "Anna Andersen",
                "identifier": "tlf. xxxxxx" + stack.world.phones["anna"][-2:],
            }
            assert all(d.metadata["parties"] == [anna] for d in got)  # fmt: skip
    entries = await journal(stack)
    assert [e["export"]["state"] for e in entries] == ["exported"] * 3
    assert {x["exporter"] for x in entries[0]["export"]["exporters"]} == {"file", "mail", "http"}
    assert entries[2]["actor"] == f"staff:{stack.world.mette}"
    async with stack.svc.read() as conn:
        unassigned = (
            await conn.execute(
                select(func.count())
                .select_from(journal_exports)
                .join(journal_entries, journal_entries.c.id == journal_exports.c.entry_id)
                .where(journal_entries.c.case_id.is_(None))
            )
        ).scalar_one()
    assert unassigned == 0


async def test_a_failing_case_system_leaves_the_entry_pending_and_it_is_retried(
    stack: Stack, tmp_path: Path, aiohttp_server: Any
) -> None:
    """A missing drop folder, an HTTP 503, or a mailbox and endpoint that hang past the timeout
    keep the entry pending with the error visible in its export status; after the backoff it is
    retried and goes through."""
    await note(stack)
    async with Receivers(tmp_path / "drop", stack, aiohttp_server) as rx:
        rx.file.refuse()
        rx.http.refuse()
        stats = await export_tick(stack.svc, CONFIG, rx.exporters())
        assert (stats.exported, stats.failed) == (1, 2)  # the mailbox took it
        [entry] = await journal(stack)
        assert entry["export"]["state"] == "failing"
        status = {x["exporter"]: x for x in entry["export"]["exporters"]}
        assert status["file"]["state"] == "pending"
        assert status["file"]["last_error"].startswith("drop_dir_missing")
        assert status["http"]["last_error"].startswith("http_503")
        assert status["mail"]["state"] == "done" and status["mail"]["exported_at"]
        assert status["file"]["next_attempt_at"] > stack.clock.now().isoformat()
        # Not before the backoff has passed …
        assert (await export_tick(stack.svc, CONFIG, rx.exporters())).claimed == 0
        rx.file.accept()
        rx.http.accept()
        stack.clock.advance(minutes=1)
        stats = await export_tick(stack.svc, CONFIG, rx.exporters())
        assert (stats.claimed, stats.exported) == (2, 2)
        assert len(await rx.file.delivered()) == len(await rx.http.delivered()) == 1
        [entry] = await journal(stack)
        assert entry["export"]["state"] == "exported"
        attempts = {x["exporter"]: x["attempts"] for x in entry["export"]["exporters"]}
        assert attempts == {"file": 2, "http": 2, "mail": 1}

        # A mailbox and an endpoint that never answer are cut off at the timeout.
        second = await note(stack, "Endnu et notat.")
        rx.mail.hang()
        rx.http.hang()
        cfg = CONFIG.with_(export_timeout=0.3)
        started = time.monotonic()
        stats = await export_tick(stack.svc, cfg, rx.exporters(timeout=30))
        assert time.monotonic() - started < 10
        assert (stats.exported, stats.failed) == (1, 2)
        [entry] = [e for e in await journal(stack) if e["id"] == second]
        errors = {x["exporter"]: x["last_error"] for x in entry["export"]["exporters"]}
        assert errors["mail"].startswith("timeout") and errors["http"].startswith("timeout")
        rx.mail.accept()
        rx.http.accept()
        stack.clock.advance(minutes=1)
        assert (await export_tick(stack.svc, cfg, rx.exporters())).exported == 2
    assert [e["export"]["state"] for e in await journal(stack)] == ["exported", "exported"]


async def test_an_export_cut_short_by_a_crash_is_picked_up_after_the_lease(
    stack: Stack, tmp_path: Path, aiohttp_server: Any
) -> None:
    """A worker that dies mid-delivery leaves its claim; once the lease runs out the entry is
    delivered by the next tick."""
    await note(stack)
    async with Receivers(tmp_path / "drop", stack, aiohttp_server) as rx:
        rx.http.hang()
        exporters = [rx.http.exporter(timeout=30)]
        crashed = asyncio.ensure_future(export_tick(stack.svc, CONFIG, exporters))
        for _ in range(200):
            if rx.http.mode == "hang" and await _sending(stack):
                break
            await asyncio.sleep(0.02)
        crashed.cancel()
        await asyncio.gather(crashed, return_exceptions=True)
        rx.http.accept()
        assert (await export_tick(stack.svc, CONFIG, exporters)).claimed == 0  # still leased
        stack.clock.advance(minutes=3)
        assert (await export_tick(stack.svc, CONFIG, exporters)).exported == 1


async def _sending(stack: Stack) -> int:
    async with stack.svc.read() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(journal_exports)
                    .where(journal_exports.c.state == "sending")
                )
            ).scalar_one()
        )


async def test_reconcile_names_unjournalled_exchanges_and_late_exports(
    stack: Stack, tmp_path: Path
) -> None:
    """reconcile lists a message without a journal entry and entries not exported within 60 s,
    and is clean once the exports have gone through."""
    folder = tmp_path / "drop"
    folder.mkdir()
    cfg = JournalConfig(exporters=("file",), drop_dir=folder)
    await stack.sms(stack.world.phones["anna"], "Hej")
    assert (await reconcile(stack.svc, cfg)).ok  # within the minute: not late yet
    stray = new_id()
    async with stack.svc.write() as conn:
        conv = (await conn.execute(select(messages.c.conversation_id))).scalars().first()
        person = (await conn.execute(select(messages.c.person_id))).scalars().first()
        await conn.execute(
            insert(messages).values(
                id=stray,
                tenant_id=stack.world.tenant_id,
                conversation_id=conv,
                case_id=stack.world.cases["anna"],
                person_id=person,
                direction="out",
                kind="reply",
                key_scope="case",
                body_enc=b"\x01",
                status="queued",
                segments=1,
                awaiting_reply=False,
                created_at=stack.clock.now(),
            )
        )
    stack.clock.advance(seconds=61)
    report = await reconcile(stack.svc, cfg)
    assert [m.message_id for m in report.unjournalled] == [stray]
    assert report.unexported_total == 2
    assert {u.state for u in report.unexported} == {"queued"}
    assert stray in report.summary() and "not exported within 60 s" in report.summary()
    await export_tick(stack.svc, cfg)
    report = await reconcile(stack.svc, cfg)
    assert report.unexported_total == 0 and len(report.unjournalled) == 1
    assert "no exporter is configured" in (await reconcile(stack.svc, JournalConfig())).summary()


async def test_the_running_app_exports_on_its_own(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes], tmp_path: Path
) -> None:
    """With TOVHOLDER_JOURNAL_* set, the app's ticker exports new entries and anchors heads."""
    folder = tmp_path / "drop"
    folder.mkdir()
    sink = tmp_path / "heads.jsonl"
    stack = await start_stack(
        aiohttp_client,
        aiohttp_server,
        db_url,
        keys,
        start=FRIDAY_MORNING,
        scheduler_enabled=True,
        extra={
            "TOVHOLDER_JOURNAL_EXPORTERS": "file",
            "TOVHOLDER_JOURNAL_DROP_DIR": str(folder),
            "TOVHOLDER_JOURNAL_EXPORT_INTERVAL": "0.1",
            "TOVHOLDER_JOURNAL_HEADS_SINK": str(sink),
            "TOVHOLDER_JOURNAL_HEADS_KEY": "ab" * 32,
            "TOVHOLDER_JOURNAL_HEADS_INTERVAL": "0.1",
        },
    )
    try:
        await stack.sms(stack.world.phones["anna"], "Hej")
        from sqlalchemy import func, select

        from bot.store.schema.core import journal_entries

        filed = 0
        for _ in range(200):
            # Every case entry (the SMS, the receipt, and its delivery once reported) is exported.
            async with stack.svc.read() as conn:
                filed = (
                    await conn.execute(
                        select(func.count())
                        .select_from(journal_entries)
                        .where(journal_entries.c.case_id.is_not(None))
                    )
                ).scalar_one()
            if filed >= 2 and len(list(folder.glob("*.json"))) == filed and sink.exists():
                break
            await asyncio.sleep(0.05)
        assert filed >= 2 and len(list(folder.glob("*.pdf"))) == filed
        assert sink.read_text().count("\n") >= 1
    finally:
        await stack.session.close()

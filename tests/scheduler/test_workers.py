"""Exactly once across worker processes, including one killed mid-run (kill -9)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.base.ids import new_id
from bot.domain.directory import add_participant, create_case, create_person
from bot.store.schema.core import journal_entries, messages, outbox
from bot.store.schema.scheduler import deadlines, reminders
from scheduler.store import conversation_for
from tests.harness import Stack

ROOT = Path(__file__).resolve().parents[2]


async def _seed(stack: Stack, cases_n: int, per_case: int) -> int:
    """``cases_n`` cases with one citizen each, and ``per_case`` due deadline reminders per case."""
    svc, w = stack.svc, stack.world
    now = svc.clock.now()
    rows: list[dict[str, Any]] = []
    async with svc.write() as c:
        for i in range(cases_n):
            person = await create_person(
                c,
                svc,
                tenant_id=w.tenant_id,
                name=f"Borger {i}",
                first_name="Borger",
                phone=f"+45301{i:05d}",
            )
            case = await create_case(
                c,
                svc,
                tenant_id=w.tenant_id,
                administration_id=w.admin_jobs,
                team_id=w.team_jobs,
                owner_id=w.lars,
                number=f"X-{i}",
            )
            await add_participant(
                c, svc, tenant_id=w.tenant_id, case_id=case, person_id=person, role="party"
            )
            conv = await conversation_for(
                c, tenant_id=w.tenant_id, case_id=case, person_id=person, at=now
            )
            deadline = new_id()
            await c.execute(
                deadlines.insert().values(
                    id=deadline,
                    tenant_id=w.tenant_id,
                    case_id=case,
                    kind="andet",
                    due_on=date(2025, 6, 2),
                    remind_days=1,
                    status="open",
                    created_by=w.lars,
                    created_at=now,
                )
            )
            rows += [
                {
                    "id": new_id(),
                    "tenant_id": w.tenant_id,
                    "case_id": case,
                    "kind": "deadline",
                    "ref_id": deadline,
                    "person_id": person,
                    "conversation_id": conv,
                    "staff_id": None,
                    "nominal_at": now - timedelta(minutes=1),
                    "due_at": now - timedelta(minutes=1),
                    "event_at": None,
                    "expires_at": None,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for _ in range(per_case)
            ]
        await c.execute(reminders.insert(), rows)
    return len(rows)


async def _spawn(stack: Stack, keys: dict[str, bytes]) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TOVHOLDER_DATABASE_URL": stack.config.database_url,
        "TOVHOLDER_KEKS": keys["kek"].hex(),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": keys["kek"].hex(),
        "TOVHOLDER_INDEX_KEY": keys["index"].hex(),
        "TOVHOLDER_WORKER_UNTIL_IDLE": "1",
        "TOVHOLDER_WORKER_NOW": stack.clock.now().isoformat(),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scheduler.worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _scalar(stack: Stack, q: Any) -> int:
    async with stack.svc.read() as conn:
        return int((await conn.execute(q)).scalar_one())


async def _finish(proc: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def test_workers_in_separate_processes_send_each_reminder_exactly_once(
    stack: Stack, keys: dict[str, bytes]
) -> None:
    """10,000 due reminders, two worker processes, one killed by SIGKILL, a third finishes: one outbox row each."""
    # SQLite has one writer: there, one worker and 200 reminders.
    pg = not stack.svc.sqlite
    total = await _seed(stack, 50, 200 if pg else 4)
    sent_q = select(func.count()).select_from(reminders).where(reminders.c.state == "sent")
    if pg:
        first, second = await _spawn(stack, keys), await _spawn(stack, keys)
        for _ in range(2400):  # at most about two minutes
            if await _scalar(stack, sent_q) >= total // 10:
                break
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.communicate()
        await _finish(second)
    third = await _spawn(stack, keys)
    await _finish(third)

    assert await _scalar(stack, sent_q) == total
    per_reminder = (
        select(reminders.c.id, func.count(outbox.c.id).label("n"))
        .join(outbox, outbox.c.message_id == reminders.c.message_id, isouter=True)
        .group_by(reminders.c.id)
        .subquery()
    )
    assert (
        await _scalar(
            stack, select(func.count()).select_from(per_reminder).where(per_reminder.c.n == 1)
        )
        == total
    )
    assert (
        await _scalar(
            stack, select(func.count()).select_from(messages).where(messages.c.kind == "reminder")
        )
        == total
    )
    assert (
        await _scalar(
            stack,
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.kind == "sms_out_reminder"),
        )
        == total
    )

"""Several inbound SMS in one transaction (PostgreSQL).

Under load, SMS that arrive together are filed together (bot.base.batcher.GroupCommit): one
transaction and five statements for the whole batch instead of about five round trips
each. A batch files only what the one-at-a-time flow would file the same way without
asking anything more of the database: a known sender with one open case, whose
caseworker is at work, a message that is not urgent and that no hook answers. Anything
else (a duplicate is answered at once) goes back to the caller to be filed alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.batcher import GroupCommit
from bot.base.errors import StorageUnavailable
from bot.base.hooks import FiledSms, may_act, prefetch
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.domain import intents
from bot.domain.dispatch import Decision
from bot.domain.inbound_filing import (
    STORE,
    CaseFiling,
    InboundResult,
    Intake,
    is_ok,
    tenant_by_number,
)
from bot.domain.outbound import OutboundSms
from bot.domain.routing import local_day, team_calendar
from bot.store.inbound import Ask, Identified, OpenCase, Person, ThreadTouch
from bot.store.schema.core import messages
from channels.base import InboundSms
from journal.journal import NewEntry, append_many, case_chain, heads_parameters, hold_found_heads

# Under load (a batch running), a new batch waits for this many SMS, or this long.
INBOUND_GATHER = 8
INBOUND_LINGER = 0.005


@dataclass(frozen=True, slots=True)
class BatchedSms:
    """A verified inbound SMS waiting for a batch, with what the batch needs to know first."""

    sms: InboundSms
    provider: str
    recipient: str  # E.164
    sender: str  # E.164
    index: str  # the sender's blind index


@dataclass(slots=True)
class _ToFile:
    """One SMS of a batch that the batch files on its case."""

    n: int
    intake: Intake
    case: OpenCase
    person: Person
    calendar: WorkingCalendar
    decision: Decision
    # Its answer waits until it is written: hooks may read it, pages name it.
    after: bool
    # As the hooks see it, with what they fetched for the batch (set before the write).
    filed: FiledSms | None = None


Threads = dict[tuple[str, str], tuple[str, datetime | None]]


async def _touch_threads(conn: AsyncConnection, todo: Sequence[_ToFile]) -> Threads:
    """Each SMS's thread (made or touched): its id and the reply-by still open in it.

    Their cases' journal heads are held too (see journal.journal.hold_found_heads).
    """
    threads: Threads = {}
    for _ in range(3):  # twice at most: a second pass finds the threads it locked as they stay
        if not todo:
            return threads
        touched, heads = await STORE.touch_threads(
            conn,
            [ThreadTouch(f.intake.tenant.id, f.case.id, f.person.id, f.intake.now) for f in todo],
            heads_parameters({case_chain(f.case.id): f.intake.tenant.id for f in todo}),
        )
        hold_found_heads(conn, heads)
        for t in touched:
            threads[t.case_id, t.person_id] = (t.id, t.open_reply_by)
        todo = [f for f in todo if (f.case.id, f.person.id) not in threads]
    raise RuntimeError("threads changed under a batch three times over")


async def _to_file(
    conn: AsyncConnection,
    svc: Services,
    n: int,
    item: BatchedSms,
    tenant: Any,
    known: Identified,
    now: datetime,
) -> _ToFile | InboundResult | None:
    """What a batch does with one SMS: files it, answers it as a duplicate, or leaves it."""
    if known.seen is not None:
        return InboundResult(known.seen, True, "duplicate", queued=False)
    if known.staff_phone or known.asked or intents.goes_alone(item.sms.body):
        return None
    if known.choice is not None or len({c.case_id for c in known.candidates}) != 1:
        return None
    pick = known.candidates[0]
    case = known.cases[pick.case_id]
    intake = Intake(
        svc,
        conn,
        item.sms,
        item.provider,
        tenant,
        item.sender,
        now,
        may_emit=known.may_emit,
        cases=known.cases,
    )
    calendar = await team_calendar(conn, svc, case)
    decision = await intake.decide(case, calendar)
    person = next(p for p in known.people if p.id == pick.person_id)
    after = decision.urgent or may_act(svc.inbound_hooks, item.sms.body)
    return _ToFile(n, intake, case, person, calendar, decision, after)


async def _sorted_out(
    conn: AsyncConnection,
    svc: Services,
    items: Sequence[BatchedSms],
    now: datetime,
    results: list[InboundResult | None],
) -> list[_ToFile]:
    """The SMS the batch files (duplicates answered in ``results``; the rest left alone)."""
    tenants = {n: await tenant_by_number(conn, svc, item.recipient) for n, item in enumerate(items)}
    asked = {
        n: Ask(
            provider=item.provider,
            provider_id=item.sms.provider_id,
            tenant_id=tenants[n].id,
            phone_index=item.index,
            sender=item.sender,
            ok=is_ok(item.sms.body),
        )
        for n, item in enumerate(items)
        if tenants[n]
    }
    if not asked:
        return []
    found = await STORE.identify_many(conn, asked, day=local_day(now))
    todo: list[_ToFile] = []
    for n in asked:
        done = await _to_file(conn, svc, n, items[n], tenants[n], found[n], now)
        if isinstance(done, _ToFile):
            todo.append(done)
        else:
            results[n] = done
    # An SMS whose answer is written after the batch's first insert (hooks, pages)
    # keeps its case's chain to itself: another SMS on the case would be journalised
    # between its entries. The others on that case go alone, after the batch.
    waits = {f.case.id for f in todo if f.after}
    first: dict[str, _ToFile] = {}
    for f in todo:
        first.setdefault(f.case.id, f)
    return [f for f in todo if f.case.id not in waits or first[f.case.id] is f]


async def _hooks_first(filings: Sequence[tuple[_ToFile, CaseFiling]]) -> None:
    """What the hooks read of the batch's SMS they may answer, fetched at once for all of
    them (their next appointments, their cases' timelines) before anything is written.

    An SMS that no hook will answer after all (no appointment coming up, no timeline)
    is answered with the batch's write, as a plain SMS: the hooks would have passed it
    over after the write too, which changes none of what they read.
    """
    asking = [(f, filing) for f, filing in filings if f.after and not filing.decision.urgent]
    if not asking:
        return  # urgent SMS are not asked about: no hook sees them
    shared: dict[Any, Any] = {}
    filed = [f.intake.filed(filing, shared) for f, filing in asking]
    maybe = await prefetch(asking[0][0].intake.svc.inbound_hooks, filed)
    for i, ((f, _), sms) in enumerate(zip(asking, filed, strict=True)):
        f.filed = sms
        f.after = i in maybe


async def _file_all(
    conn: AsyncConnection, todo: Sequence[_ToFile], results: list[InboundResult | None]
) -> list[tuple[_ToFile, CaseFiling]]:
    """Write every SMS of the batch, and the answers that need nothing more, in one statement."""
    threads = await _touch_threads(conn, todo)
    stored: list[dict[str, Any]] = []
    entries: list[NewEntry] = []
    replies: list[OutboundSms] = []
    filings: list[tuple[_ToFile, CaseFiling]] = []
    for f in todo:
        conv_id, already_open = threads[f.case.id, f.person.id]
        filing = f.intake.on_case(f.case, f.person, conv_id, already_open, f.calendar, f.decision)
        filings.append((f, filing))
    await _hooks_first(filings)
    for f, filing in filings:
        stored.append(filing.stored)
        entries.append(filing.entry)
        if f.after:
            continue
        answer, reply, results[f.n] = await f.intake.answer(filing, None)
        entries += answer
        replies += [reply] if reply else []
    await append_many(
        conn, entries, rows_first=[(messages, stored), *OutboundSms.rows(replies)], arrays=True
    )
    for f, filing in filings:
        await f.intake.emit(filing.message_id, filing.conv_id, f.case.id)
    return filings


async def _answer_after(
    conn: AsyncConnection,
    filings: Sequence[tuple[_ToFile, CaseFiling]],
    results: list[InboundResult | None],
) -> None:
    """The hooks and pages of the SMS that need them, and their answers in one statement."""
    entries: list[NewEntry] = []
    replies: list[OutboundSms] = []
    for f, filing in filings:
        if not f.after:
            continue
        outcome = await f.intake.run_hooks(filing, f.filed)
        answer, reply, results[f.n] = await f.intake.answer(filing, outcome)
        entries += answer
        replies += [reply] if reply else []
    if entries:
        await append_many(conn, entries, rows_first=OutboundSms.rows(replies), arrays=True)


async def file_batch(svc: Services, items: Sequence[BatchedSms]) -> list[InboundResult | None]:
    """File a batch of SMS in one transaction (PostgreSQL); None: left to be filed alone.

    What one SMS at a time does in its own transaction (see Intake.run), for all
    of them at once: their threads touched, journal heads held, messages and journal
    entries written, and the answers that need nothing more (receipts) with them in
    one statement; then the hooks and pages of those that need them, and their
    answers in one more.

    Raises:
        StorageUnavailable: the database is down (nothing of the batch is kept).
    """
    results: list[InboundResult | None] = [None] * len(items)
    if len(items) < 2 or svc.sqlite:
        return results  # alone, an SMS costs fewer statements one at a time
    async with svc.write() as conn:
        now = svc.clock.now()  # the batch's SMS are filed at one time
        todo = await _sorted_out(conn, svc, items, now, results)
        if todo:
            await _answer_after(conn, await _file_all(conn, todo, results), results)
    return results


def inbound_batcher(svc: Services) -> GroupCommit[BatchedSms, InboundResult] | None:
    """The service's batcher for inbound SMS; None where SMS go one at a time (SQLite)."""
    if svc.sqlite or svc.config.inbound_batch < 2:
        return None

    async def handle(items: Sequence[BatchedSms]) -> list[InboundResult | None]:
        try:
            results = await file_batch(svc, items)
        except Exception:
            metrics.inbound_batch("failed")
            raise
        if len(items) > 1:
            metrics.inbound_batch("ok")
        return results

    return GroupCommit(
        handle,
        key=lambda item: item.index,
        size=svc.config.inbound_batch,
        lanes=svc.config.inbound_lanes,
        gather=INBOUND_GATHER,
        linger=INBOUND_LINGER,
        # The database down: every SMS of the batch is answered 503 (the gateway retries),
        # rather than each trying again alone.
        passes=(StorageUnavailable,),
        name="inbound",
    )

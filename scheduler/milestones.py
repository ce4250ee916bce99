"""Milepæle: a case's timeline, step by step, like parcel tracking.

The case system starts a timeline from the case type's template and moves it
through the API; each move is journalised and can tell the entitled
participants, in one short sentence, where their case is and what comes next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.outbound import queue_sms
from bot.store.events import emit
from bot.store.schema.scheduler import milestones, reminders
from scheduler.casetypes import (
    expected_dates,
    policy_for_tenant,
    snapshot_timeline,
    timeline_policy,
)
from scheduler.store import (
    case_for,
    case_key,
    conversation_for,
    entitled_people,
    local_date,
    note,
    require_open,
)
from scheduler.templates import (
    CaseTypePolicy,
    StepTemplate,
    say,
    speaks,
    step_update,
    title,
    what_comes_next,
)

log = logging.getLogger(__name__)

MAX_REASON = 500


async def _policy(conn: AsyncConnection, tenant_id: str, case_type: str) -> CaseTypePolicy:
    """The municipality's current template for a case type (400 when there is none)."""
    policy = await policy_for_tenant(conn, tenant_id, case_type)
    if policy is None:
        raise BadInput(f"Unknown case type: {case_type}", code="unknown_case_type")
    return policy


async def _steps(conn: AsyncConnection, case_id: str) -> list[Any]:
    return list(
        await conn.execute(
            select(milestones)
            .where(milestones.c.case_id == case_id)
            .order_by(milestones.c.position)
        )
    )


async def _timeline(conn: AsyncConnection, case: Any) -> tuple[list[Any], CaseTypePolicy | None]:
    """The case's steps and the template they follow (404 when the case has no timeline)."""
    rows = await _steps(conn, case.id)
    if not rows:
        raise NotFound("The case has no timeline", code="timeline_not_found")
    return rows, await timeline_policy(conn, case)


def _as_json(case: Any, rows: list[Any], policy: CaseTypePolicy | None) -> dict[str, Any]:
    items = []
    for r in rows:
        tpl = policy.step(r.step) if policy else None
        items.append(
            {
                "step": r.step,
                "title": title(tpl, "da") if tpl else r.step,
                "status": r.status,
                "expected_on": r.expected_on.isoformat() if r.expected_on else None,
                "started_at": r.started_at.isoformat() if r.started_at else None,
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
            }
        )
    current = next((r.step for r in rows if r.status == "current"), None)
    return {"case_id": case.id, "case_type": case.case_type, "current": current, "steps": items}


async def ensure_nudge(conn: AsyncConnection, *, case: Any, now: datetime) -> None:
    """Make sure the case has its one recurring "no news for a while" row."""
    if await policy_for_tenant(conn, case.tenant_id, case.case_type) is None:
        return
    key = f"nudge:{case.id}"
    exists = (
        await conn.execute(select(reminders.c.id).where(reminders.c.dedupe_key == key))
    ).first()
    if exists is None:
        await conn.execute(
            reminders.insert().values(
                id=new_id(),
                tenant_id=case.tenant_id,
                case_id=case.id,
                kind="nudge",
                ref_id=case.id,
                staff_id=case.owner_id,
                nominal_at=now,
                due_at=now,
                state="pending",
                attempts=0,
                dedupe_key=key,
                created_at=now,
            )
        )


async def start_timeline(
    svc: Services,
    user: StaffUser,
    case_id: str,
    *,
    case_type: str | None = None,
    start: date | None = None,
    expected: dict[str, date] | None = None,
) -> dict[str, Any]:
    """Start a case's timeline from its case type's template.

    Raises:
        NotFound: no such case for this user.
        BadInput: unknown case type or step, a type that is not the case's,
            an expected date before the start.
        Conflict: the case already has a timeline, or is closed.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        require_open(case)
        wanted = case_type or case.case_type
        policy = await _policy(conn, case.tenant_id, wanted)
        if wanted != case.case_type:
            raise BadInput(
                f"The case is of type {case.case_type}, not {wanted}", code="case_type_mismatch"
            )
        if await _steps(conn, case_id):
            raise Conflict("The case already has a timeline", code="timeline_exists")
        first = start or local_date(now)
        overrides = dict(expected or {})
        for key, when in overrides.items():
            if policy.step(key) is None:
                raise BadInput(f"Unknown step: {key}", code="unknown_step")
            if when < first:
                raise BadInput(f"{key} is expected before the timeline starts", code="bad_date")
        planned = expected_dates(policy, first, svc.calendar)
        for position, step in enumerate(policy.steps):
            when = overrides.get(step.key) or planned[step.key]
            await conn.execute(
                milestones.insert().values(
                    id=new_id(),
                    tenant_id=case.tenant_id,
                    case_id=case_id,
                    position=position,
                    step=step.key,
                    expected_on=when,
                    status="current" if position == 0 else "pending",
                    started_at=now if position == 0 else None,
                    updated_at=now,
                    created_at=now,
                )
            )
        await note(
            conn,
            tenant_id=case.tenant_id,
            case_id=case_id,
            kind="milestones_started",
            subject=f"Tidsplan startet ({policy.key}): {title(policy.steps[0], 'da')}",
            actor=f"staff:{user.id}",
            at=now,
        )
        await snapshot_timeline(conn, case=case, policy=policy, at=now)
        await ensure_nudge(conn, case=case, now=now)
        return _as_json(case, await _steps(conn, case_id), policy)


async def get_timeline(svc: Services, user: StaffUser, case_id: str) -> dict[str, Any]:
    """The case's timeline (404 when it has none)."""
    async with svc.read() as conn:
        case = await case_for(conn, user, case_id)
        rows, policy = await _timeline(conn, case)
    return _as_json(case, rows, policy)


def update_text(policy: CaseTypePolicy, rows: list[Any], target: str, language: str) -> str:
    """ "Din sag er nu sendt til visitation. Næste skridt: … Forventet svar: …" """
    tpl = policy.step(target)
    assert tpl is not None
    language = language if speaks(policy, language) else "da"
    keys = [r.step for r in rows]
    idx = keys.index(target)
    if idx + 1 >= len(rows):
        return step_update(tpl, language, following=False)
    nxt = rows[idx + 1]
    return step_update(
        tpl,
        language,
        following=True,
        next_step=policy.step(nxt.step),
        expected_on=nxt.expected_on,
    )


def _what_comes_next(policy: CaseTypePolicy, nxt: Any, language: str) -> list[str]:
    """ "Næste skridt: … Forventet svar: …" for the step ``nxt``, as far as it is known."""
    return what_comes_next(language, policy.step(nxt.step), nxt.expected_on)


def _clean_reason(reason: str | None) -> str | None:
    """The reason for a move as it is journalised: trimmed, None when blank.

    Raises:
        BadInput: longer than :data:`MAX_REASON`.
    """
    if reason is not None:
        reason = reason.strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise BadInput(f"reason is longer than {MAX_REASON} characters", code="bad_field")
    return reason


@dataclass(frozen=True, slots=True)
class _Move:
    """A move of a timeline that passed the checks: to which step, and which way."""

    policy: CaseTypePolicy
    target: Any  # the milestones row moved to
    tpl: StepTemplate  # its step in the template
    backwards: bool


def _check_move(
    rows: list[Any],
    policy: CaseTypePolicy | None,
    step: str,
    *,
    reason: str | None,
    next_expected_on: date | None,
    today: date,
) -> _Move:
    """The move to ``step``, if the timeline allows it (see :func:`move_step`'s BadInput)."""
    target = next((r for r in rows if r.step == step), None)
    tpl = policy.step(step) if policy else None
    if target is None or policy is None or tpl is None:
        raise BadInput(f"Unknown step: {step}", code="unknown_step")
    current = next((r for r in rows if r.status == "current"), rows[0])
    if target.position == current.position and current.status == "current":
        raise BadInput("The case is already at that step", code="same_step")
    backwards = target.position < current.position
    if backwards and reason is None:
        raise BadInput("Moving a step backwards needs a reason", code="reason_required")
    if next_expected_on is not None:
        if next_expected_on < today:
            raise BadInput("next_expected_on is in the past", code="bad_date")
        if target.position + 1 >= len(rows):
            raise BadInput("There is no next step", code="no_next_step")
    return _Move(policy, target, tpl, backwards)


def _step_values(
    row: Any, target: int, now: datetime, next_expected_on: date | None
) -> dict[str, Any]:
    """What a step becomes when the timeline moves to position ``target``."""
    if row.position < target:
        values: dict[str, Any] = {"status": "done"}
        if row.completed_at is None:
            values["completed_at"] = now
    elif row.position == target:
        values = {"status": "current", "started_at": now, "completed_at": None}
    else:
        values = {"status": "pending", "completed_at": None}
        if row.position == target + 1 and next_expected_on is not None:
            values["expected_on"] = next_expected_on
    return values


async def _tell_participants(
    conn: AsyncConnection,
    svc: Services,
    *,
    case: Any,
    move: _Move,
    rows: list[Any],
    key: SealingKey,
    author_id: str,
    now: datetime,
) -> None:
    """Queue each entitled participant the one-sentence update (the gate minds quiet hours)."""
    people = await entitled_people(conn, case.id)
    for person in people:
        conv_id = await conversation_for(
            conn,
            tenant_id=case.tenant_id,
            case_id=case.id,
            person_id=person.person_id,
            at=now,
        )
        await queue_sms(
            conn,
            tenant_id=case.tenant_id,
            conversation_id=conv_id,
            case_id=case.id,
            person_id=person.person_id,
            kind="update",
            body=update_text(move.policy, rows, move.target.step, person.language),
            key=key,
            at=now,
            author_id=author_id,
            subject=f"Opdatering til borger: {title(move.tpl, 'da')}",
            language=person.language,
        )


async def move_step(
    svc: Services,
    user: StaffUser,
    case_id: str,
    *,
    step: str,
    reason: str | None = None,
    next_expected_on: date | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Move the timeline to ``step``; journalise it and (by default) tell the participants.

    Moving backwards needs a reason (journalised, sealed under the case key).

    Raises:
        NotFound: no such case, or it has no timeline.
        BadInput: unknown step, the step is already current, a backward move
            without a reason, an expected date in the past.
        Conflict: the case is closed.
    """
    reason = _clean_reason(reason)
    now = svc.clock.now()
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        require_open(case)
        rows, policy = await _timeline(conn, case)
        move = _check_move(
            rows,
            policy,
            step,
            reason=reason,
            next_expected_on=next_expected_on,
            today=local_date(now),
        )
        for r in rows:
            values = _step_values(r, move.target.position, now, next_expected_on)
            await conn.execute(
                update(milestones).where(milestones.c.id == r.id).values(updated_at=now, **values)
            )
        key = case_key(svc, case.id, case.dek)
        direction = " (tilbage)" if move.backwards else ""
        await note(
            conn,
            tenant_id=case.tenant_id,
            case_id=case_id,
            kind="milestone_moved",
            subject=f"Milepæl{direction}: {title(move.tpl, 'da')}",
            actor=f"staff:{user.id}",
            at=now,
            content=f"Begrundelse: {reason}" if reason else None,
            key=key,
        )
        await emit(
            conn,
            tenant_id=case.tenant_id,
            event="milestone.changed",
            payload={
                "case_id": case_id,
                "step": step,
                "direction": "backward" if move.backwards else "forward",
            },
            at=now,
        )
        rows = await _steps(conn, case_id)
        if notify:
            await _tell_participants(
                conn, svc, case=case, move=move, rows=rows, key=key, author_id=user.id, now=now
            )
        result = _as_json(case, rows, policy)
    svc.wake_relay()
    return result


async def status_text(
    conn: AsyncConnection, case: Any, language: str, steps: list[Any] | None = None
) -> str | None:
    """What "STATUS" answers: the current step and the next expected date, nothing more.

    None when the case has no timeline: then a caseworker answers instead.

    Args:
        steps: the case's steps, when fetched already (:func:`steps_of_many`).
    """
    rows = steps if steps is not None else await _steps(conn, case.id)
    policy = await timeline_policy(conn, case) if rows else None
    current = next((r for r in rows if r.status == "current"), None)
    if policy is None or current is None:
        return None
    tpl = policy.step(current.step)
    language = language if speaks(policy, language) else "da"
    parts = [say(language, "status", step=title(tpl, language) if tpl else current.step)]
    later = [r for r in rows if r.position > current.position]
    if later:
        parts += _what_comes_next(policy, later[0], language)
    return " ".join(parts)


def next_expected(rows: list[Any]) -> tuple[str | None, date | None]:
    """The next step's key and expected date after the current one (for nudges)."""
    current = next((r for r in rows if r.status == "current"), None)
    if current is None:
        return None, None
    later = [r for r in rows if r.position > current.position]
    if not later:
        return None, None
    return later[0].step, later[0].expected_on


async def steps_of(conn: AsyncConnection, case_id: str) -> list[Any]:
    return await _steps(conn, case_id)


async def steps_of_many(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, list[Any]]:
    """Each case's steps in order (an empty list: no timeline), in one statement."""
    found: dict[str, list[Any]] = {case_id: [] for case_id in case_ids}
    rows = await conn.execute(
        select(milestones)
        .where(milestones.c.case_id.in_(list(found)))
        .order_by(milestones.c.case_id, milestones.c.position)
    )
    for row in rows:
        found[row.case_id].append(row)
    return found

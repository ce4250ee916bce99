"""Sagstyper per municipality: timeline templates and follow-up policy, stored and edited.

The built-in case types in ``scheduler.templates`` are the defaults. The first
time a municipality's case types are read or edited, the defaults are stored
for it (``case_type_templates``, one row per case type); from then on the
stored template is the one that applies, and a team lead (or the case system,
with an integration key) can change it.

A timeline keeps the template it was started from: ``start_timeline`` stores
a copy (``timeline_templates``), and everything about a running timeline
(titles, what the citizen is told when a step is reached) is read from that
copy. An edit applies to timelines started after it. The follow-up policy
(nudge interval, automatic "still working" update) is not part of a timeline
and follows the current template.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import i18n
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.workdays import WorkingCalendar
from bot.domain.guard import refuse_decision
from bot.domain.privacy import tenant_settings_for
from bot.domain.reply_templates import LONG_DAY, refuse_if_too_long
from bot.store.schema.scheduler import case_type_templates, timeline_templates
from scheduler.templates import CASE_TYPES, CaseTypePolicy, StepTemplate, speaks, step_update

__all__ = [
    "check_sms",
    "from_json",
    "parse_template",
    "policy_for_case",
    "policy_for_tenant",
    "read_template",
    "snapshot_timeline",
    "timeline_policy",
    "to_json",
    "write_template",
]

MAX_STEPS = 20
MAX_DAYS = 366
MAX_TITLE = 80
MAX_REACHED = 300
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_STEP_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_LANG = re.compile(r"^[a-z]{2,3}$")


def to_json(policy: CaseTypePolicy) -> dict[str, Any]:
    """A policy as the API and the database hold it."""
    steps = []
    for s in policy.steps:
        item: dict[str, Any] = {
            "key": s.key,
            "title": dict(s.title),
            "reached": dict(s.reached),
            "expected_after": s.expected_after,
        }
        if s.after is not None:
            item["after"] = s.after
        steps.append(item)
    return {"steps": steps, "nudge_days": policy.nudge_days, "auto_update": policy.auto_update}


def from_json(code: str, data: dict[str, Any]) -> CaseTypePolicy:
    """A stored (already validated) policy back as the runtime object."""
    return CaseTypePolicy(
        code,
        tuple(
            StepTemplate(
                s["key"],
                dict(s["title"]),
                dict(s["reached"]),
                int(s["expected_after"]),
                s.get("after"),
            )
            for s in data["steps"]
        ),
        nudge_days=int(data["nudge_days"]),
        auto_update=bool(data["auto_update"]),
    )


def _texts(raw: Any, where: str, limit: int) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise BadInput(f"{where} must map languages to text", code="bad_field")
    out: dict[str, str] = {}
    for lang, value in raw.items():
        if not isinstance(lang, str) or not _LANG.match(lang):
            raise BadInput(f"{where}: {lang!r} is not a language code", code="bad_field")
        if not isinstance(value, str) or not value.strip():
            raise BadInput(f"{where}.{lang} must be text", code="bad_field")
        if len(value.strip()) > limit:
            raise BadInput(f"{where}.{lang} is longer than {limit} characters", code="bad_field")
        out[lang] = value.strip()
    if "da" not in out:
        raise BadInput(f"{where} needs Danish text (da)", code="danish_required")
    return out


def _whole(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise BadInput(f"{where} must be a whole number of working days", code="bad_offset")
    if raw < 0:
        raise BadInput(f"{where} must not be negative", code="negative_offset")
    if raw > MAX_DAYS:
        raise BadInput(f"{where} may be at most {MAX_DAYS} working days", code="bad_offset")
    return raw


def parse_template(code: str, data: dict[str, Any]) -> CaseTypePolicy:
    """Validate a template as sent to ``PUT /api/v1/case-types/{code}/template``.

    Raises:
        BadInput: ``unknown_field``, ``bad_field``, ``danish_required``,
            ``bad_offset``, ``negative_offset``, ``duplicate_step``,
            ``unknown_step`` (an ``after`` naming no step), ``bad_step_order``
            (an ``after`` naming a later step), ``no_steps`` or ``too_many_steps``.
    """
    unknown = sorted(set(data) - {"steps", "nudge_days", "auto_update"})
    if unknown:
        raise BadInput(f"Unknown field: {unknown[0]}", code="unknown_field")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise BadInput("steps must be a list", code="bad_field")
    if not raw_steps:
        raise BadInput("A timeline needs at least one step", code="no_steps")
    if len(raw_steps) > MAX_STEPS:
        raise BadInput(f"A timeline has at most {MAX_STEPS} steps", code="too_many_steps")
    steps: list[StepTemplate] = []
    seen: set[str] = set()
    all_keys = {s.get("key") for s in raw_steps if isinstance(s, dict)}
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise BadInput(f"{where} must be an object", code="bad_field")
        extra = sorted(set(raw) - {"key", "title", "reached", "expected_after", "after"})
        if extra:
            raise BadInput(f"Unknown field: {where}.{extra[0]}", code="unknown_field")
        key = raw.get("key")
        if not isinstance(key, str) or not _STEP_KEY.match(key):
            raise BadInput(
                f"{where}.key must be lower-case letters, digits and _", code="bad_field"
            )
        if key in seen:
            raise BadInput(f"The step {key} appears twice", code="duplicate_step")
        after = raw.get("after")
        if after is not None:
            if not isinstance(after, str) or after not in all_keys:
                raise BadInput(f"{where}.after names no step of this template", code="unknown_step")
            if after not in seen:
                raise BadInput(f"{where}.after must name an earlier step", code="bad_step_order")
        seen.add(key)
        steps.append(
            StepTemplate(
                key,
                _texts(raw.get("title"), f"{where}.title", MAX_TITLE),
                _texts(raw.get("reached"), f"{where}.reached", MAX_REACHED),
                _whole(raw.get("expected_after"), f"{where}.expected_after"),
                after,
            )
        )
    nudge_days = _whole(data.get("nudge_days"), "nudge_days")
    if nudge_days < 1:
        raise BadInput("nudge_days must be at least 1", code="bad_offset")
    auto = data.get("auto_update")
    if not isinstance(auto, bool):
        raise BadInput("auto_update must be true or false", code="bad_field")
    return CaseTypePolicy(code, tuple(steps), nudge_days=nudge_days, auto_update=auto)


def check_sms(policy: CaseTypePolicy, max_segments: int) -> None:
    """Refuse a template whose updates would not go by SMS as written, in any of its languages.

    Each step's update is put together as a citizen would get it (what was
    reached, the next step's title and the longest date of the language, by
    :func:`scheduler.templates.step_update`) in every language the template
    names or the catalogue completes (Danish always), and counted against the
    municipality's segment limit in that language's encoding (Ukrainian and
    Arabic as UCS-2) by the count reply templates use. It is also read by the
    decision guard, as reply templates are: an afgørelse does not go by SMS.

    Raises:
        BadInput: ``template_too_long`` naming the step and the language.
        DecisionNotAllowed: ``decision_not_allowed``, a step's update reads as an afgørelse.
    """
    named = {lang for s in policy.steps for lang in (*s.title, *s.reached)}
    languages = [
        lang
        for lang in i18n.LANGUAGES
        if lang == i18n.DEFAULT or lang in named or speaks(policy, lang)
    ]
    for language in languages:
        for i, step in enumerate(policy.steps):
            following = i + 1 < len(policy.steps)
            filled = step_update(
                step,
                language,
                following=following,
                next_step=policy.steps[i + 1] if following else None,
                expected_on=LONG_DAY if following else None,
            )
            refuse_if_too_long(
                filled, max_segments, language, what=f"Trin {i + 1} ({step.key}) som SMS"
            )
            refuse_decision(filled)


def expected_dates(
    policy: CaseTypePolicy, first: date, calendar: WorkingCalendar
) -> dict[str, date]:
    """Each step's expected date: working days after the start, or after the step it follows."""
    when: dict[str, date] = {}
    for step in policy.steps:
        base = when[step.after] if step.after else first
        when[step.key] = calendar.add_working_days(base, step.expected_after)
    return when


# -- storage -------------------------------------------------------------------------------------


async def _seed(conn: AsyncConnection, tenant_id: str, at: datetime) -> None:
    """Store the built-in defaults for a municipality that has none of them yet."""
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        case_type_templates
    )
    await conn.execute(
        ins.on_conflict_do_nothing(),
        [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "code": code,
                "template": json.dumps(to_json(policy), ensure_ascii=False, sort_keys=True),
                "version": 1,
                "updated_by": None,
                "updated_at": at,
            }
            for code, policy in sorted(CASE_TYPES.items())
        ],
    )


async def policy_for_tenant(
    conn: AsyncConnection, tenant_id: str, code: str
) -> CaseTypePolicy | None:
    """The case type as this municipality has it (the built-in default if not stored)."""
    raw = (
        await conn.execute(
            select(case_type_templates.c.template).where(
                case_type_templates.c.tenant_id == tenant_id, case_type_templates.c.code == code
            )
        )
    ).scalar_one_or_none()
    if raw is not None:
        return from_json(code, json.loads(raw))
    return CASE_TYPES.get(code)


async def policies_for_tenants(
    conn: AsyncConnection, tenant_ids: list[str]
) -> dict[tuple[str, str], CaseTypePolicy]:
    """Every stored case type of these municipalities, keyed (tenant_id, code)."""
    if not tenant_ids:
        return {}
    rows = await conn.execute(
        select(
            case_type_templates.c.tenant_id,
            case_type_templates.c.code,
            case_type_templates.c.template,
        ).where(case_type_templates.c.tenant_id.in_(tenant_ids))
    )
    return {(r.tenant_id, r.code): from_json(r.code, json.loads(r.template)) for r in rows}


def pick_policy(
    stored: dict[tuple[str, str], CaseTypePolicy], tenant_id: str, code: str
) -> CaseTypePolicy | None:
    """From ``policies_for_tenants``: the municipality's, else the built-in default."""
    return stored.get((tenant_id, code)) or CASE_TYPES.get(code)


async def read_template(conn: AsyncConnection, tenant_id: str, code: str, at: datetime) -> Any:
    """The stored row for a case type (defaults seeded first); 404 for an unknown code."""
    await _seed(conn, tenant_id, at)
    row = (
        await conn.execute(
            select(case_type_templates).where(
                case_type_templates.c.tenant_id == tenant_id, case_type_templates.c.code == code
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such case type", code="case_type_not_found")
    return row


def as_response(row: Any) -> dict[str, Any]:
    return {
        "code": row.code,
        "version": row.version,
        **json.loads(row.template),
        "updated_at": row.updated_at.isoformat(),
    }


async def write_template(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    code: str,
    data: dict[str, Any],
    at: datetime,
    staff_id: str | None,
) -> dict[str, Any]:
    """Validate and store a municipality's template for a case type (a new version).

    A code the municipality does not have yet is created; validation happens
    before anything is written: :func:`parse_template`, then :func:`check_sms`
    against the municipality's segment limit.

    Raises:
        BadInput: ``bad_code``, what :func:`parse_template` raises,
            ``template_too_long`` (naming the step and the language) or
            ``decision_not_allowed``.
    """
    if not _CODE.match(code):
        raise BadInput("A case type code is 2–32 lower-case letters, digits and _", code="bad_code")
    policy = parse_template(code, data)
    check_sms(policy, (await tenant_settings_for(conn, tenant_id)).max_segments)
    stored = json.dumps(to_json(policy), ensure_ascii=False, sort_keys=True)
    await _seed(conn, tenant_id, at)
    current = (
        await conn.execute(
            select(case_type_templates.c.id, case_type_templates.c.version).where(
                case_type_templates.c.tenant_id == tenant_id, case_type_templates.c.code == code
            )
        )
    ).first()
    if current is None:
        await conn.execute(
            case_type_templates.insert().values(
                id=new_id(),
                tenant_id=tenant_id,
                code=code,
                template=stored,
                version=1,
                updated_by=staff_id,
                updated_at=at,
            )
        )
    else:
        await conn.execute(
            update(case_type_templates)
            .where(case_type_templates.c.id == current.id)
            .values(
                template=stored,
                version=case_type_templates.c.version + 1,
                updated_by=staff_id,
                updated_at=at,
            )
        )
    return as_response(await read_template(conn, tenant_id, code, at))


async def snapshot_timeline(
    conn: AsyncConnection, *, case: Any, policy: CaseTypePolicy, at: datetime
) -> None:
    """Keep the template a case's timeline starts from, as it is now."""
    version = (
        await conn.execute(
            select(case_type_templates.c.version).where(
                case_type_templates.c.tenant_id == case.tenant_id,
                case_type_templates.c.code == policy.key,
            )
        )
    ).scalar_one_or_none()
    await conn.execute(
        timeline_templates.insert().values(
            case_id=case.id,
            tenant_id=case.tenant_id,
            code=policy.key,
            version=version or 0,
            template=json.dumps(to_json(policy), ensure_ascii=False, sort_keys=True),
            created_at=at,
        )
    )


async def timeline_policy(conn: AsyncConnection, case: Any) -> CaseTypePolicy | None:
    """The template a case's running timeline follows: its own copy, else the current one."""
    raw = (
        await conn.execute(
            select(timeline_templates.c.code, timeline_templates.c.template).where(
                timeline_templates.c.case_id == case.id
            )
        )
    ).first()
    if raw is not None:
        return from_json(raw.code, json.loads(raw.template))
    return await policy_for_tenant(conn, case.tenant_id, case.case_type)


async def policy_for_case(conn: AsyncConnection, case: Any) -> CaseTypePolicy | None:
    """The follow-up policy for a case: its municipality's current template for its type."""
    return await policy_for_tenant(conn, case.tenant_id, case.case_type)

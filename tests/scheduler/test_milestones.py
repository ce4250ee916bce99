"""Milestones through the API, STATUS by SMS, and bad input refused with nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.domain.conversations import issue_token
from bot.domain.directory import create_administration, create_staff, create_team, create_tenant
from bot.store.schema.core import journal_entries, messages, metadata
from bot.store.schema.scheduler import (
    appointments,
    deadlines,
    followup_tasks,
    milestones,
    reminders,
    reply_promises,
    timeline_templates,
)
from tests.harness import Stack

from .conftest import journal_subjects


async def _start(stack: Stack, case: str = "anna", **body: Any) -> Any:
    cid = stack.world.cases[case]
    return await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json=body)


async def test_status_answers_for_a_timeline_without_its_own_template_copy(stack: Stack) -> None:
    """A timeline older than per-case copies follows the municipality's template: STATUS still answers."""
    resp = await _start(stack)
    assert resp.status == 201, await resp.text()
    async with stack.svc.write() as conn:
        await conn.execute(
            timeline_templates.delete().where(
                timeline_templates.c.case_id == stack.world.cases["anna"]
            )
        )
    anna = stack.world.phones["anna"]
    assert (await stack.sms(anna, "Status")).status == 200
    await stack.drain()
    assert (await stack.sent_to(anna))[-1].startswith("Din sag: ")


async def test_moving_a_step_tells_the_citizen_and_status_answers(stack: Stack) -> None:
    """A move journalises and texts what now/next/when; STATUS answers the same; backwards needs a reason."""
    cid = stack.world.cases["anna"]
    resp = await _start(stack)
    assert resp.status == 201, await resp.text()
    timeline = await resp.json()
    assert [s["step"] for s in timeline["steps"]] == ["received", "in_progress", "decision"]
    assert timeline["current"] == "received"
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{cid}/timeline/moves",
        json={"step": "in_progress", "next_expected_on": "2025-03-14"},
    )
    assert resp.status == 200, await resp.text()
    await stack.drain()
    anna = stack.world.phones["anna"]
    assert await stack.sent_to(anna) == [
        "Vi er nu i gang med at behandle din sag. Næste skridt: Afgørelse. "
        "Vi regner med at svare dig fredag den 14. marts."
    ]
    assert "Milepæl: Vi behandler din sag" in await journal_subjects(stack, cid)

    await stack.sms(anna, "Status")
    await stack.drain()
    assert (await stack.sent_to(anna))[-1] == (
        "Din sag: Vi behandler din sag. Næste skridt: Afgørelse. "
        "Vi regner med at svare dig fredag den 14. marts."
    )
    async with stack.svc.read() as conn:
        waiting = (
            await conn.execute(
                select(func.count())
                .select_from(messages)
                .where(messages.c.awaiting_reply.is_(True))
            )
        ).scalar_one()
    assert waiting == 0

    moves = f"/api/v1/cases/{cid}/timeline/moves"
    assert (
        await stack.api("POST", moves, json={"step": "decision", "notify": False})
    ).status == 200
    before = await _row_counts(stack)
    resp = await stack.api("POST", moves, json={"step": "in_progress"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "reason_required"
    assert await _row_counts(stack) == before
    resp = await stack.api(
        "POST",
        moves,
        json={"step": "in_progress", "reason": "Lægeerklæring mangler", "notify": False},
    )
    assert resp.status == 200
    assert (await resp.json())["current"] == "in_progress"
    async with stack.svc.read() as conn:
        last = (
            await conn.execute(
                select(journal_entries)
                .where(journal_entries.c.case_id == cid)
                .order_by(journal_entries.c.seq.desc())
                .limit(1)
            )
        ).one()
    assert last.subject == "Milepæl (tilbage): Vi behandler din sag"
    assert last.content_enc is not None and b"L\xc3\xa6ge" not in last.content_enc


async def _row_counts(stack: Stack) -> dict[str, int]:
    """Rows per table; journal entries of delivery reports (they arrive on their own) left out."""
    tables = [
        milestones,
        appointments,
        deadlines,
        reminders,
        reply_promises,
        followup_tasks,
        messages,
    ]
    async with stack.svc.read() as conn:
        counts = {
            t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in tables
        }
        counts["journal_entries"] = (
            await conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.kind.not_like("delivery%"))
            )
        ).scalar_one()
    return counts


async def _other_tenant_token(stack: Stack) -> str:
    svc = stack.svc
    async with svc.write() as c:
        tid = await create_tenant(
            c, svc, slug="ltk", name="Lyngby-Taarbæk", sms_number="+4545973000"
        )
        admin = await create_administration(c, svc, tenant_id=tid, name="Jobcenter")
        team = await create_team(
            c, svc, tenant_id=tid, administration_id=admin, name="T", reply_days=2
        )
        lead = await create_staff(
            c,
            svc,
            tenant_id=tid,
            team_id=team,
            first_name="Ole",
            full_name="Ole Olsen",
            role="lead",
        )
        return await issue_token(c, staff_id=lead, tenant_id=tid, label="t", at=svc.clock.now())


async def test_bad_input_gets_a_stable_code_and_writes_nothing(stack: Stack) -> None:
    """Unknown types and steps, past times, nonsense offsets and other tenants' ids: 4xx, no rows."""
    assert "reminders" in metadata.tables
    cid = stack.world.cases["anna"]
    await stack.sms(stack.world.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    await _start(stack)
    appt = await (
        await stack.api(
            "POST",
            f"/api/v1/cases/{cid}/appointments",
            json={"starts_at": "2025-03-04T10:00:00+01:00"},
        )
    ).json()
    before = await _row_counts(stack)
    now = stack.clock.now()
    cases_ = f"/api/v1/cases/{cid}"
    bad: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", f"{cases_}/timeline", {}, 409, "timeline_exists"),
        (
            "POST",
            f"/api/v1/cases/{stack.world.cases['bo_children']}/timeline",
            {"case_type": "hundesag"},
            400,
            "unknown_case_type",
        ),
        ("POST", f"{cases_}/timeline/moves", {"step": "visitation"}, 400, "unknown_step"),
        (
            "POST",
            f"{cases_}/appointments",
            {"starts_at": (now - timedelta(hours=1)).isoformat()},
            400,
            "appointment_in_past",
        ),
        (
            "POST",
            f"{cases_}/appointments",
            {"starts_at": "2025-03-04T10:00:00"},
            400,
            "bad_datetime",
        ),
        (
            "POST",
            f"{cases_}/appointments",
            {"starts_at": "2025-03-04T10:00:00+01:00", "reminders": [{"hours_before": -2}]},
            400,
            "bad_offset",
        ),
        (
            "POST",
            f"{cases_}/appointments",
            {
                "starts_at": "2025-03-04T10:00:00+01:00",
                "reminders": [{"hours_before": 2}, {"minutes_before": 120}],
            },
            400,
            "bad_offset",
        ),
        (
            "POST",
            f"{cases_}/appointments",
            {"starts_at": "2025-03-04T10:00:00+01:00", "reminders": [{"weeks_before": 1}]},
            400,
            "bad_offset",
        ),
        (
            "POST",
            f"{cases_}/appointments",
            {"starts_at": "2025-03-04T10:00:00+01:00", "attendees": [stack.world.persons["bo"]]},
            400,
            "unknown_attendee",
        ),
        (
            "POST",
            f"{cases_}/deadlines",
            {"kind": "partshoering", "due_on": "2025-02-20"},
            400,
            "deadline_in_past",
        ),
        (
            "POST",
            f"{cases_}/deadlines",
            {"kind": "partshoering", "due_on": "2025-02-24", "remind_working_days_before": 3},
            400,
            "reminder_in_past",
        ),
        (
            "POST",
            f"{cases_}/deadlines",
            {"kind": "partshoering", "due_on": "2025-03-24", "remind_working_days_before": 99},
            400,
            "bad_offset",
        ),
        (
            "POST",
            f"{cases_}/deadlines",
            {"kind": "hemmelig", "due_on": "2025-03-24"},
            400,
            "unknown_deadline_kind",
        ),
        (
            "POST",
            f"/api/v1/conversations/{conv}/promise",
            {"due": "2025-02-20"},
            400,
            "promise_in_past",
        ),
        (
            "POST",
            f"/api/v1/conversations/{conv}/scheduled",
            {"body": "Hej", "send_at": (now - timedelta(minutes=1)).isoformat()},
            400,
            "send_at_in_past",
        ),
        (
            "PATCH",
            f"/api/v1/appointments/{appt['id']}",
            {"starts_at": (now - timedelta(days=1)).isoformat()},
            400,
            "appointment_in_past",
        ),
        ("PUT", "/api/v1/settings/quiet-hours", {"quiet_from": "20:00"}, 403, "forbidden"),
        (
            "PUT",
            f"/api/v1/persons/{stack.world.persons['anna']}/quiet-hours",
            {"quiet_from": "25:00"},
            400,
            "bad_time",
        ),
    ]
    for method, path, body, status, code in bad:
        resp = await stack.api(method, path, json=body)
        assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), (path, body)
    # Someone else's case in the same municipality: not found, never forbidden.
    resp = await stack.api(
        "POST",
        f"{cases_}/appointments",
        who="lars",
        json={"starts_at": "2025-03-04T10:00:00+01:00"},
    )
    assert resp.status == 404
    # Another municipality's ids: 404 everywhere.
    token = await _other_tenant_token(stack)
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, body in [
        ("GET", f"{cases_}/timeline", None),
        ("POST", f"{cases_}/timeline/moves", {"step": "decision"}),
        ("GET", f"/api/v1/appointments/{appt['id']}.ics", None),
        ("PATCH", f"/api/v1/appointments/{appt['id']}", {"place": "x"}),
        ("DELETE", f"/api/v1/appointments/{appt['id']}", None),
        ("POST", f"/api/v1/conversations/{conv}/promise", {"due": "2025-03-20"}),
        (
            "POST",
            f"/api/v1/conversations/{conv}/scheduled",
            {"body": "Hej", "send_at": "2025-03-20T10:00:00+01:00"},
        ),
        ("PUT", f"/api/v1/persons/{stack.world.persons['anna']}/quiet-hours", {"enabled": False}),
    ]:
        resp = await stack.client.request(method, path, headers=headers, json=body)
        assert resp.status == 404, (method, path, await resp.text())
    assert await _row_counts(stack) == before

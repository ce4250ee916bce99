"""Case-type templates per municipality: seeded, edited by a lead or the case system, validated."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select

from bot.domain.integration.credentials import issue_key
from bot.store.schema.core import tenant_settings
from bot.store.schema.scheduler import case_type_templates, followup_tasks
from tests.harness import Stack

from .conftest import at, cph

URL = "/api/v1/case-types/general/template"


async def _get(stack: Stack, url: str = URL, who: str = "mette") -> Any:
    resp = await stack.api("GET", url, who=who)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def _editable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(body[k]) for k in ("steps", "nudge_days", "auto_update")}


async def _key(stack: Stack, *scopes: str) -> str:
    async with stack.svc.write() as conn:
        _, key = await issue_key(
            conn,
            tenant_id=stack.world.tenant_id,
            label="esdh",
            scopes=scopes,
            at=stack.svc.clock.now(),
        )
    return key


async def test_defaults_are_seeded_and_a_lead_edits_a_new_version(stack: Stack) -> None:
    """GET seeds the built-in defaults (version 1); a lead's PUT makes version 2; a caseworker is 403."""
    body = await _get(stack)
    assert body["code"] == "general" and body["version"] == 1
    assert [s["key"] for s in body["steps"]] == ["received", "in_progress", "decision"]
    assert body["nudge_days"] == 10 and body["auto_update"] is False
    new = _editable(body)
    new["steps"][1]["expected_after"] = 3
    new["steps"][1]["title"]["da"] = "Vi er i gang"
    new["nudge_days"] = 4
    new["auto_update"] = True
    resp = await stack.api("PUT", URL, who="mette", json=new)
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    resp = await stack.api("PUT", URL, who="hanne", json=new)
    assert resp.status == 200, await resp.text()
    saved = await resp.json()
    assert saved["version"] == 2 and saved["nudge_days"] == 4 and saved["auto_update"] is True
    assert (await _get(stack))["steps"][1]["title"]["da"] == "Vi er i gang"
    resp = await stack.api("GET", "/api/v1/case-types/nosuchtype/template")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "case_type_not_found"


async def test_bad_templates_are_refused_with_a_stable_code_and_nothing_is_written(
    stack: Stack,
) -> None:
    """Negative offsets, unknown or later step references, duplicates, no Danish: 400, no write."""
    base = _editable(await _get(stack))

    def variant(change: Any) -> dict[str, Any]:
        body = copy.deepcopy(base)
        change(body)
        return body

    cases = [
        (lambda b: b["steps"][1].update(expected_after=-1), "negative_offset"),
        (lambda b: b.update(nudge_days=-5), "negative_offset"),
        (lambda b: b["steps"][2].update(after="visitation"), "unknown_step"),
        (lambda b: b["steps"][1].update(after="decision"), "bad_step_order"),
        (lambda b: b["steps"][2].update(key="received"), "duplicate_step"),
        (lambda b: b["steps"][0]["title"].pop("da"), "danish_required"),
        (lambda b: b["steps"][0].update(expected_after="5"), "bad_offset"),
        (lambda b: b.update(steps=[]), "no_steps"),
        (lambda b: b["steps"][0].update(colour="red"), "unknown_field"),
        (lambda b: b.update(auto_update="yes"), "bad_field"),
    ]
    for change, code in cases:
        resp = await stack.api("PUT", URL, who="hanne", json=variant(change))
        assert resp.status == 400, (code, await resp.text())
        assert (await resp.json())["error"]["code"] == code
    resp = await stack.api("PUT", "/api/v1/case-types/Bad-Code/template", who="hanne", json=base)
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "bad_code")
    after = await _get(stack)
    assert after["version"] == 1 and _editable(after) == base
    async with stack.svc.read() as conn:
        assert (
            await conn.execute(
                select(func.count())
                .select_from(case_type_templates)
                .where(case_type_templates.c.code == "Bad-Code")
            )
        ).scalar_one() == 0


async def test_running_timelines_keep_their_template_new_ones_follow_the_edit(
    stack: Stack,
) -> None:
    """Anna's timeline started before the edit keeps its steps and texts; Carl's uses the new one."""
    anna, carl = stack.world.cases["anna"], stack.world.cases["carl"]
    resp = await stack.api("POST", f"/api/v1/cases/{anna}/timeline", json={"start": "2025-02-21"})
    assert resp.status == 201, await resp.text()
    new = _editable(await _get(stack))
    new["steps"] = [
        new["steps"][0],
        {
            "key": "meeting",
            "title": {"da": "Møde"},
            "reached": {"da": "Vi holder møde."},
            "expected_after": 2,
            "after": "received",
        },
        {**new["steps"][2], "expected_after": 5, "after": "meeting"},
    ]
    resp = await stack.api("PUT", URL, who="hanne", json=new)
    assert resp.status == 200, await resp.text()

    old = await (await stack.api("GET", f"/api/v1/cases/{anna}/timeline")).json()
    assert [s["step"] for s in old["steps"]] == ["received", "in_progress", "decision"]
    assert old["steps"][1]["title"] == "Vi behandler din sag"
    resp = await stack.api(
        "POST", f"/api/v1/cases/{anna}/timeline/moves", json={"step": "in_progress"}
    )
    assert resp.status == 200, await resp.text()
    await stack.drain()
    assert (await stack.sent_to(stack.world.phones["anna"]))[-1].startswith(
        "Vi er nu i gang med at behandle din sag."
    )

    resp = await stack.api("POST", f"/api/v1/cases/{carl}/timeline", json={"start": "2025-02-21"})
    assert resp.status == 201, await resp.text()
    fresh = await resp.json()
    assert [s["step"] for s in fresh["steps"]] == ["received", "meeting", "decision"]
    # Friday 21 Feb + 2 working days = Tue 25 Feb; + 5 more = Tue 4 March.
    assert [s["expected_on"] for s in fresh["steps"]] == ["2025-02-21", "2025-02-25", "2025-03-04"]
    assert fresh["steps"][1]["title"] == "Møde"


async def test_an_integration_key_reads_with_cases_read_and_writes_with_cases_write(
    stack: Stack,
) -> None:
    """The case system may read with cases:read and change with cases:write; other scopes are 403."""
    reader, writer = await _key(stack, "cases:read"), await _key(stack, "cases:write")
    other = await _key(stack, "messages:send")
    resp = await stack.api("GET", URL, who="", headers={"Authorization": f"Bearer {reader}"})
    assert resp.status == 200
    body = _editable(await resp.json())
    body["nudge_days"] = 7
    resp = await stack.api(
        "PUT", URL, who="", json=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (403, "insufficient_scope")
    resp = await stack.api("GET", URL, who="", headers={"Authorization": f"Bearer {other}"})
    assert resp.status == 403
    resp = await stack.api(
        "PUT", URL, who="", json=body, headers={"Authorization": f"Bearer {writer}"}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["nudge_days"] == 7
    resp = await stack.api("GET", URL, who="")
    assert resp.status == 401


async def test_the_municipalitys_nudge_policy_is_the_one_the_runner_follows(stack: Stack) -> None:
    """General set to 3 working days and automatic: the update goes by itself after 3, not 10."""
    body = _editable(await _get(stack))
    body["nudge_days"], body["auto_update"] = 3, True
    resp = await stack.api("PUT", URL, who="hanne", json=body)
    assert resp.status == 200, await resp.text()
    cid = stack.world.cases["anna"]
    resp = await stack.api("POST", f"/api/v1/cases/{cid}/timeline", json={})
    assert resp.status == 201, await resp.text()
    anna = stack.world.phones["anna"]
    # Started Friday 21 February: three working days on is Wednesday 26 February, 10:00.
    await at(stack, cph(2025, 2, 26, 9, 59))
    assert await stack.sent_to(anna) == []
    await at(stack, cph(2025, 2, 26, 10, 0))
    sent = await stack.sent_to(anna)
    assert len(sent) == 1 and sent[0].startswith("Vi arbejder stadig på din sag.")
    async with stack.svc.read() as conn:
        tasks = (await conn.execute(select(func.count()).select_from(followup_tasks))).scalar_one()
    assert tasks == 0


# 150 letters: one GSM-7 segment's worth in Danish; in Ukrainian (UCS-2, 67 a segment)
# this step's update with the next step and a date needs four.
_LONG_DA = ("Vi har nu alle de papirer, vi skal bruge, og vi går i gang med at læse dem. " * 2)[
    :150
]
_LONG_UK = ("Ми отримали всі потрібні документи і почали їх уважно читати. " * 3)[:150]


async def test_a_step_too_long_as_sms_in_one_language_only_is_refused_naming_that_language(
    stack: Stack,
) -> None:
    """A step whose update fits in Danish but needs 4 SMS in Ukrainian (UCS-2): 400 template_too_long naming Ukrainian and the step; nothing saved."""
    base = _editable(await _get(stack))
    body = copy.deepcopy(base)
    body["steps"][1]["reached"] = {"da": _LONG_DA, "uk": _LONG_UK}
    resp = await stack.api("PUT", URL, who="hanne", json=body)
    assert resp.status == 400, await resp.text()
    error = (await resp.json())["error"]
    assert error["code"] == "template_too_long"
    assert "ukrainsk" in error["message"] and "Trin 2 (in_progress)" in error["message"]
    assert "dansk" not in error["message"]
    after = await _get(stack)
    assert after["version"] == 1 and _editable(after) == base
    # The same length in Danish alone fits (GSM-7): the count is per language.
    body["steps"][1]["reached"] = {"da": _LONG_DA}
    resp = await stack.api("PUT", URL, who="hanne", json=body)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["steps"][1]["reached"] == {"da": _LONG_DA}


async def test_the_segment_limit_is_the_municipalitys_and_counts_the_next_step_and_date(
    stack: Stack,
) -> None:
    """With a one-SMS limit the Danish step (one SMS alone) is refused: its update carries the next step and a date."""
    async with stack.svc.write() as conn:
        await conn.execute(
            tenant_settings.insert().values(tenant_id=stack.world.tenant_id, max_segments=1)
        )
    body = _editable(await _get(stack))
    body["steps"][1]["reached"] = {"da": _LONG_DA}
    resp = await stack.api("PUT", URL, who="hanne", json=body)
    assert resp.status == 400, await resp.text()
    error = (await resp.json())["error"]
    assert error["code"] == "template_too_long" and "dansk" in error["message"]
    assert (await _get(stack))["version"] == 1


async def test_a_step_that_reads_as_a_decision_is_refused_like_a_reply_template(
    stack: Stack,
) -> None:
    """A step telling the family "Du får afslag …" by SMS: 400 decision_not_allowed, nothing saved."""
    base = _editable(await _get(stack))
    body = copy.deepcopy(base)
    body["steps"][2]["reached"] = {
        "da": "Du får afslag på din ansøgning. Du kan klage inden 4 uger."
    }
    resp = await stack.api("PUT", URL, who="hanne", json=body)
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "decision_not_allowed"
    assert _editable(await _get(stack)) == base

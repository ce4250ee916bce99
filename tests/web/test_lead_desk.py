"""The lead's page and the data-protection page over HTTP, on SQLite and PostgreSQL.

Figures are the API's (one calculation), each role and team sees only its
own, a bad week or an unknown person is a clear message that leaks nothing,
and the officer's look at the access log is itself access-logged.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.clock import COPENHAGEN
from bot.base.errors import NotFound
from bot.base.staff import StaffUser
from bot.domain import access_audit, lead_desk
from bot.domain.accounts import set_credentials
from bot.domain.directory import (
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.domain.escalation import escalate_due
from bot.store.schema.core import access_log
from journal.access_copy import access_copy
from tests.harness import Stack
from tests.web.conftest import PASSWORD, Login, form_post, staff_login

LEAD = "/sagsbehandler/ledelse"
DPO = "/sagsbehandler/databeskyttelse"
WEDNESDAY = datetime(2025, 2, 26, 10, 0, tzinfo=COPENHAGEN)  # ISO week 2025-W09


@dataclass
class Elsewhere:
    """A second municipality: its team, lead, person and case."""

    tenant_id: str
    team_id: str
    lead: Login
    person_id: str


async def _login_for(stack: Stack, staff_id: str, username: str) -> Login:
    secret = await set_credentials(
        stack.svc, staff_id=staff_id, username=username, password=PASSWORD
    )
    return Login(username, PASSWORD, secret)


async def _admin(stack: Stack) -> tuple[str, Login]:
    """Ida, the municipality's admin (and data-protection officer)."""
    w = stack.world
    async with stack.svc.write() as c:
        ida = await create_staff(
            c,
            stack.svc,
            tenant_id=w.tenant_id,
            team_id=w.team_children,
            first_name="Ida",
            full_name="Ida Admin",
            role="admin",
        )
    return ida, await _login_for(stack, ida, "ida@kbh.example")


async def _elsewhere(stack: Stack) -> Elsewhere:
    svc = stack.svc
    async with svc.write() as c:
        tid = await create_tenant(
            c, svc, slug="aar", name="Aarhus Kommune", sms_number="+4589404040"
        )
        admin = await create_administration(c, svc, tenant_id=tid, name="Børn")
        team = await create_team(c, svc, tenant_id=tid, administration_id=admin, name="Team Syd")
        lead = await create_staff(
            c, svc, tenant_id=tid, team_id=team, first_name="Ole", full_name="Ole Aar", role="lead"
        )
        person = await create_person(
            c, svc, tenant_id=tid, name="Anna Aarhus", first_name="Anna", phone="+4520999901"
        )
        await create_case(
            c,
            svc,
            tenant_id=tid,
            administration_id=admin,
            team_id=team,
            owner_id=lead,
            number="2025-001",
        )
    return Elsewhere(tid, team, await _login_for(stack, lead, "ole@aar.example"), person)


async def _page(stack: Stack, path: str, status: int = 200) -> str:
    resp = await stack.client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text[:400])
    return text


async def _as(stack: Stack, login: Login) -> None:
    stack.client.session.cookie_jar.clear()
    await staff_login(stack, login)


async def _week_of_traffic(stack: Stack) -> str:
    """Friday (W08): Anna writes and is answered in 3 h; the Eriksens are never answered;
    Anna's urgent one escalates to Hanne (no roster). Then the clock goes to Wednesday (W09).

    Returns the thread id of Anna's conversation.
    """
    w = stack.world
    await stack.sms(w.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    stack.clock.advance(hours=3)
    resp = await stack.api("POST", f"/api/v1/conversations/{conv}/replies", json={"body": "Svar"})
    assert resp.status == 201
    await stack.sms(w.phones["shared_same"], "Hej")
    await stack.sms(w.phones["bo"], "Hej fra Bo")  # two cases: asks which (no team yet)
    await stack.sms(w.phones["anna"], "Det haster, min søn er væk")
    stack.clock.advance(minutes=16)
    assert await escalate_due(stack.svc) == 1
    stack.clock.set(WEDNESDAY)
    return str(conv)


def _rows(html: str) -> dict[str, list[str]]:
    """The figures table of the first team, by week: its cells as text."""
    out = {}
    for week, body in re.findall(r'<tr data-week="([^"]+)">(.*?)</tr>', html, re.S):
        if week not in out:
            out[week] = [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
            ]
    return out


async def test_the_lead_page_shows_the_apis_figures_urgent_and_breaches(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Hanne's page: the urgent message at step 2 with her, the breach of W09, and
    figures equal to the API's reply-stats for the same weeks."""
    w = stack.world
    conv = await _week_of_traffic(stack)
    hanne = StaffUser(w.hanne, w.tenant_id, w.team_children, "lead")
    team = (await lead_desk.teams_for(stack.svc, hanne))[0]
    week = lead_desk.parse_week(None, WEDNESDAY.date())
    assert week.label == "2025-W09"
    path = f"/api/v1/teams/{w.team_children}/reply-stats?from=2025-01-06&to=2025-03-02"
    api = (await (await stack.api("GET", path, who="hanne")).json())["items"]
    ours = [f for f in await lead_desk.figures(stack.svc, team, week) if f["messages"]]
    assert sorted(ours, key=lambda f: f["week"]) == api
    assert [a["week"] for a in api] == ["2025-W08"] and api[0]["messages"] == 3

    await staff_login(stack, logins["hanne"])
    page = await _page(stack, LEAD)
    assert "Viser uge 9 2025 (denne uge)" in page
    urgent = page.split('id="urgent-heading"')[1].split("</section>")[0]
    assert f'href="/sagsbehandler/samtaler/{conv}"' in urgent
    assert "2: Teamleder" in urgent and "Hanne Lund" in urgent
    breaches = page.split('id="breach-heading"')[1].split("</section>")[0]
    # Anna's urgent message was due the day it came (W08); the shared phone's runs out in W09.
    assert breaches.count("Ikke besvaret") == 1
    assert "2025-006" in breaches and "2025-001" not in breaches
    assert "tirsdag den 25. februar 2025 16:00" in breaches
    rows = _rows(page)
    assert rows["2025-W08"] == ["2025-W08", "3", "1", "33 % (1)", "3,0 timer", "3,0 timer"]
    assert rows["2025-W09"] == ["2025-W09", "0", "Ingen beskeder"]
    assert len(rows) == lead_desk.FIGURE_WEEKS
    assert (
        "<strong>onsdag den 26. februar til tirsdag den 25. marts</strong> "
        "(20 arbejdsdage, 08:00-16:00): Ingen på vagtplanen"
    ) in page
    # Last week (W08): Anna's urgent message ran out in it; the figures end at W08.
    page = await _page(stack, f"{LEAD}?uge=2025-W08")
    breaches = page.split('id="breach-heading"')[1].split("</section>")[0]
    assert breaches.count("Ikke besvaret") == 1 and "2025-001" in breaches
    assert "2025-W09" not in _rows(page)


async def test_who_sees_which_teams(stack: Stack, logins: dict[str, Login]) -> None:
    """A lead sees her team only; an admin all the municipality's; a caseworker and another
    municipality's lead get the house's 404 for teams that are not theirs."""
    w = stack.world
    await _week_of_traffic(stack)
    await stack.sms(w.phones["shared_split"], "Hej")  # Carl and Dorte: asks which case
    ida, ida_login = await _admin(stack)
    other = await _elsewhere(stack)

    await staff_login(stack, logins["hanne"])
    page = await _page(stack, LEAD)
    assert "Team Nord" in page and "Team Ydelse" not in page
    await _page(stack, f"{LEAD}?team={w.team_jobs}", 404)
    await _page(stack, f"{LEAD}?team={other.team_id}", 404)
    await _page(stack, DPO, 404)  # the access log is for the admin only

    await _as(stack, ida_login)
    page = await _page(stack, LEAD)
    assert "Team Nord" in page and "Team Ydelse" in page and "Team Syd" not in page
    # Ida is in Team Nord: its threads link; other teams' cases are listed without a link.
    only_jobs = await _page(stack, f"{LEAD}?team={w.team_jobs}")
    assert "<h2" in only_jobs and "Team Nord</h2>" not in only_jobs
    assert re.search(r'<option value="' + w.team_jobs + '" selected>', only_jobs)
    await _page(stack, f"{LEAD}?team={other.team_id}", 404)

    await _as(stack, logins["mette"])
    await _page(stack, LEAD, 404)
    await _page(stack, DPO, 404)
    assert 'href="/sagsbehandler/ledelse"' not in await _page(stack, "/sagsbehandler/")

    await _as(stack, other.lead)
    page = await _page(stack, LEAD)
    assert "Team Syd" in page and "Team Nord" not in page and "2025-006" not in page
    await _page(stack, f"{LEAD}?team={w.team_children}", 404)
    # The domain holds the same line for anyone who calls it.
    caseworker = StaffUser(w.mette, w.tenant_id, w.team_children, "caseworker")
    with pytest.raises(NotFound):
        await lead_desk.teams_for(stack.svc, caseworker)
    with pytest.raises(NotFound):
        await access_audit.person_access(stack.svc, caseworker, w.persons["anna"])
    admin = StaffUser(ida, w.tenant_id, w.team_children, "admin")
    with pytest.raises(NotFound):
        await access_audit.person_access(stack.svc, admin, other.person_id)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_bad_weeks_are_a_clear_400_without_data(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Not a week, a week 60, a week not begun, before 2000: 400 with the rule, and no cases."""
    await _week_of_traffic(stack)
    await staff_login(stack, logins["hanne"])
    for bad in ("abc", "2025-W60", "2025-W00", "2025-W11", "1999-W10", "2025-8", "2025-W08x"):
        page = await _page(stack, f"{LEAD}?uge={bad}", 400)
        assert "Skriv den som år og uge, fx 2025-W08" in page, bad
        assert 'role="alert"' in page and 'aria-invalid="true"' in page
        assert "2025-001" not in page and "Teamleder" not in page
    stack.client.session.cookie_jar.clear()
    resp = await stack.client.get(LEAD, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/sagsbehandler/log-ind")


async def _count_looks(stack: Stack, action: str) -> int:
    async with stack.svc.read() as c:
        q = select(func.count()).where(
            access_log.c.action == action, access_log.c.purpose == access_audit.PURPOSE
        )
        return int((await c.execute(q)).scalar_one())


async def test_the_officer_sees_who_read_and_the_look_is_logged(
    stack: Stack, logins: dict[str, Login], caplog: Any
) -> None:
    """Mette reads Anna's thread; Ida finds Anna by case number and by phone, sees Mette's
    read, exports it as CSV; her own looks are access-logged and show the next time."""
    caplog.set_level(logging.DEBUG)
    w = stack.world
    await stack.sms(w.phones["anna"], "Hej")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    stack.clock.advance(minutes=5)
    assert (await stack.api("GET", f"/api/v1/conversations/{conv}")).status == 200
    ida, ida_login = await _admin(stack)
    await staff_login(stack, ida_login)
    await _page(stack, DPO)
    caplog.clear()
    person_url = f"{DPO}/{w.persons['anna']}"
    for query in ("2025-001", "20 12 34 01", " +4520123401 "):
        resp = await form_post(stack, DPO, q=query)
        assert resp.status == 303, query
        assert resp.headers["Location"] == person_url  # the query is not in the URL
    assert await _count_looks(stack, "audit") == 0  # finding is not looking

    stack.clock.advance(minutes=5)
    page = await _page(stack, person_url)
    assert "Adgangslog for <bdi>Anna Andersen</bdi>" in page
    log = page.split("<tbody>")[1]
    assert "Mette Holm" in log and "Læst" in log and "sagsbehandling" in log
    assert "Ida Admin" not in log  # this look shows next time
    assert await _count_looks(stack, "audit") == 2  # one row per message of Anna's
    stack.clock.advance(minutes=1)
    again = (await _page(stack, person_url)).split("<tbody>")[1]
    assert "Ida Admin" in again and "Adgangsloggen set" in again and "databeskyttelse" in again

    resp = await stack.client.get(person_url + ".csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert list(rows[0]) == list(access_audit.CSV_FIELDS)
    reads = [r for r in rows if r["handling"] == "read"]
    assert {
        (r["medarbejder"], r["medarbejder_id"], r["formaal"], r["sagsnummer"]) for r in reads
    } == {("Mette Holm", w.mette, "sagsbehandling", "2025-001")}
    assert len(reads) == 2 and reads[0]["tidspunkt"] == "2025-02-21T10:05:00+01:00"
    audits = [r for r in rows if r["handling"] == "audit"]
    assert len(audits) == 4 and {r["medarbejder_id"] for r in audits} == {ida}
    assert await _count_looks(stack, "export") == 2
    after = (await _page(stack, person_url)).split("<tbody>")[1]
    assert "Udleveret (eksport)" in after
    # Anna's own copy (GDPR art. 15) lists the officer's looks too.
    copy = await access_copy(stack.svc, w.persons["anna"], staff_id=ida, tenant_id=w.tenant_id)
    looks = {(x["action"], x["purpose"]) for x in copy["lookups"]}
    assert {("audit", "databeskyttelse"), ("export", "databeskyttelse")} <= looks
    # The phone number searched for is in no log line, not even the database driver's
    # statement log (it only ever sees the blind index), and never in a URL.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "20 12 34 01" not in logged and "4520123401" not in logged


async def test_officer_search_bad_unknown_and_foreign(
    stack: Stack, logins: dict[str, Login]
) -> None:
    """Too short or long: 400 with the rule; no match: says so; a shared phone lists both;
    another municipality's person or a made-up id: 404; a lead and a caseworker: 404."""
    w = stack.world
    _, ida_login = await _admin(stack)
    other = await _elsewhere(stack)
    await staff_login(stack, ida_login)
    for bad in ("ab", "  a ", "9" * 41):
        resp = await form_post(stack, DPO, q=bad)
        assert resp.status == 400, bad
        text = await resp.text()
        assert "Skriv et sagsnummer eller et telefonnummer" in text and 'role="alert"' in text
    for unknown in ("2025-999", "20999901", "+4520999901"):  # the last is Aarhus's Anna
        resp = await form_post(stack, DPO, q=unknown)
        assert resp.status == 200, unknown
        text = await resp.text()
        assert "Ingen borger i kommunen har det sagsnummer eller telefonnummer." in text
        assert "Anna Aarhus" not in text
    resp = await form_post(stack, DPO, q="2025-006")
    listing = await resp.text()
    assert resp.status == 200 and "Eva Eriksen" in listing and "Frank Eriksen" in listing
    assert "telefon slutter på 04" in listing
    resp = await form_post(stack, DPO, q=w.phones["shared_same"])
    assert (await resp.text()).count("/sagsbehandler/databeskyttelse/") == 2
    before = await _count_looks(stack, "audit")
    await _page(stack, f"{DPO}/{other.person_id}", 404)
    await _page(stack, f"{DPO}/{other.person_id}.csv", 404)
    await _page(stack, f"{DPO}/00000000-0000-4000-8000-000000000000", 404)
    await _page(stack, f"{DPO}/ikke-en-person", 404)
    assert await _count_looks(stack, "audit") == before
    resp = await stack.client.post(DPO, data={"q": "2025-001"}, allow_redirects=False)
    assert resp.status == 403  # no CSRF token
    await _as(stack, logins["hanne"])
    await _page(stack, f"{DPO}/{w.persons['anna']}", 404)
    await _page(stack, f"{DPO}/{w.persons['anna']}.csv", 404)
    await _as(stack, logins["mette"])
    await _page(stack, f"{DPO}/{w.persons['anna']}.csv", 404)
    resp = await form_post(stack, "/sagsbehandler/", DPO, q="2025-001")
    assert resp.status == 404
    assert await _count_looks(stack, "export") == 0


def test_csv_cells_are_never_formulas() -> None:
    """A name or purpose that starts like a formula is written as text."""
    report = access_audit.AccessReport(
        access_audit.PersonHit("p", "Anna", "01"),
        [
            access_audit.AccessEntry(
                datetime(2025, 2, 21, 9, 0, tzinfo=COPENHAGEN),
                "s1",
                '=HYPERLINK("http://x")',
                "read",
                "+sagsbehandling",
                "-1",
                "m1",
            )
        ],
    )
    line = access_audit.report_csv(report).splitlines()[1]
    assert line == (
        '2025-02-21T09:00:00+01:00,"\'=HYPERLINK(""http://x"")",s1,read,\'+sagsbehandling,\'-1,m1'
    )


def test_roster_gaps_join_into_runs_over_closed_days() -> None:
    """Friday and Monday without duty are one run (the weekend between is closed); a day
    whose duty is away is its own run, and a covered day ends a run."""
    days = [
        ("2025-02-21", True),
        ("2025-02-22", False),
        ("2025-02-23", False),
        ("2025-02-24", True),
        ("2025-02-25", True),
        ("2025-02-26", True),
        ("2025-02-27", True),
    ]
    plan = [{"day": d, "staff_id": None, "working_day": w} for d, w in days]
    nobody = {"hours": "08:00-16:00", "reason": "nobody_on_roster"}
    gaps = [
        {"day": "2025-02-21", **nobody},
        {"day": "2025-02-24", **nobody},
        {
            "day": "2025-02-25",
            "hours": "08:00-16:00",
            "reason": "on_duty_is_absent",
            "staff_id": "m",
        },
        {"day": "2025-02-27", **nobody},
    ]
    runs = [
        (r.first.isoformat(), r.last.isoformat(), r.days, r.reason, r.staff_id)
        for r in lead_desk.gap_runs(plan, gaps)
    ]
    assert runs == [
        ("2025-02-21", "2025-02-24", 2, "nobody_on_roster", None),
        ("2025-02-25", "2025-02-25", 1, "on_duty_is_absent", "m"),
        ("2025-02-27", "2025-02-27", 1, "nobody_on_roster", None),
    ]

"""Mine sager and the case search: who sees which case, filters, blind-index search.

On SQLite and PostgreSQL, through the real app's services: Mette owns four
children's cases, Lars two in the Jobcenter, Hanne leads the children's team,
Sofie is Mette's colleague; a second municipality has its own Anna Andersen.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from bot.base.crypto import new_key_text
from bot.base.errors import BadInput, NotFound
from bot.base.staff import StaffUser
from bot.cli import build_parser
from bot.domain import caselist, conversations, search_index, staffing
from bot.domain.directory import (
    add_participant,
    create_administration,
    create_case,
    create_person,
    create_staff,
    create_team,
    create_tenant,
)
from bot.store.schema.core import access_log, persons
from bot.store.schema.search import person_search_tokens
from tests.harness import Stack
from tests.integration.live import LiveServer

ALL = caselist.CaseFilters()


def _user(stack: Stack, who: str) -> StaffUser:
    w = stack.world
    team = w.team_jobs if who == "lars" else w.team_children
    return StaffUser(getattr(w, who), w.tenant_id, team, "lead" if who == "hanne" else "caseworker")


async def _numbers(stack: Stack, who: str | StaffUser, filters: Any = ALL) -> set[str]:
    user = who if isinstance(who, StaffUser) else _user(stack, who)
    page = await caselist.list_cases(stack.svc, user, filters)
    return {c.number for c in page.items}


async def _found(stack: Stack, who: str | StaffUser, text: str) -> set[str]:
    user = who if isinstance(who, StaffUser) else _user(stack, who)
    page = await caselist.search_cases(stack.svc, user, text, ALL)
    return {c.number for c in page.items}


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def _other_town(stack: Stack) -> tuple[StaffUser, str]:
    """Another municipality with its own Anna Andersen (same phone as ours) and her case."""
    svc = stack.svc
    async with svc.write() as c:
        t = await create_tenant(c, svc, slug="aarhus", name="Aarhus", sms_number="+4589404000")
        a = await create_administration(c, svc, tenant_id=t, name="Børn og Unge")
        team = await create_team(c, svc, tenant_id=t, administration_id=a, name="Syd")
        s = await create_staff(
            c, svc, tenant_id=t, team_id=team, first_name="Ib", full_name="Ib Lund", role="lead"
        )
        p = await create_person(
            c,
            svc,
            tenant_id=t,
            name="Anna Andersen",
            first_name="Anna",
            phone=stack.world.phones["anna"],
        )
        case = await create_case(
            c, svc, tenant_id=t, administration_id=a, team_id=team, owner_id=s, number="2025-001"
        )
        await add_participant(c, svc, tenant_id=t, case_id=case, person_id=p, role="party")
    return StaffUser(s, t, team, "lead"), case


MINE = {"2025-001", "2025-002", "2025-004", "2025-006"}


async def test_owner_lead_and_other_team_see_their_own(stack: Stack) -> None:
    """Mette and her lead see the children's four cases; Lars his two; Sofie none."""
    assert await _numbers(stack, "mette") == MINE
    assert await _numbers(stack, "hanne") == MINE
    assert await _numbers(stack, "lars") == {"2025-003", "2025-005"}
    assert await _numbers(stack, "sofie") == set()
    page = await caselist.list_cases(stack.svc, _user(stack, "hanne"), ALL)
    assert {c.relation for c in page.items} == {"team"}
    assert page.items[0].owner_name == "Mette Holm"
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, _user(stack, "hanne"), stack.world.cases["bo_jobs"])
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, _user(stack, "sofie"), stack.world.cases["anna"])


async def test_covering_colleague_sees_the_cases_while_the_owner_is_away(stack: Stack) -> None:
    """Sofie covers Mette today and tomorrow: she sees Mette's cases; not after."""
    mette = _user(stack, "mette")
    today = stack.clock.now().date()
    await staffing.add_absence(
        stack.svc,
        mette,
        {
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "substitute_id": stack.world.sofie,
        },
    )
    sofie = _user(stack, "sofie")
    page = await caselist.list_cases(stack.svc, sofie, ALL)
    assert {c.number for c in page.items} == MINE
    assert {c.relation for c in page.items} == {"covering"}
    detail = await caselist.case_detail(stack.svc, sofie, stack.world.cases["anna"])
    assert detail.case.relation == "covering"
    assert await _found(stack, sofie, "Anna") == {"2025-001"}
    stack.clock.advance(days=3)
    assert await _numbers(stack, sofie) == set()
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, sofie, stack.world.cases["anna"])


async def test_an_open_message_routed_to_a_colleague_lets_them_see_its_case(stack: Stack) -> None:
    """Anna writes while Mette is away: the message goes to Sofie, who then sees the case."""
    mette = _user(stack, "mette")
    today = stack.clock.now().date()
    await staffing.add_absence(
        stack.svc,
        mette,
        {"starts_on": today.isoformat(), "ends_on": today.isoformat(), "substitute_id": None},
    )
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    # Nobody on duty: the team's fallback queue; Sofie holds nothing and sees nothing.
    assert await _numbers(stack, "sofie") == set()


async def test_search_by_name_number_and_phone(stack: Stack) -> None:
    """Whole words of the name in any case and accent, the case number, the phone number."""
    for text in ("anna andersen", "ANDERSEN", "Andersén", "  Anna   ", "andersen, anna"):
        assert await _found(stack, "mette", text) == {"2025-001"}, text
    assert await _found(stack, "mette", "Eriksen") == {"2025-006"}
    assert await _found(stack, "mette", "Eva Eriksen") == {"2025-006"}
    assert await _found(stack, "mette", "Eva Bech") == set()  # every word must match one person
    assert await _found(stack, "mette", "2025-004") == {"2025-004"}
    assert await _found(stack, "mette", "20 12 34 01") == {"2025-001"}
    assert await _found(stack, "mette", "+4520123401") == {"2025-001"}
    # The shared phone: both of Mette's cases with someone on it.
    assert await _found(stack, "mette", "+4520123404") == {"2025-006"}
    # Words, not parts of words: a blind index matches only what was indexed.
    assert await _found(stack, "mette", "Ande") == set()
    # Bo is on a children's case and a Jobcenter case: each sees only theirs.
    assert await _found(stack, "mette", "Bo Bech") == {"2025-002"}
    assert await _found(stack, "lars", "Bo Bech") == {"2025-003"}
    assert await _found(stack, "lars", "Anna Andersen") == set()
    assert await _found(stack, "lars", "2025-001") == set()
    assert await _found(stack, "sofie", "Anna") == set()


async def test_no_name_or_number_is_stored_in_plaintext(stack: Stack) -> None:
    """The index holds HMAC tokens only, one per word; none equals a word or an unkeyed hash."""
    async with stack.svc.read() as conn:
        tokens = (
            await conn.execute(
                select(person_search_tokens.c.token).where(
                    person_search_tokens.c.person_id == stack.world.persons["anna"]
                )
            )
        ).scalars()
        found = set(tokens)
    assert len(found) == 2
    assert all(len(t) == 64 and "anna" not in t for t in found)
    assert found == set(search_index.name_tokens(stack.svc, stack.world.tenant_id, "Anna Andersen"))


async def test_other_municipality_is_never_listed_or_shown(stack: Stack) -> None:
    """Aarhus has an Anna Andersen on the same number and a case 2025-001: never in Copenhagen's
    answers, and Copenhagen's never in Aarhus's; their case pages are 404 across the border."""
    ib, their_case = await _other_town(stack)
    for text in ("Anna Andersen", "+4520123401", "2025-001"):
        assert await _found(stack, "hanne", text) == {"2025-001"}
        page = await caselist.search_cases(stack.svc, ib, text, ALL)
        assert [c.id for c in page.items] == [their_case]
    assert await _numbers(stack, ib) == {"2025-001"}
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, _user(stack, "hanne"), their_case)
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, ib, stack.world.cases["anna"])
    # The same word gives different tokens in the two municipalities.
    ours = search_index.name_tokens(stack.svc, stack.world.tenant_id, "Anna")
    theirs = search_index.name_tokens(stack.svc, ib.tenant_id, "Anna")
    assert ours != theirs


@pytest.mark.parametrize("text", ["a", " a ", "x" * 101, "x" * 500, ""])
async def test_too_short_or_too_long_asks_for_nothing(stack: Stack, text: str) -> None:
    """Under 2 or over 100 characters: a clear error code, and not even the search is logged."""
    with pytest.raises(BadInput) as err:
        await caselist.search_cases(stack.svc, _user(stack, "mette"), text, ALL)
    assert err.value.code in ("search_too_short", "search_too_long")
    assert await _count(stack, access_log, access_log.c.action == "search") == 0


async def test_a_search_is_access_logged_without_what_was_typed(stack: Stack) -> None:
    """One access-log row per search, action search, no case, no message."""
    await _found(stack, "mette", "Anna")
    async with stack.svc.read() as conn:
        rows = (await conn.execute(select(access_log))).all()
    assert [(r.action, r.case_id, r.message_id, r.purpose) for r in rows] == [
        ("search", None, None, "sagssøgning")
    ]


async def test_filters_urgent_waiting_breached_and_quiet(stack: Stack) -> None:
    """Anna writes: waiting, not urgent, later breached; the other cases are quiet."""
    mette = _user(stack, "mette")
    stack.clock.advance(days=3)  # the cases were made three days before Anna writes
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    stack.clock.advance(hours=1)
    waiting = caselist.CaseFilters(waiting=True)
    assert await _numbers(stack, mette, waiting) == {"2025-001"}
    assert await _numbers(stack, mette, caselist.CaseFilters(urgent=True)) == set()
    assert await _numbers(stack, mette, caselist.CaseFilters(breached=True)) == set()
    page = await caselist.list_cases(stack.svc, mette, ALL)
    first = page.items[0]
    assert (first.number, first.awaiting, first.open_threads) == ("2025-001", 1, 1)
    assert first.reply_by is not None and not first.breached
    # Quiet for two days: every case but Anna's.
    quiet = caselist.CaseFilters(quiet_days=2)
    assert await _numbers(stack, mette, quiet) == MINE - {"2025-001"}
    stack.clock.advance(days=10)
    assert await _numbers(stack, mette, caselist.CaseFilters(breached=True)) == {"2025-001"}
    assert await _numbers(stack, mette, quiet) == MINE
    for bad in (caselist.CaseFilters(quiet_days=0), caselist.CaseFilters(quiet_days=366)):
        with pytest.raises(BadInput):
            await caselist.list_cases(stack.svc, mette, bad)


async def test_urgent_filter_puts_the_urgent_case_first(stack: Stack) -> None:
    """An AKUT message makes its case urgent and first in the list."""
    mette = _user(stack, "mette")
    await stack.sms(stack.world.phones["shared_same"], "AKUT jeg har brug for hjælp nu")
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    urgent = await _numbers(stack, mette, caselist.CaseFilters(urgent=True))
    page = await caselist.list_cases(stack.svc, mette, ALL)
    assert urgent == {page.items[0].number} == {"2025-006"}
    assert page.items[0].urgent and not page.items[1].urgent


async def test_case_page_shows_every_thread_and_logs_what_it_shows(stack: Stack) -> None:
    """After the reply the thread is closed but still listed; its newest message is shown and
    access-logged with the case; the lead sees it too, Lars gets a 404."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    conv = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]
    mette = _user(stack, "mette")
    stack.clock.advance(minutes=5)
    await conversations.reply(stack.svc, mette, conv, "Snart.")
    before = await _count(stack, access_log, access_log.c.purpose == "sagsoversigt")
    detail = await caselist.case_detail(stack.svc, mette, stack.world.cases["anna"])
    assert [t.id for t in detail.threads] == [conv]
    thread = detail.threads[0]
    assert thread.open_count == 0 and thread.can_open and thread.message_count >= 2
    assert thread.latest is not None and thread.latest["excerpt"] == "Snart."
    # Each participant with their id (the page's "Skriv til …" link preselects them).
    assert [{k: v for k, v in p.items() if k != "id"} for p in detail.participants] == [
        {
            "name": "Anna Andersen",
            "role": "Part",
            "entitled": True,
            "language": "da",
            "person_id": stack.world.persons["anna"],
            # Her newest message on the page is our reply: nothing to say about her script.
            "wrote_in": None,
        }
    ]
    assert all(isinstance(p["id"], str) and p["id"] for p in detail.participants)
    logged = await _count(
        stack,
        access_log,
        access_log.c.purpose == "sagsoversigt",
        access_log.c.message_id == thread.latest["id"],
        access_log.c.case_id == stack.world.cases["anna"],
        access_log.c.staff_id == stack.world.mette,
    )
    assert (logged, before) == (1, 0)
    lead = await caselist.case_detail(stack.svc, _user(stack, "hanne"), stack.world.cases["anna"])
    assert lead.threads[0].can_open
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, _user(stack, "lars"), stack.world.cases["anna"])


async def test_reindex_fills_in_people_created_before_the_index(stack: Stack) -> None:
    """With the tokens gone (as after the migration) the search finds nothing; reindex mends it."""
    async with stack.svc.write() as conn:
        await conn.execute(delete(person_search_tokens))
    assert await _found(stack, "mette", "Anna") == set()
    named = await _count(stack, persons, persons.c.name_enc.is_not(None))
    assert await search_index.reindex(stack.svc, batch=2) == named
    assert await _found(stack, "mette", "Anna") == {"2025-001"}


def test_words_are_normalised() -> None:
    """Case-folded, accents dropped but æ, ø, å kept, split at punctuation, each once."""
    assert search_index.words("Åse Ødegård-Müller  ÅSE") == ["åse", "ødegård", "muller"]
    assert search_index.words("José  d'Ávila") == ["jose", "d", "avila"]


def test_import_writes_tokens_and_the_cli_reindexes(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """People imported from CSV get their name tokens; `tovholder search reindex` writes them
    again after they are lost (as for people made before the migration). SQLite only: the CLI
    owns its event loop."""
    from tests.integration.conftest import FRIDAY_MORNING

    db = tmp_path / "cli.db"
    url = f"sqlite+aiosqlite:///{db}"
    LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start().stop()
    for name, value in {
        "TOVHOLDER_DATABASE_URL": url,
        "TOVHOLDER_KEKS": keys["kek"].hex(),
        "TOVHOLDER_JOURNAL_SIGNING_KEY": keys["kek"].hex(),
        "TOVHOLDER_INDEX_KEY": keys["index"].hex(),
        "TOVHOLDER_TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
        "TOVHOLDER_TWILIO_AUTH_TOKEN": new_key_text(),
    }.items():
        monkeypatch.setenv(name, value)
    parser = build_parser()

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))

    create = ["tenant", "create", "--name", "Nordby", "--sms-number", "+4570707070"]
    assert run(*create, "--slug", "nordby") == 0
    people = tmp_path / "persons.csv"
    people.write_text(
        "ref;name;phone\nP1;Åse Ødegård;+4520999901\nP2;Jens Ødegård;\n", encoding="utf-8"
    )
    assert run("import", str(people), "--tenant", "nordby") == 0

    def tokens(where: str = "") -> int:
        with sqlite3.connect(db) as conn:
            sql = "SELECT count(*) FROM person_search_tokens t JOIN tenants m ON m.id = t.tenant_id"
            return int(conn.execute(sql + where).fetchone()[0])

    def named() -> int:
        with sqlite3.connect(db) as conn:
            sql = "SELECT count(*) FROM persons WHERE name_enc IS NOT NULL"
            return int(conn.execute(sql).fetchone()[0])

    assert tokens(" WHERE m.slug = 'nordby'") == 4  # åse, ødegård; jens, ødegård
    everything = tokens()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM person_search_tokens")
    capsys.readouterr()
    assert run("search", "reindex") == 0
    assert f"{named()} people indexed" in capsys.readouterr().out
    assert tokens() == everything
    assert tokens(" WHERE m.slug = 'nordby'") == 4


async def test_covering_colleague_opens_every_thread_while_the_owner_is_away(
    stack: Stack,
) -> None:
    """Anna wrote before Mette went away: Sofie (substitute) opens the thread on the case page
    at once (the covering rule, not only once the message is handed over), its newest message
    shown and logged; the day after the absence she gets a 404."""
    await stack.sms(stack.world.phones["anna"], "Hej, hvornår hører jeg noget?")
    mette, sofie = _user(stack, "mette"), _user(stack, "sofie")
    today = stack.clock.now().date().isoformat()
    await staffing.add_absence(
        stack.svc,
        mette,
        {"starts_on": today, "ends_on": today, "substitute_id": stack.world.sofie},
    )
    detail = await caselist.case_detail(stack.svc, sofie, stack.world.cases["anna"])
    thread = detail.threads[0]
    assert thread.can_open and thread.latest is not None
    assert thread.latest["excerpt"] == "Hej, hvornår hører jeg noget?"
    assert await _count(stack, access_log, access_log.c.staff_id == stack.world.sofie) == 1
    stack.clock.advance(days=1)
    with pytest.raises(NotFound):
        await caselist.case_detail(stack.svc, sofie, stack.world.cases["anna"])

"""0027_one_consent: both old consent tables move into the one consent record, losing nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.domain import consent
from bot.store.engine import make_engine, upgrade
from bot.store.schema.consent import consent_records
from bot.store.schema.core import (
    UTCDateTime,
    administrations,
    cases,
    participants,
    persons,
    staff,
    teams,
    tenants,
)
from tests.migrations import downgrade_one, heads_before

MINE = "0027_one_consent"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

# The old tables as they stood before 0027 (no longer in the schema).
_old = sa.MetaData()
old_consents = sa.Table(
    "consents",
    _old,
    sa.Column("id", sa.String(36)),
    sa.Column("tenant_id", sa.String(36)),
    sa.Column("person_id", sa.String(36)),
    sa.Column("channel", sa.String(8)),
    sa.Column("state", sa.String(12)),
    sa.Column("source", sa.String(8)),
    sa.Column("at", UTCDateTime()),
)
old_participant_consents = sa.Table(
    "participant_consents",
    _old,
    sa.Column("id", sa.String(36)),
    sa.Column("tenant_id", sa.String(36)),
    sa.Column("participant_id", sa.String(36)),
    sa.Column("channel", sa.String(16)),
    sa.Column("granted", sa.Boolean),
    sa.Column("recorded_at", UTCDateTime()),
)


def _id() -> str:
    return str(uuid.uuid4())


async def _seed(conn: Any) -> dict[str, str]:
    """A municipality, a case with a party, a parent and a representative, a second case."""
    ids = {k: _id() for k in ("tenant", "admin", "team", "staff", "case", "case2")}
    ids |= {k: _id() for k in ("anna", "bo", "rep", "p_anna", "p_bo", "p_rep", "p_bo2")}
    await conn.execute(
        tenants.insert().values(
            id=ids["tenant"], slug="kbh", name="Kbh", sms_number="+4570000000", created_at=T0
        )
    )
    await conn.execute(
        administrations.insert().values(
            id=ids["admin"], tenant_id=ids["tenant"], name="Børn", created_at=T0
        )
    )
    await conn.execute(
        teams.insert().values(
            id=ids["team"],
            tenant_id=ids["tenant"],
            administration_id=ids["admin"],
            name="Nord",
            created_at=T0,
        )
    )
    await conn.execute(
        staff.insert().values(
            id=ids["staff"],
            tenant_id=ids["tenant"],
            team_id=ids["team"],
            role="caseworker",
            dek=b"k",
            first_name_enc=b"x",
            full_name_enc=b"x",
            created_at=T0,
        )
    )
    for person in ("anna", "bo", "rep"):
        await conn.execute(
            persons.insert().values(
                id=ids[person], tenant_id=ids["tenant"], dek=b"k", created_at=T0
            )
        )
    for case, number in (("case", "2025-001"), ("case2", "2025-002")):
        await conn.execute(
            cases.insert().values(
                id=ids[case],
                tenant_id=ids["tenant"],
                administration_id=ids["admin"],
                team_id=ids["team"],
                owner_id=ids["staff"],
                number=number,
                dek=b"k",
                created_at=T0,
            )
        )
    for part, case, person, role in (
        ("p_anna", "case", "anna", "party"),
        ("p_bo", "case", "bo", "parent"),
        ("p_rep", "case", "rep", "representative"),
        ("p_bo2", "case2", "bo", "party"),
    ):
        await conn.execute(
            participants.insert().values(
                id=ids[part],
                tenant_id=ids["tenant"],
                case_id=ids[case],
                person_id=ids[person],
                role=role,
                created_at=T0,
            )
        )
    return ids


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


async def test_both_consent_tables_move_into_one_record_and_nothing_is_lost(
    fresh_url: str,
) -> None:
    """Rows (and STOP/START history) in both old tables: after 0027 every fact is in consent_records, the old tables are gone, the domain reads the same answers as before; the downgrade gives the old rows back."""
    engine = make_engine(fresh_url)
    try:
        for head in heads_before(MINE):
            await upgrade(engine, head)
        async with engine.begin() as conn:
            ids = await _seed(conn)
            t = ids["tenant"]
            old_rows = [  # (id, person, channel, state, source, at)
                (_id(), "anna", "sms", "opted_out", "sms", _at(1)),
                (_id(), "anna", "sms", "opted_in", "sms", _at(2)),
                (_id(), "anna", "sms", "opted_out", "sms", _at(5)),
                (_id(), "bo", "email", "opted_in", "api", _at(1)),
                (_id(), "rep", "sms", "opted_out", "web", _at(3)),
            ]
            for rid, person, channel, state, source, at in old_rows:
                await conn.execute(
                    old_consents.insert().values(
                        id=rid,
                        tenant_id=t,
                        person_id=ids[person],
                        channel=channel,
                        state=state,
                        source=source,
                        at=at,
                    )
                )
            part_rows = [  # (id, participant, channel, granted, at)
                (_id(), "p_anna", "sms", True, _at(4)),
                (_id(), "p_bo", "sms", False, _at(2)),
                (_id(), "p_bo", "web", True, _at(2)),
                (_id(), "p_bo2", "sms", True, _at(3)),
            ]
            for rid, part, channel, granted, at in part_rows:
                await conn.execute(
                    old_participant_consents.insert().values(
                        id=rid,
                        tenant_id=t,
                        participant_id=ids[part],
                        channel=channel,
                        granted=granted,
                        recorded_at=at,
                    )
                )

        await upgrade(engine)

        async with engine.connect() as conn:
            got = {
                r.id: (
                    r.tenant_id,
                    r.person_id,
                    r.participant_id,
                    r.channel,
                    r.state,
                    r.scope,
                    r.source,
                    r.at,
                    r.actor,
                )
                for r in await conn.execute(sa.select(consent_records))
            }
            state = {"opted_out": "withdrawn", "opted_in": "given"}
            source = {"sms": "sms_stop", "api": "api", "web": "page"}
            want = {
                rid: (
                    t,
                    ids[person],
                    None,
                    channel,
                    state[st],
                    "proactive",
                    source[src],
                    at,
                    f"migration:consents:{src}",
                )
                for rid, person, channel, st, src, at in old_rows
            }
            person_of = {"p_anna": "anna", "p_bo": "bo", "p_bo2": "bo"}
            want |= {
                rid: (
                    t,
                    ids[person_of[part]],
                    ids[part],
                    channel,
                    "given" if granted else "refused",
                    "answers",
                    "migration",
                    at,
                    "migration:participant_consents",
                )
                for rid, part, channel, granted, at in part_rows
            }
            assert got == want

            def tables(sync: Any) -> set[str]:
                return set(sa.inspect(sync).get_table_names())

            left = await conn.run_sync(tables)
            assert "consents" not in left and "participant_consents" not in left

            # Read through the one domain function, the facts say what they said before.
            anna, bo, rep = await consent.standings(
                conn,
                [
                    (ids["anna"], [ids["p_anna"]]),
                    (ids["bo"], [ids["p_bo"]]),
                    (ids["rep"], [ids["p_rep"]]),
                ],
            )
            assert not anna.proactive and not anna.answers_refused  # STOP (the latest word)
            assert bo.answers_refused and not bo.proactive  # the case system's "no SMS"
            assert not rep.proactive and not rep.answers_refused  # STOP from a page
            (bo_elsewhere,) = await consent.standings(conn, [(ids["bo"], [ids["p_bo2"]])])
            assert bo_elsewhere.proactive and bo_elsewhere.recorded is True  # only on that case
            assert await consent.email_consented(conn, ids["bo"])
            assert not await consent.email_consented(conn, ids["anna"])
            (web,) = await consent.standings(conn, [(ids["bo"], [ids["p_bo"]])], "web")
            assert web.recorded is True

        # The downgrade puts both old tables back as they were (each old row here is the
        # case system's latest for its part and channel, so nothing is left out).
        async with engine.begin() as conn:
            await conn.run_sync(downgrade_one(MINE))
        async with engine.connect() as conn:
            back = {tuple(r) for r in await conn.execute(sa.select(old_consents))}
            assert back == {
                (rid, t, ids[person], channel, state, source, at)
                for rid, person, channel, state, source, at in old_rows
            }
            back = {tuple(r) for r in await conn.execute(sa.select(old_participant_consents))}
            assert back == {
                (rid, t, ids[part], channel, granted, at)
                for rid, part, channel, granted, at in part_rows
            }
        await upgrade(engine)
        async with engine.connect() as conn:
            again = {r.id for r in await conn.execute(sa.select(consent_records))}
            assert again == set(want)
    finally:
        await engine.dispose()

"""KEK rotation (nøglerotation) on a running service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.crypto import DecryptionError, KeyRing, key_id, unseal
from bot.base.services import Services
from bot.domain.keys import WRAPPED_KEY_TABLES, check, rotate
from bot.store.schema.core import cases, conversations, journal_entries, messages, persons, staff
from tests.harness import Stack

UNKNOWN_SENDER = "+4531234599"


async def restarted(aiohttp_client: Any, stack: Stack, *keks: bytes) -> Stack:
    """The same deployment restarted with another TOVHOLDER_KEKS: a new app on the same database.

    It shares the stack's public base URL, so webhooks signed for the stack verify here too.
    """
    config = stack.config.with_(keks=keks).validate()
    options = {"pool_size": 4} if "postgres" in config.database_url else None
    app = create_app(config, clock=stack.clock, engine_options=options)
    client = await aiohttp_client(app)
    return dataclasses.replace(stack, client=client, svc=app[SERVICES], config=config)


async def decrypt_everything(svc: Services) -> list[str]:
    """Every sealed value in the database, decrypted through ``svc``'s keyring alone."""
    out: list[str] = []
    async with svc.read() as conn:
        case_keys = {
            r.id: svc.dek("cases", r.id, r.dek)
            for r in (await conn.execute(select(cases.c.id, cases.c.dek))).all()
        }
        person_keys = {}
        for p in (await conn.execute(select(persons))).all():
            person_keys[p.id] = dek = svc.dek("persons", p.id, p.dek)
            for column in ("name", "first_name", "phone"):
                blob = getattr(p, f"{column}_enc")
                if blob is not None:
                    out.append(unseal(dek, blob, f"persons:{p.id}:{column}"))
        for s in (await conn.execute(select(staff))).all():
            dek = svc.dek("staff", s.id, s.dek)
            out.append(unseal(dek, s.first_name_enc, f"staff:{s.id}:first_name"))
            out.append(unseal(dek, s.full_name_enc, f"staff:{s.id}:full_name"))
        for m in (await conn.execute(select(messages))).all():
            dek = case_keys[m.case_id] if m.key_scope == "case" else person_keys[m.person_id]
            out.append(unseal(dek, m.body_enc, f"messages:{m.id}:body"))
        for j in (await conn.execute(select(journal_entries))).all():
            if j.content_enc is not None:
                keys = case_keys if j.key_scope == "case" else person_keys
                out.append(
                    unseal(keys[j.key_owner_id], j.content_enc, f"journal_entries:{j.id}:content")
                )
    return out


async def wrapped_keys(svc: Services) -> dict[tuple[str, str], bytes]:
    """(table, id) -> wrapped DEK, for every row holding one."""
    async with svc.read() as conn:
        return {
            (t.name, r.id): r.dek
            for t in WRAPPED_KEY_TABLES
            for r in (await conn.execute(select(t.c.id, t.c.dek))).all()
        }


def totals(status: dict[str, dict[str, int]]) -> dict[str, int]:
    """Keys per KEK id over all tables."""
    out: dict[str, int] = {}
    for per_kek in status.values():
        for kid, n in per_kek.items():
            out[kid] = out.get(kid, 0) + n
    return out


async def test_rotation_while_serving_moves_every_key_to_the_new_kek(
    stack: Stack, aiohttp_client: Any, keys: dict[str, bytes]
) -> None:
    """Rotating under live SMS and reads puts every key under the new KEK, readable by it alone."""
    old, new = key_id(keys["kek"]), key_id(keys["kek2"])
    w = stack.world
    bodies = ["Første besked om skolen", "Anden besked om ydelsen", "Hvem er I?"]
    await stack.sms(w.phones["anna"], bodies[0])
    await stack.sms(w.phones["shared_same"], bodies[1])
    await stack.sms(UNKNOWN_SENDER, bodies[2])  # an unassigned person, keyed under the old KEK
    await stack.drain()
    before = await check(stack.svc)
    assert set(totals(before)) == {old}
    keyed_before = totals(before)[old]

    # Step 1 of a rotation: every process restarts with TOVHOLDER_KEKS=new,old.
    # Step 2: `keys rotate` runs in its own process while they keep serving.
    serving = await restarted(aiohttp_client, stack, keys["kek2"], keys["kek"])
    rotator = (await restarted(aiohttp_client, stack, keys["kek2"], keys["kek"])).svc
    thread = (await (await serving.api("GET", "/api/v1/conversations")).json())["items"][0]["id"]

    async def keep_serving() -> None:
        for i in range(4):
            assert (await serving.sms(w.phones["anna"], f"Mens vi roterer {i}")).status == 200
            resp = await serving.api("GET", f"/api/v1/conversations/{thread}")
            assert resp.status == 200, await resp.text()
            assert (await serving.api("GET", "/api/v1/conversations", who="hanne")).status == 200
        # A new unknown sender gets a person row, and so a new DEK, mid-rotation.
        assert (await serving.sms("+4531234500", "Også mig")).status == 200
        await serving.drain()

    report, _ = await asyncio.gather(rotate(rotator, batch=2), keep_serving())
    assert report.complete
    assert report.primary_kek == new
    assert report.rewrapped == keyed_before
    assert report.tables["persons"].rewrapped == 7  # six seeded and the first unknown sender

    after = await check(rotator)
    assert set(totals(after)) == {new}
    assert totals(after)[new] == keyed_before + 1
    assert set(after) == {
        "cases",
        "persons",
        "staff",
        "webhook_subscriptions",
        "idempotency_keys",
        "triage_models",
    }

    # A deployment holding only the new KEK reads every thread through the API ...
    only_new = await restarted(aiohttp_client, stack, keys["kek2"])
    async with only_new.svc.read() as conn:
        thread_ids = (await conn.execute(select(conversations.c.id))).scalars().all()
    read_bodies: list[str] = []
    names: list[str | None] = []
    for tid in thread_ids:
        for who in ("mette", "lars", "hanne"):
            resp = await only_new.api("GET", f"/api/v1/conversations/{tid}", who=who)
            if resp.status == 200:
                data = await resp.json()
                read_bodies += [m["body"] for m in data["messages"]]
                names.append(data["participant_name"])
                break
        else:
            pytest.fail(f"no caseworker could read thread {tid}")
    assert {*bodies, "Mens vi roterer 3", "Også mig"} <= set(read_bodies)
    assert "Anna Andersen" in names
    # ... and decrypts every sealed value in the database: bodies, names and phone numbers.
    plain = await decrypt_everything(only_new.svc)
    assert {*bodies, "Anna Andersen", "Mette Holm", w.phones["anna"], UNKNOWN_SENDER} <= set(plain)

    # The old KEK alone opens nothing any more: the keys really were re-wrapped.
    old_ring = KeyRing([keys["kek"]])
    for (table, row_id), wrapped in (await wrapped_keys(rotator)).items():
        with pytest.raises(DecryptionError):
            old_ring.unwrap(wrapped, f"dek:{table}:{row_id}")

    again = await rotate(rotator)
    assert again.rewrapped == 0 and again.complete
    assert again.already_current == keyed_before + 1


async def test_a_key_changed_during_rotation_is_not_overwritten(
    stack: Stack, aiohttp_client: Any, keys: dict[str, bytes]
) -> None:
    """The compare-and-set leaves a concurrently changed key alone; the next run rotates it."""
    rotator = (await restarted(aiohttp_client, stack, keys["kek2"], keys["kek"])).svc
    anna = stack.world.persons["anna"]
    aad = f"dek:persons:{anna}"
    async with rotator.read() as conn:
        query = select(persons.c.dek).where(persons.c.id == anna)
        original = (await conn.execute(query)).scalar_one()
    # What a process still running the old configuration might write: the same DEK,
    # freshly wrapped under the old KEK.
    dek = rotator.keyring.unwrap(original, aad)
    racer = KeyRing([keys["kek"]]).wrap(dek, aad)
    # One batch per table, in WRAPPED_KEY_TABLES order: the persons batch is this write.
    persons_write = WRAPPED_KEY_TABLES.index(persons)
    writes = 0
    raced = False

    class RacingServices(Services):
        @asynccontextmanager
        async def write(self) -> AsyncIterator[Any]:
            nonlocal writes, raced
            if writes == persons_write:  # another writer commits between our read and update
                raced = True
                async with stack.svc.write() as other:
                    await other.execute(
                        update(persons).where(persons.c.id == anna).values(dek=racer)
                    )
            writes += 1
            async with super().write() as conn:
                yield conn

    fields = {f.name: getattr(rotator, f.name) for f in dataclasses.fields(rotator)}
    report = await rotate(RacingServices(**fields), batch=1000)
    assert raced
    assert report.tables["persons"].changed_concurrently == 1
    assert report.tables["persons"].rewrapped == 5
    assert not report.complete
    assert (await wrapped_keys(rotator))[("persons", anna)] == racer

    second = await rotate(rotator)
    assert second.complete and second.rewrapped == 1
    final = (await wrapped_keys(rotator))[("persons", anna)]
    assert KeyRing.wrapped_by(final) == key_id(keys["kek2"])
    assert KeyRing([keys["kek2"]]).unwrap(final, aad) == dek


async def test_a_key_under_an_unknown_kek_is_reported_and_left_alone(
    stack: Stack, aiohttp_client: Any, keys: dict[str, bytes]
) -> None:
    """A DEK wrapped by a KEK missing from the ring is counted unreadable; the rest still rotate."""
    lost = bytes(32 * [7])
    hanne = stack.world.hanne
    orphan = KeyRing([lost]).wrap(b"k" * 32, f"dek:staff:{hanne}")
    async with stack.svc.write() as conn:
        await conn.execute(update(staff).where(staff.c.id == hanne).values(dek=orphan))
    rotator = (await restarted(aiohttp_client, stack, keys["kek2"], keys["kek"])).svc

    report = await rotate(rotator, batch=3)
    assert report.tables["staff"].unreadable == 1
    assert report.tables["staff"].rewrapped == 3
    assert not report.complete
    assert (await wrapped_keys(rotator))[("staff", hanne)] == orphan
    assert (await check(rotator))["staff"] == {key_id(keys["kek2"]): 3, key_id(lost): 1}


async def test_check_counts_keys_per_kek_and_rotate_refuses_an_empty_batch(stack: Stack) -> None:
    """`check` reports the seeded keys per table under the one KEK; batch < 1 is refused."""
    assert await check(stack.svc) == {
        "cases": {key_id(stack.config.keks[0]): 6},
        "persons": {key_id(stack.config.keks[0]): 6},
        "staff": {key_id(stack.config.keks[0]): 4},
        "webhook_subscriptions": {},
        "idempotency_keys": {},
        "triage_models": {},
    }
    report = await rotate(stack.svc)
    assert report.rewrapped == 0 and report.already_current == 16 and report.complete
    with pytest.raises(ValueError, match="batch"):
        await rotate(stack.svc, batch=0)

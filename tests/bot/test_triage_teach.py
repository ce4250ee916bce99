"""Staff teach the triage (#16 point 8): a label on a citizen's message is an encrypted,
journalised example; "Ikke akut" stops the escalation; `train --tenant` gives that
municipality (and no other) its own weights, reproducibly. Both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.base.staff import StaffUser
from bot.cli.triage import TRAIN
from bot.domain.directory import create_tenant
from bot.domain.dispatch import tenant_triager
from bot.domain.escalation import escalate_due
from bot.domain.triage_teach import teach, train_tenant
from bot.store.schema.core import cases, journal_entries, messages, staff_notices
from bot.store.schema.triage import triage_examples, triage_models
from tests.harness import Stack

URGENT = "Det haster!"
TAUGHT = "skraldet er ikke hentet i tre uger"  # the shipped reader lets it pass


def _user(stack: Stack, who: str) -> StaffUser:
    w = stack.world
    team = w.team_jobs if who == "lars" else w.team_children
    return StaffUser(getattr(w, who), w.tenant_id, team, "lead" if who == "hanne" else "caseworker")


async def _anna_says(stack: Stack, body: str) -> Any:
    assert (await stack.sms(stack.world.phones["anna"], body)).status == 200
    async with stack.svc.read() as conn:
        return (
            await conn.execute(
                select(messages)
                .where(
                    messages.c.direction == "in", messages.c.case_id == stack.world.cases["anna"]
                )
                .order_by(messages.c.created_at.desc())
                .limit(1)
            )
        ).one()


async def _count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def _kinds(stack: Stack, message_id: str) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.kind)
            .where(journal_entries.c.message_id == message_id)
            .order_by(journal_entries.c.seq)
        )
        return [r.kind for r in rows]


def _no_plaintext_on_disk(stack: Stack, text: str) -> None:
    """On SQLite: the database files (and the write-ahead log) hold no plaintext of ``text``."""
    url = stack.config.database_url
    if not url.startswith("sqlite"):
        return
    path = Path(url.split(":///", 1)[1].split("?", 1)[0])
    assert path.exists(), url
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            assert text.encode() not in file.read_bytes(), file


async def test_ikke_akut_stores_a_sealed_example_journalises_it_and_stops_escalation(
    stack: Stack,
) -> None:
    """The example's text is sealed under the case key; 'acknowledged' stops the pages."""
    msg = await _anna_says(stack, URGENT)
    assert msg.urgent and msg.next_escalation_at is not None
    taught = await teach(stack.svc, _user(stack, "mette"), msg.id, "none")
    assert taught.escalation_stopped and taught.conversation_id == msg.conversation_id
    async with stack.svc.read() as conn:
        ex = (await conn.execute(select(triage_examples))).one()
        after = (await conn.execute(select(messages).where(messages.c.id == msg.id))).one()
        case_dek = await conn.scalar(
            select(cases.c.dek).where(cases.c.id == stack.world.cases["anna"])
        )
    assert (ex.level, ex.key_scope, ex.message_id, ex.staff_id) == (
        "none",
        "case",
        msg.id,
        stack.world.mette,
    )
    assert URGENT.encode() not in ex.text_enc and b"haster" not in ex.text_enc
    dek = stack.svc.dek("cases", ex.case_id, case_dek)
    assert unseal(dek, ex.text_enc, f"triage_examples:{ex.id}:text") == URGENT
    assert after.acknowledged_at is not None and after.next_escalation_at is None
    _no_plaintext_on_disk(stack, URGENT)
    kinds = await _kinds(stack, msg.id)
    assert kinds[-2:] == ["triage_example", "acknowledged"]
    # Long after the escalation would have run: nobody else is paged.
    pages_before = await _count(stack, staff_notices, staff_notices.c.message_id == msg.id)
    stack.clock.advance(hours=2)
    await escalate_due(stack.svc)
    assert await _count(stack, staff_notices, staff_notices.c.message_id == msg.id) == pages_before
    # A second label relabels the one example (and journalises again).
    await teach(stack.svc, _user(stack, "mette"), msg.id, "akut")
    assert await _count(stack, triage_examples) == 1
    assert (await _kinds(stack, msg.id)).count("triage_example") == 2


async def test_bekymring_label_lifts_a_plain_message_to_the_top_of_the_inbox(
    stack: Stack,
) -> None:
    """'Bekymring' on a plain message marks it a concern (first after urgent)."""
    msg = await _anna_says(stack, "Hej, hvornår er mødet?")
    await teach(stack.svc, _user(stack, "mette"), msg.id, "bekymring")
    items = (await (await stack.api("GET", "/api/v1/conversations")).json())["items"]
    assert items[0]["id"] == msg.conversation_id and items[0]["concern"] is True


async def test_a_bad_label_or_someone_elses_message_changes_nothing(stack: Stack) -> None:
    """Not none/akut/bekymring: 400 bad_level; Lars (another team), a made-up id: 404."""
    msg = await _anna_says(stack, URGENT)
    with pytest.raises(BadInput) as bad:
        await teach(stack.svc, _user(stack, "mette"), msg.id, "maybe")
    assert bad.value.code == "bad_level"
    for who, mid in (("lars", msg.id), ("mette", "00000000-0000-0000-0000-000000000000")):
        with pytest.raises(NotFound):
            await teach(stack.svc, _user(stack, who), mid, "none")
    assert await _count(stack, triage_examples) == 0
    assert "triage_example" not in await _kinds(stack, msg.id)
    async with stack.svc.read() as conn:
        assert (
            await conn.scalar(select(messages.c.acknowledged_at).where(messages.c.id == msg.id))
            is None
        )


async def test_train_tenant_teaches_this_municipality_only_and_reproducibly(
    stack: Stack,
) -> None:
    """Taught 'Er akut': kbh's reader pages on the phrase, another municipality's does not."""
    async with stack.svc.write() as conn:
        other = await create_tenant(
            conn, stack.svc, slug="aarhus", name="Aarhus Kommune", sms_number="+4589404000"
        )
    kbh = stack.world.tenant_id
    assert await train_tenant(stack.svc, kbh, TRAIN) == 0  # no examples: nothing changes
    assert await _count(stack, triage_models) == 0
    async with stack.svc.read() as conn:
        assert (await tenant_triager(conn, stack.svc, kbh))(TAUGHT).level is None
    msg = await _anna_says(stack, TAUGHT)
    assert not msg.urgent
    await teach(stack.svc, _user(stack, "mette"), msg.id, "akut")
    assert await train_tenant(stack.svc, kbh, TRAIN) == 1
    async with stack.svc.read() as conn:
        first = (await conn.execute(select(triage_models))).one()
        mine = (await tenant_triager(conn, stack.svc, kbh))(TAUGHT)
        theirs = (await tenant_triager(conn, stack.svc, other))(TAUGHT)
    assert mine.urgent and mine.level == "akut"
    assert not theirs.urgent and theirs.level is None
    assert b"skrald" not in first.weights_enc  # the weights are sealed: the vocabulary is words
    # The same corpus and examples give the same weights.
    assert await train_tenant(stack.svc, kbh, TRAIN) == 1
    async with stack.svc.read() as conn:
        second = (await conn.execute(select(triage_models))).one()

    def weights(row: Any) -> str:
        dek = stack.svc.dek("triage_models", row.id, row.dek)
        return unseal(dek, row.weights_enc, f"triage_models:{row.id}:weights")

    assert weights(first) == weights(second)
    # And the real door: the taught phrase, sent again, now pages someone.
    stack.clock.advance(minutes=1)
    again = await _anna_says(stack, TAUGHT)
    assert again.urgent and again.triage_level == "akut"


def test_the_training_corpus_is_where_the_cli_reads_it() -> None:
    """`train --tenant` adds the examples to the shipped corpus file."""
    assert Path(TRAIN).exists()


def test_the_cli_trains_one_municipality_and_classify_tenant_uses_it(
    tmp_path: Path, keys: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`triage train --tenant kbh` after a taught example: `classify --tenant kbh` pages on the
    phrase; aarhus (no examples: "nothing changed") and the default reader do not. (SQLite
    only: the CLI owns its event loop.)"""
    import asyncio
    import io
    import json

    from bot.base import config as config_mod
    from bot.base.crypto import new_key_text, seal
    from bot.base.ids import new_id
    from bot.base.services import Services
    from bot.cli import build_parser
    from bot.cli.services import with_services
    from bot.store.schema.core import conversations, participants
    from tests.integration.conftest import FRIDAY_MORNING
    from tests.integration.live import LiveServer

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    LiveServer(url, keys, FRIDAY_MORNING, migrate=True).start().stop()
    monkeypatch.setenv("TOVHOLDER_DATABASE_URL", url)
    monkeypatch.setenv("TOVHOLDER_KEKS", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_JOURNAL_SIGNING_KEY", keys["kek"].hex())
    monkeypatch.setenv("TOVHOLDER_INDEX_KEY", keys["index"].hex())
    monkeypatch.setenv("TOVHOLDER_TWILIO_ACCOUNT_SID", "AC" + "2" * 32)
    monkeypatch.setenv("TOVHOLDER_TWILIO_AUTH_TOKEN", new_key_text())

    async def seed(svc: Services) -> None:
        # The live server seeded the test world: Anna's case 2025-001 is Mette's.
        async with svc.read() as c:
            case = (await c.execute(select(cases).where(cases.c.number == "2025-001"))).one()
            anna = await c.scalar(
                select(participants.c.person_id).where(participants.c.case_id == case.id)
            )
        case_id, now = case.id, svc.clock.now()
        mid = new_id()
        async with svc.write() as c:
            wrapped = await c.scalar(select(cases.c.dek).where(cases.c.id == case_id))
            dek = svc.dek("cases", case_id, wrapped)
            conv_id = await c.scalar(
                select(conversations.c.id).where(
                    conversations.c.case_id == case_id, conversations.c.person_id == anna
                )
            )
            if conv_id is None:  # the seeded world may already hold the thread
                conv_id = new_id()
                await c.execute(
                    conversations.insert().values(
                        id=conv_id,
                        tenant_id=case.tenant_id,
                        case_id=case_id,
                        person_id=anna,
                        last_activity_at=now,
                        created_at=now,
                    )
                )
            await c.execute(
                messages.insert().values(
                    id=mid,
                    tenant_id=case.tenant_id,
                    conversation_id=conv_id,
                    case_id=case_id,
                    person_id=anna,
                    direction="in",
                    kind="citizen",
                    key_scope="case",
                    body_enc=seal(dek, TAUGHT, f"messages:{mid}:body"),
                    status="received",
                    awaiting_reply=True,
                    created_at=now,
                )
            )
            await create_tenant(c, svc, slug="aarhus", name="Aarhus", sms_number="+4589404000")
        mette = StaffUser(case.owner_id, case.tenant_id, case.team_id, "caseworker")
        await teach(svc, mette, mid, "akut")

    asyncio.run(with_services(config_mod.load(), seed))
    parser = build_parser()

    def run(*argv: str) -> str:
        args = parser.parse_args(argv)
        assert int(args.func(args)) == 0
        return str(capsys.readouterr().out)

    def level(*tenant: str) -> Any:
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"id": 1, "text": TAUGHT}) + "\n"))
        return json.loads(run("triage", "classify", *tenant))["level"]

    assert level("--tenant", "kbh") is None
    assert "nothing changed" in run("triage", "train", "--tenant", "aarhus")
    assert "trained with 1 examples" in run("triage", "train", "--tenant", "kbh")
    assert level("--tenant", "kbh") == "akut"
    assert level("--tenant", "aarhus") is None
    assert level() is None

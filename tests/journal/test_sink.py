"""The heads sink: chain heads leave the database, sealed, and only when they move."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from journal.config import JournalConfig
from journal.sink import heads_tick
from journal.sinkfile import read_sink
from tests.harness import Stack

KEY = b"s" * 32


async def test_heads_are_written_once_per_move_with_a_valid_hmac(
    stack: Stack, tmp_path: Path
) -> None:
    """Each tick appends one line per head that moved since the last tick, each HMAC-sealed;
    without a sink configured the tick does nothing."""
    cfg = JournalConfig(heads_sink=tmp_path / "heads.jsonl", heads_key=KEY)
    assert await heads_tick(stack.svc, cfg) == 0  # nothing journalised yet
    await stack.sms(stack.world.phones["anna"], "Hej")  # two entries on Anna's case
    assert await heads_tick(stack.svc, JournalConfig()) == 0  # no sink: nothing
    assert await heads_tick(stack.svc) == 0  # the app's own (empty) journal settings
    assert await heads_tick(stack.svc, cfg) == 1
    assert await heads_tick(stack.svc, cfg) == 0  # nothing moved
    stack.clock.advance(minutes=1)
    await stack.sms(stack.world.phones["anna"], "Hej igen")
    assert await heads_tick(stack.svc, cfg) == 1
    lines = [json.loads(x) for x in (tmp_path / "heads.jsonl").read_text().splitlines()]
    assert [(x["chain"], x["seq"]) for x in lines] == [
        (f"case:{stack.world.cases['anna']}", 2),
        (f"case:{stack.world.cases['anna']}", 3),
    ]
    for x in lines:
        # An independent check of the documented format.
        body = json.dumps(
            {"at": x["at"], "chain": x["chain"], "hash": x["hash"], "seq": x["seq"]},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        assert hmac.new(KEY, body, hashlib.sha256).hexdigest() == x["mac"]
    assert lines[1]["at"] == stack.clock.now().isoformat()
    anchors, damage = read_sink(tmp_path / "heads.jsonl", KEY)
    assert len(anchors) == 2 and damage == []
    _, damage = read_sink(tmp_path / "heads.jsonl", b"x" * 32)
    assert [d.line for d in damage] == [1, 2]

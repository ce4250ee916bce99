"""`tovholder journal prove`: inclusion and consistency proofs a third party checks with the
public key alone, and a tampered chain that cannot be proved."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from bot.base.errors import NotFound
from bot.cli.journal import cmd_prove, run_prove
from journal.config import journal_config
from journal.proof import check_proof, consistency_proof, inclusion_proof
from journal.signing import HeadSigner, public_keys
from tests.harness import Stack
from tests.journal.conftest import tamper
from tests.journal.test_cli import parser
from tests.journal.test_tamper import _last_signed, forge_append, signing_keys
from tests.journal.test_verify import _rewrite_from, chain_rows, notes, traffic


def test_prove_is_registered_with_an_entry_or_a_signed_head() -> None:
    """`journal prove ENTRY_ID` and `journal prove --consistency ID`; one of them, not both."""
    args = parser().parse_args(["journal", "prove", "e1"])
    assert (args.func, args.entry_id, args.consistency) == (cmd_prove, "e1", None)
    args = parser().parse_args(["journal", "prove", "--consistency", "s1"])
    assert (args.entry_id, args.consistency) == (None, "s1")
    for bad in (["journal", "prove"], ["journal", "prove", "e1", "--consistency", "s1"]):
        with pytest.raises(SystemExit):
            parser().parse_args(bad)


async def test_an_inclusion_proof_checks_with_the_public_key_alone(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI prints the walk from entry #2 to the newest signed head as JSON; it checks under
    the public key, not under another key, and not once a step or the signature is altered."""
    chain = await traffic(stack)
    rows = await chain_rows(stack, chain)
    assert await run_prove(stack.config, journal_config(stack.config), rows[1].id, None) == 0
    proof = json.loads(capsys.readouterr().out)
    keys = signing_keys(stack)
    assert (proof["chain"], proof["seq"], proof["start_hash"]) == (chain, 2, rows[0].hash)
    assert [e["seq"] for e in proof["entries"]] == [r.seq for r in rows[1:]]
    assert proof["public_key"] == next(iter(keys.values())).hex()
    assert check_proof(proof, keys) == []
    # Only the public key in hand: rebuilt from the proof's hex, as an auditor would.
    assert check_proof(proof, public_keys([bytes.fromhex(proof["public_key"])])) == []
    other = HeadSigner.from_seed(b"o" * 32)
    assert check_proof(proof, {proof["signed_head"]["key_id"]: other.public})
    altered = copy.deepcopy(proof)
    fields = json.loads(altered["entries"][1]["text"]) | {"subject": "Forfalsket"}
    altered["entries"][1]["text"] = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert check_proof(altered, keys) == [f"{chain}: entry #3 does not hash to its recorded hash"]
    cut = copy.deepcopy(proof)
    del cut["entries"][-1]
    assert "not where" in check_proof(cut, keys)[0]
    resigned = copy.deepcopy(proof)
    resigned["signed_head"]["signature"] = other.sign(b"x")
    assert "signature" in check_proof(resigned, keys)[0]


async def test_a_consistency_proof_shows_an_old_signed_head_is_a_prefix_of_today(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """An old signed head of a case's chain, three notes later, lies on today's chain: the walk
    from its hash to the newest signed head checks; claimed at another seq, it does not."""
    chain = await notes(stack, "anna", 2)
    old_id, _ = await _last_signed(stack, chain)
    await notes(stack, "anna", 3)
    assert await run_prove(stack.config, journal_config(stack.config), None, old_id) == 0
    proof = json.loads(capsys.readouterr().out)
    keys = signing_keys(stack)
    [part] = [p for p in proof["chains"] if p["chain"] == chain]
    assert part["seq"] == 2 and [e["seq"] for e in part["entries"]] == [3, 4, 5]
    assert check_proof(proof, keys) == []
    moved = copy.deepcopy(proof)
    moved["chains"][0]["seq"] = 1
    assert check_proof(moved, keys)
    async with stack.svc.read() as conn:
        with pytest.raises(NotFound):
            await consistency_proof(conn, "no-such-signed-head", keys)
        with pytest.raises(NotFound):
            await inclusion_proof(conn, "no-such-entry", keys)


async def test_a_tampered_chain_cannot_be_proved(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed later entry fails both proofs; a rehashed rewrite (head moved too) ends off the
    signed head; a forged append past the last signed head has no proof at all."""
    jcfg = journal_config(stack.config)
    chain = await notes(stack, "anna", 2)
    old_id, _ = await _last_signed(stack, chain)
    await notes(stack, "anna", 3)
    rows = await chain_rows(stack, chain)
    await tamper(
        stack.config.database_url,
        ["UPDATE journal_entries SET subject = 'Intet aftalt' WHERE id = :id"],
        {"id": rows[3].id},
    )
    assert await run_prove(stack.config, jcfg, rows[1].id, None) == 1
    assert f"{chain}: entry #4 does not hash" in capsys.readouterr().err
    assert await run_prove(stack.config, jcfg, None, old_id) == 1
    assert f"{chain}: entry #4 does not hash" in capsys.readouterr().err

    carl = await notes(stack, "carl", 3)
    await _rewrite_from(stack, carl, 2, "Ingen kvittering sendt")
    first = (await chain_rows(stack, carl))[0]
    assert await run_prove(stack.config, jcfg, first.id, None) == 1
    assert "not where" in capsys.readouterr().err

    eriksen = await notes(stack, "eriksen", 2)
    forged = await forge_append(stack, eriksen, back=timedelta(0), move_head=True)
    assert await run_prove(stack.config, jcfg, forged["id"], None) == 1
    assert "no signed head covers entry #3" in capsys.readouterr().err

"""``tovholder triage classify | evaluate | train`` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.triage import classify
from bot.domain.triage import Triager

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "triage" / "heldout.jsonl"


def test_classify_writes_one_line_per_input_in_order() -> None:
    """Each {"id","text"} line gets one JSON result with urgent, level, intent and why, in order."""
    lines = [
        {"id": "a", "text": "det er ikke akut"},
        {"id": "b", "text": "stop — han står uden for døren med en kniv"},
        {"id": "c", "text": "STOP"},
        {"id": "d", "text": ""},
    ]
    out = io.StringIO()
    rc = classify(Triager(), io.StringIO("".join(json.dumps(x) + "\n" for x in lines)), out)
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rc == 0 and [g["id"] for g in got] == ["a", "b", "c", "d"]
    assert [(g["urgent"], g["level"], g["intent"]) for g in got] == [
        (False, None, None),
        (True, "akut", None),
        (False, None, "STOP"),
        (False, None, None),
    ]
    assert all(g["why"] for g in got)


def test_classify_answers_a_bad_line_with_an_error_line() -> None:
    """A line that is not a JSON object with text gets an error in its place; the exit code says so."""
    out = io.StringIO()
    rc = classify(Triager(), io.StringIO('not json\n{"id": 1, "text": "ok"}\n'), out)
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rc == 1 and "error" in got[0] and got[1]["intent"] == "OK"


def test_classify_runs_through_the_tovholder_command_without_a_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tovholder triage classify` reads stdin and needs no configuration without --tenant."""
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "x", "text": "hjælp han slår mig"}\n'))
    assert main(["triage", "classify"]) == 0
    assert json.loads(capsys.readouterr().out)["urgent"] is True


def test_evaluate_prints_figures_per_language(capsys: pytest.CaptureFixture[str]) -> None:
    """`tovholder triage evaluate FILE` prints recall, false alarms, intents and ordinary, per language."""
    assert main(["triage", "evaluate", str(HELDOUT)]) == 0
    out = capsys.readouterr().out
    assert "urgent recall" in out and all(f"\n{lang} |" in out for lang in ("da", "en", "uk", "ar"))


def test_train_rebuilds_the_same_weights(tmp_path: Path) -> None:
    """Training twice on the same corpus writes byte-identical weights (fixed seed)."""
    pytest.importorskip("sklearn")
    from bot.domain.triage.train import train

    corpus = tmp_path / "small.jsonl"
    rows = (HELDOUT.parent / "train.jsonl").read_text(encoding="utf-8").splitlines()[::4]
    corpus.write_text("\n".join(rows) + "\n", encoding="utf-8")
    train(corpus, tmp_path / "a.json")
    train(corpus, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()

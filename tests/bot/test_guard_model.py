"""The decision guard's model beside the rules: its weights, its training and its word in ``why``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.guard import read
from bot.domain.guard.corpus import load
from bot.domain.guard.model import MODEL_PATH, Model, default_model, features
from bot.domain.guard.train import MAX_HARD_REFUSED, MIN_THRESHOLD

DATA = Path(__file__).resolve().parents[1] / "data" / "guard"
ROOT = Path(__file__).resolve().parents[2]

# Outcomes the rules have no cue for; the model has seen others like them.
ONLY_THE_MODEL = [
    "Tandregningen er ikke noget kommunen betaler, beklager.",
    # ("Der er ikke grundlag for at give dig hjælp til depositum" has a cue since the sixth round.)
    "Du falder uden for reglerne for enkeltydelser, så der kommer ingen penge.",
]


def _small_corpus(tmp_path: Path) -> Path:
    """Every fourth training text: enough for five folds, quick to fit."""
    rows = load(DATA / "train.jsonl")[::4]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_the_shipped_weights_load_from_json() -> None:
    """model.json beside the module loads into a model with a threshold chosen in (0, 1)."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert set(data) >= {"version", "vocab", "weights", "bias", "threshold", "out_of_fold"}
    assert len(data["vocab"]) == len(data["weights"]) == len(set(data["vocab"]))
    model = default_model()
    assert model is not None and len(model) == len(data["vocab"]) > 1000
    assert 0 < model.threshold < 1 and model.threshold == data["threshold"]
    oof = data["out_of_fold"]["rules+model"]["hard negatives refused"]
    assert oof[0] <= MAX_HARD_REFUSED * oof[1]


@pytest.mark.parametrize("text", ONLY_THE_MODEL)
def test_a_decision_only_the_model_catches_says_so_in_why(text: str) -> None:
    """The rules let it through; with the model it is refused, and ``why`` names the model,
    its probability and its strongest words in plain Danish."""
    assert read(text, model=None).decision is False
    reading = read(text)
    assert reading.decision is True
    assert len(reading.why) == 1 and reading.why[0].startswith("model: p=")
    assert "; stærkest «" in reading.why[0]


def test_the_model_may_not_overrule_a_scope_that_set_a_cue_aside() -> None:
    """A model that would call anything with "afslag" or "pengene" a decision: a text whose
    only cue a scope set aside stays guidance; a text with no cue at all is refused."""
    eager = Model({"vocab": ["w:afslag", "w:pengene"], "weights": [9.0, 9.0], "bias": -1.0})
    conditional = "Hvis du får afslag, kan du klage til Ankestyrelsen"
    assert read(conditional, model=None).why  # the cue was set aside (a condition)
    assert read(conditional, model=eager).decision is False
    assert read("Pengene kommer", model=eager).decision is False  # too few words to score
    reading = read("Pengene kommer på fredag", model=eager)
    assert reading.decision is True and reading.why == ["model: p=1.00; stærkest «pengene»"]
    assert read("Pengene kommer på fredag", model=None).decision is False


def test_features_are_words_pairs_negations_and_letter_grams() -> None:
    """Normal form (Danish letters folded), punctuation squeezed, the three words after a
    negation marked."""
    feats = features("Ansøgningen er IKKE godkendt!")
    assert {"w:ansogningen", "b:ikke godkendt", "n:godkendt", " an", "godk"} <= set(feats)
    assert not [f for f in feats if "!" in f]


def test_training_is_deterministic_and_picks_the_threshold_out_of_fold(tmp_path: Path) -> None:
    """The same corpus gives the same JSON twice; the threshold keeps out-of-fold hard
    negatives refused within the budget, and the figures say so."""
    pytest.importorskip("sklearn")
    from bot.domain.guard.train import train

    corpus = _small_corpus(tmp_path)
    first = train(corpus, tmp_path / "a.json")
    train(corpus, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    hits, total = first["out_of_fold"]["rules+model"]["hard negatives refused"]
    assert total > 100 and hits <= MAX_HARD_REFUSED * total
    rules = first["out_of_fold"]["rules"]["decisions caught"]
    both = first["out_of_fold"]["rules+model"]["decisions caught"]
    assert both[1] == rules[1] and both[0] >= rules[0]
    model = Model(json.loads((tmp_path / "a.json").read_text(encoding="utf-8")))
    assert model.threshold == first["threshold"] >= MIN_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "Du kan søge om hjælp til tandpleje.",
        "Ja, du er velkommen til at møde online på torsdag.",
        "Din frist for at sende lønsedlerne er rykket til fredag.",
    ],
)
def test_the_model_alone_refuses_only_what_it_reads_as_likelier_a_decision(text: str) -> None:
    """The shipped threshold is never under the floor (a scope that spares a hard negative
    frees budget for the model; without the floor the model refused everyday guidance)."""
    model = default_model()
    assert model is not None and model.threshold >= MIN_THRESHOLD
    assert not read(text).decision, read(text).why


def test_train_and_classify_need_no_database(tmp_path: Path) -> None:
    """``tovholder guard train`` and ``classify`` run as commands with no database set; a
    text only the model catches comes out refused, with the model in ``why``."""
    pytest.importorskip("sklearn")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "model.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "guard",
            "train",
            "--corpus",
            str(_small_corpus(tmp_path)),
        ]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert "out of fold, rules+model: decisions caught" in done.stdout and out.exists()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "guard", "classify"],
        input=json.dumps({"id": "m", "text": ONLY_THE_MODEL[0]}, ensure_ascii=False) + "\n",
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    row = json.loads(done.stdout)
    assert row["decision"] is True and row["why"][0].startswith("model: p=")


def test_the_systems_own_texts_come_in_the_same_order_in_every_process() -> None:
    """Training adds the system's texts; their order must not follow a process's string
    hashing (a frozenset's order did, and the retrained weights differed run to run)."""
    code = (
        "import hashlib\n"
        "from bot.domain.guard import system\n"
        "print(hashlib.sha256(repr(system.rows()).encode()).hexdigest())\n"
    )
    seen = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        seen.add(done.stdout.strip())
    assert len(seen) == 1

"""The statistical reader: a linear model over character and word n-grams.

It generalises past the lexicon (a misspelling the lexicon lacks, a paraphrase
of a known risk), and is trained from the labelled corpus by ``tovholder triage
train`` (bot/domain/triage/train.py, scikit-learn). Here is only inference, in
plain Python: the weights are two arrays aligned with a vocabulary, stored as
JSON in ``model.json`` beside this module; nothing is downloaded or unpickled.

Two scores: ``akut`` (would page someone) and ``concern`` (akut or bekymring).
Features: character 3- and 4-grams of the squeezed text, words, word pairs
within a clause, and words in the scope of a negation marked as such
("n:akut" in "ikke akut"), so the model can learn that a negated word weighs
differently.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.domain.triage.text import Reading

MODEL_PATH = Path(__file__).with_name("model.json")


def features(reading: Reading, negators: frozenset[str]) -> list[str]:
    """The feature names of one message (repeats count)."""
    text = f" {reading.squeezed} "
    out = [text[i : i + 3] for i in range(len(text) - 2)]
    out += [text[i : i + 4] for i in range(len(text) - 3)]
    for clause in reading.clauses:
        words = clause.text.split(" ")
        out += ["w:" + w for w in words]
        out += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for i, w in enumerate(words):
            if w in negators:
                out += ["n:" + x for x in words[i + 1 : i + 4]]
    return out


@dataclass(frozen=True, slots=True)
class Scores:
    """The model's probabilities and the features that pushed ``akut`` most."""

    akut: float
    concern: float
    top: tuple[str, ...]


class Model:
    """Weights in memory: feature -> (akut weight, concern weight)."""

    def __init__(self, data: dict[str, object]) -> None:
        vocab = data["vocab"]
        akut = data["akut"]
        concern = data["concern"]
        bias = data["bias"]
        assert isinstance(vocab, list) and isinstance(akut, list) and isinstance(concern, list)
        assert isinstance(bias, list)
        self._w: dict[str, tuple[float, float]] = {
            f: (float(a), float(c)) for f, a, c in zip(vocab, akut, concern, strict=True)
        }
        self._bias = (float(bias[0]), float(bias[1]))
        thresholds = data.get("thresholds", {})
        assert isinstance(thresholds, dict)
        self.akut_at = float(thresholds.get("akut", 0.5))
        self.concern_at = float(thresholds.get("concern", 0.5))

    def __len__(self) -> int:
        return len(self._w)

    def score(self, feats: list[str]) -> Scores:
        """Probabilities for one message's features."""
        get = self._w.get
        sa, sc = self._bias
        pushed: dict[str, float] = {}
        for f in feats:
            w = get(f)
            if w is not None:
                sa += w[0]
                sc += w[1]
                pushed[f] = pushed.get(f, 0.0) + w[0]
        top = sorted(pushed, key=pushed.__getitem__, reverse=True)[:3]
        return Scores(_sigmoid(sa), _sigmoid(sc), tuple(f for f in top if pushed[f] > 0))


def _sigmoid(x: float) -> float:
    if x < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


@cache
def default_model() -> Model | None:
    """The shipped weights, or None when they have not been trained yet."""
    if not MODEL_PATH.exists():
        return None
    return Model(json.loads(MODEL_PATH.read_text(encoding="utf-8")))

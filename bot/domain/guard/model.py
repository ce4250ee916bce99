"""The decision guard's statistical reader: a linear model beside the rules.

Caseworkers phrase an outcome in more ways than any cue list holds ("din
ansøgning er gået igennem", "det er ikke noget kommunen betaler"); the model
has seen many of them and scores the whole text. It is trained from the
labelled training split by ``tovholder guard train``
(bot/domain/guard/train.py, scikit-learn); here is only inference, in plain
Python: the weights are two arrays aligned with a vocabulary, stored as JSON
in ``model.json`` beside this module; nothing is downloaded or unpickled.

Features of the normal form (text.py): character 3- and 4-grams of the text
with punctuation squeezed to spaces, words, word pairs within a sentence, and
the three words after a negation marked as such ("n:godkendt" in "ikke
godkendt"), so "godkendt" and "ikke godkendt" can weigh differently.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.domain.guard.text import sentences

MODEL_PATH = Path(__file__).with_name("model.json")
NEGATORS = frozenset(
    {"ikke", "ingen", "intet", "aldrig", "not", "no", "never", "не", "ні", "لا", "لن", "لم", "ليس"}
)
_NON_WORD = re.compile(r"[^\w%§]+")
# Fewer words than this and a couple of weights would decide alone ("Opgivet efter"):
# the model does not score such a text (the rules still read it).
MIN_WORDS = 3


def features(text: str) -> list[str]:
    """The feature names of one text (repeats count)."""
    words_by_sentence = [w for w in (_NON_WORD.sub(" ", s).split() for s in sentences(text)) if w]
    squeezed = " " + " ".join(" ".join(ws) for ws in words_by_sentence) + " "
    out = [squeezed[i : i + 3] for i in range(len(squeezed) - 2)]
    out += [squeezed[i : i + 4] for i in range(len(squeezed) - 3)]
    for words in words_by_sentence:
        out += ["w:" + w for w in words]
        out += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for i, w in enumerate(words):
            if w in NEGATORS:
                out += ["n:" + x for x in words[i + 1 : i + 4]]
    return out


@dataclass(frozen=True, slots=True)
class Score:
    """The model's probability that a text is a decision, and the words that pushed most."""

    p: float
    top: tuple[str, ...]

    def why(self) -> str:
        """In plain words for the caseworker: ``model: p=0.93; stærkest «du får», «bevilget»``."""
        strongest = ", ".join(f"«{t}»" for t in self.top)
        return f"model: p={self.p:.2f}" + (f"; stærkest {strongest}" if strongest else "")


def _shown(feature: str) -> str:
    """A feature as the caseworker reads it: the word or words, not the feature's name."""
    kind, _, rest = feature.partition(":")
    if kind == "n" and rest:
        return f"ikke … {rest}"
    return rest if kind in ("w", "b") and rest else feature.strip()


class Model:
    """Weights in memory: feature -> weight, a bias and the decision threshold."""

    def __init__(self, data: dict[str, object]) -> None:
        vocab = data["vocab"]
        weights = data["weights"]
        assert isinstance(vocab, list) and isinstance(weights, list)
        self._w: dict[str, float] = {str(f): float(w) for f, w in zip(vocab, weights, strict=True)}
        self._bias = float(data["bias"])  # type: ignore[arg-type]
        self.threshold = float(data.get("threshold", 0.5))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._w)

    def score(self, text: str) -> Score:
        """The probability that ``text`` is a decision, and its two strongest words
        (0 for a text of fewer than ``MIN_WORDS`` words)."""
        feats = features(text)
        if sum(f[:2] == "w:" for f in feats) < MIN_WORDS:
            return Score(0.0, ())
        get = self._w.get
        s = self._bias
        pushed: dict[str, float] = {}
        for f in feats:
            w = get(f)
            if w is not None:
                s += w
                pushed[f] = pushed.get(f, 0.0) + w
        # Words and word pairs say more to a caseworker than letter grams; grams only if none.
        words = [f for f in pushed if f[:2] in ("w:", "b:", "n:") and pushed[f] > 0]
        pool = words or [f for f in pushed if pushed[f] > 0]
        top = sorted(pool, key=lambda f: (-pushed[f], f))[:2]
        return Score(_sigmoid(s), tuple(_shown(f) for f in top))


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

"""``tovholder triage train``: rebuild the model's weights from the training split.

Deterministic: the same corpus gives the same weights (liblinear with a fixed
seed, features in sorted order, weights rounded). scikit-learn and numpy are
needed here only; the reader itself runs on the stored JSON arrays.

The two decision thresholds are chosen on out-of-fold scores of the training
split (five folds), never on the held-out split: the threshold for ``akut`` is
the one at which the model alone finds the most urgent training messages while
the model and lexicon together keep false alarms on training hard negatives at
most ``MAX_FALSE_ALARMS``; for ``bekymring``, the most concerns while at most
``MAX_CONCERN_ALARMS`` of calm messages are raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.domain.triage.corpus import load
from bot.domain.triage.lexicon import lexicon
from bot.domain.triage.model import MODEL_PATH, Model, features
from bot.domain.triage.reader import AKUT, Triager
from bot.domain.triage.text import read

SEED = 16
C = 8.0  # chosen on out-of-fold recall of the training split at the false-alarm budget
FOLDS = 5
MAX_FALSE_ALARMS = 0.04
MAX_CONCERN_ALARMS = 0.05
_GRID = [x / 100 for x in (*range(30, 100, 5), 97, 98, 99)]


def _fit(feats: list[list[str]], labels: list[int], vocab: list[str]) -> tuple[list[float], float]:
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    col = {f: i for i, f in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        counts: dict[int, int] = {}
        for f in fs:
            if f in col:
                counts[col[f]] = counts.get(col[f], 0) + 1
        for c, n in counts.items():
            rows.append(r)
            cols.append(c)
            vals.append(1.0 + np.log(n))
    x = csr_matrix((vals, (rows, cols)), shape=(len(feats), len(vocab)))
    clf = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", random_state=SEED, max_iter=1000
    )
    clf.fit(x, np.array(labels))
    return [float(w) for w in clf.coef_[0]], float(clf.intercept_[0])


def _weights(rows: list[dict[str, Any]]) -> dict[str, Any]:
    negators = lexicon().negators
    feats = [features(read(r["text"]), negators) for r in rows]
    vocab = sorted({f for fs in feats for f in fs})
    akut, ba = _fit(feats, [int(r["urgent"]) for r in rows], vocab)
    concern, bc = _fit(feats, [int(r["level"] is not None) for r in rows], vocab)
    keep = [i for i in range(len(vocab)) if abs(akut[i]) >= 1e-3 or abs(concern[i]) >= 1e-3]
    return {
        "version": 1,
        "vocab": [vocab[i] for i in keep],
        "akut": [round(akut[i], 4) for i in keep],
        "concern": [round(concern[i], 4) for i in keep],
        "bias": [round(ba, 4), round(bc, 4)],
    }


_Scored = tuple[dict[str, Any], float, float, bool]  # row, p(akut), p(concern), lexicon akut


def _out_of_fold(rows: list[dict[str, Any]]) -> list[_Scored]:
    """Each training row scored by a model that did not see it (``FOLDS`` folds)."""
    import random

    order = list(range(len(rows)))
    random.Random(SEED).shuffle(order)
    scored: list[_Scored] = []
    lexicon_only = Triager(model=None)
    negators = lexicon().negators
    for k in range(FOLDS):
        test = set(order[k::FOLDS])
        model = Model(_weights([r for i, r in enumerate(rows) if i not in test]))
        for i in sorted(test):
            base = lexicon_only(rows[i]["text"])
            # The reader does not let the model raise a message whose risk words were set aside.
            set_aside = base.level is None and any("set aside" in w for w in base.why)
            s = model.score(features(read(rows[i]["text"]), negators))
            scored.append((rows[i], 0.0 if set_aside else s.akut, s.concern, base.level == AKUT))
    return scored


def _thresholds(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The two thresholds, chosen on out-of-fold scores of the training split."""
    scored = _out_of_fold(rows)
    hard = [x for x in scored if x[0]["hard_negative"]]
    urgent = [x for x in scored if x[0]["urgent"]]
    calm = [x for x in scored if x[0]["level"] is None]
    worry = [x for x in scored if x[0]["level"] is not None]
    # The lexicon was written with the training split in view, so its recall there says
    # little: the threshold is judged by what the model finds on its own, out of fold,
    # while the false alarms count what the two together would raise.
    best_a = max(
        (sum(p >= t for _, p, _, _ in urgent), t)
        for t in _GRID
        if sum(lex or p >= t for _, p, _, lex in hard) <= MAX_FALSE_ALARMS * len(hard)
    )
    best_c = max(
        (sum(c >= t for _, _, c, _ in worry), t)
        for t in _GRID
        if sum(c >= t for _, _, c, _ in calm) <= MAX_CONCERN_ALARMS * len(calm)
    )
    return {"akut": best_a[1], "concern": best_c[1]}


def weights_for(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The weights and thresholds fitted on ``rows`` (a corpus, maybe with a municipality's
    own examples added: ``tovholder triage train --tenant``)."""
    data = _weights(rows)
    data["thresholds"] = _thresholds(rows)
    return data


def train(corpus: Path, out: Path = MODEL_PATH) -> dict[str, Any]:
    """Fit on ``corpus`` and write the weights to ``out``; returns what was written."""
    data = weights_for(load(corpus))
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    return data

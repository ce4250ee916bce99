"""Urgent triage: one slip of the finger, compounds, spacing and diacritics still match."""

from __future__ import annotations

import random

import pytest

from bot.domain.triage import Triager, _close


def one_edit_apart(a: str, b: str) -> bool:
    """The reference: optimal-string-alignment distance (insert, delete, substitute, swap) ≤ 1."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)] <= 1


def test_close_is_exactly_one_edit_apart() -> None:
    """On 50,000 random pairs (0–2 edits apart, small alphabet), _close agrees with the reference."""
    rng = random.Random(7)
    for _ in range(50_000):
        a = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 8)))
        b = list(a)
        for _ in range(rng.randint(0, 2)):
            op = rng.randrange(4)
            if op == 0 and b:
                b.pop(rng.randrange(len(b)))
            elif op == 1:
                b.insert(rng.randint(0, len(b)), rng.choice("abcd"))
            elif op == 2 and b:
                b[rng.randrange(len(b))] = rng.choice("abcd")
            elif op == 3 and len(b) > 1:
                i = rng.randrange(len(b) - 1)
                b[i], b[i + 1] = b[i + 1], b[i]
        assert _close(a, "".join(b)) == one_edit_apart(a, "".join(b)), (a, b)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Det haster!", ("haster", "det haster")),
        ("Jeg har selvmordstanker", ("selvmord",)),
        ("det handler om selvmrod", ("selvmord",)),
        ("ring til politti", ("politi",)),
        ("selv mord", ("selvmord",)),
        ("h aster", ("haster",)),
        ("AKUT", ("akut",)),
        ("Hej, jeg kan ikke komme til mødet på torsdag. Kan vi flytte det?", ()),
        ("Tak for beskeden.", ()),
    ],
)
def test_triage_finds_urgent_words_and_risks_through_slips_and_spacing(
    text: str, matched: tuple[str, ...]
) -> None:
    """Typos, compounds and words written apart still match; ordinary messages do not."""
    found = Triager()(text)
    assert set(found.matched) == set(matched) and found.urgent == bool(matched)

"""How the decision guard reads a text: one normal form, split into sentences.

Lower case; Danish letters folded (æ→ae, ø→o, å→a, and "aa" as written
without Danish letters also →a), so "afgørelse", "afgorelse" and "afgoerelse"
read alike once the lexicon allows "oe"; Arabic alef, yeh and teh marbuta in one
form each and its vowel marks dropped (a caseworker's "إعانة" and "اعانه" read
alike); typographic quotes and dashes made
plain; runs of spaces squeezed. A text is split into sentences at ! ? ؟ and new
lines, and at a full stop after a word or a date written 1/7 (not after a
number: "1. maj" stays one sentence with the words around it).
"""

from __future__ import annotations

import re

_FOLD = str.maketrans(
    {
        "æ": "ae",
        "ø": "o",
        "å": "a",
        "é": "e",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "\u00a0": " ",
        "ʼ": "'",
        # Arabic: one form of alef, yeh and teh marbuta; the vowel marks and tatweel dropped.
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "؛": ";",
        **{chr(c): None for c in (*range(0x064B, 0x0653), 0x0640, 0x0670)},
    }
)
_SPACES = re.compile(r"[ \t]+")
# Not after an abbreviation that is followed by more of the sentence ("kr. tilbage").
_SENTENCE_END = re.compile(
    r"(?<=[!?؟])\s+|\s*\n+\s*"
    r"|(?<=[\u0430-\u045f\u0491\u0600-\u06ff]{2}\.)\s+"
    # After a date written 1/7 or 12/10 ("… fra 1/7. Du får brev …"): no month name follows.
    r"|(?<=/\d\.)\s+|(?<=/\d\d\.)\s+"
    r"|(?<=[a-z)\"]{2}\.)(?<!\bkr\.)(?<!\bca\.)(?<!\bnr\.)(?<!\bjf\.)(?<!\bstk\.)"
    r"(?<!\bbl\.a\.)(?<!\bks\.)(?<!\bpr\.)(?<!\bd\.)\s+"
)


def normal(text: str) -> str:
    """The text as the lexicon reads it (see the module docstring)."""
    folded = text.lower().translate(_FOLD).replace("aa", "a")
    return _SPACES.sub(" ", folded).strip()


def sentences(text: str) -> list[str]:
    """The normal form of ``text`` split into sentences, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(normal(text)) if s.strip()]

"""How triage reads an SMS: one normal form, split where the writer put a stop.

Every later step (the municipality's words, the phrase lexicon, the scope rules,
the model and the intents) reads the same `Reading`, so a word is spelt the same
way everywhere: lower case, Danish letters folded (æ→ae, ø→o, å/aa→a), other
diacritics dropped (Ukrainian й→и, Arabic short vowels), Arabic letter variants
joined (أ/إ/آ→ا, ة→ه, ى→ي), Arabic-Indic digits as 0-9, apostrophes dropped
(can't→cant, б'є→бє), right-to-left and zero-width marks removed, and a few
emoji read as words (🔪, 💊, 🆘, 😂). Letters written twice or more count once in
the squeezed form ("hjæææælp", "helllp", "slaaar").

A message is split into sentences (. ! ? … ؟ and new lines) and each sentence
into clauses (, ; : ، — –). Words are never joined across a split: "Tak. Skal"
is two clauses, not one misspelt "tæsk".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss"})

# Marks that change nothing a reader sees; dropped before anything else.
_INVISIBLE = dict.fromkeys(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF, 0x061C, 0x0640]
)
_PREP = str.maketrans(
    {
        **_INVISIBLE,
        "'": None,
        "’": None,
        "ʼ": None,
        "`": None,
        "´": None,
        "ة": "ه",
        "ى": "ي",
        "ٱ": "ا",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        # Quotation marks become a word of their own, so scope rules can see them.
        '"': " zqz ",
        "“": " zqz ",
        "”": " zqz ",
        "„": " zqz ",
        "«": " zqz ",
        "»": " zqz ",
    }
)
QUOTE = "zqz"

# Emoji that say something a word would; the rest are spaces.
EMOJI_WORDS = {
    "🔪": "emojiknife",
    "🗡": "emojiknife",
    "🔫": "emojigun",
    "💊": "emojipills",
    "🆘": "sos",
    "🚑": "emojiambulance",
    "🩸": "emojiblood",
    "😭": "emojicry",
    "😢": "emojicry",
    "😂": "emojilaugh",
    "🤣": "emojilaugh",
    "😅": "emojilaugh",
    "😆": "emojilaugh",
    "😜": "emojilaugh",
    "🙃": "emojilaugh",
    "😄": "emojilaugh",
    "👍": "emojiok",
    "👌": "emojiok",
}
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u20e3]")
_SENTENCE = re.compile(r"([^.!?…؟\n\r]*)([.!?…؟\n\r]*)")
_CLAUSE = re.compile(r"[,;:،؛—–]+|\s-+\s")
_WORD = re.compile(r"\w+")
_TWICE = re.compile(r"([^\W\d_])\1+")
_DANISH_RUN = re.compile("([æøå])\\1+")  # "hjæææælp": squeezed before æ becomes "ae"


def fold(text: str) -> str:
    """Lower-case, Danish letters and diacritics folded, 'aa'/'oe' treated as å/ø."""
    text = _DANISH_RUN.sub(r"\1", text.lower()).translate(_FOLD)
    if not text.isascii():  # ASCII has no diacritics to strip
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text.replace("aa", "a").replace("oe", "o")


def squeeze(text: str) -> str:
    """Letters written twice or more in a row, once ("hjææælp" → "hjælp")."""
    return _TWICE.sub(r"\1", text)


def prepare(text: str) -> str:
    """Everything but the split: invisible marks, emoji, quotes, apostrophes, Arabic, fold."""
    if not text.isascii():
        text = _EMOJI.sub(lambda m: f" {EMOJI_WORDS.get(m.group(), '')} ", text)
    return fold(text.translate(_PREP))


def normal_pattern(pattern: str) -> str:
    """A lexicon pattern in the form the text takes (its regex marks are left alone)."""
    return squeeze(prepare(pattern))


@dataclass(frozen=True, slots=True)
class Clause:
    """Words between two stops: as folded (`words`) and squeezed, joined by single spaces."""

    sentence: int
    question: bool  # the sentence ends with a question mark
    words: tuple[str, ...]
    text: str  # the squeezed words joined by " "


@dataclass(frozen=True, slots=True)
class Reading:
    """One SMS as triage reads it."""

    clauses: tuple[Clause, ...]

    @property
    def squeezed(self) -> str:
        """All words, squeezed, clause after clause."""
        return " ".join(c.text for c in self.clauses if c.text)


def read(text: str) -> Reading:
    """Split and normalise one SMS (any length, any script; never raises on text)."""
    clauses: list[Clause] = []
    for s, m in enumerate(_SENTENCE.finditer(prepare(text))):
        question = "?" in m.group(2) or "؟" in m.group(2)
        for part in _CLAUSE.split(m.group(1)):
            words = tuple(_WORD.findall(part))
            if words:
                clauses.append(Clause(s, question, words, squeeze(" ".join(words))))
    return Reading(tuple(clauses))

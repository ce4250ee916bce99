"""Right-to-left text for the journal PDFs: Arabic joined and laid out in display order.

fpdf2 draws the characters of a string left to right, one glyph each, unless
its text shaping (HarfBuzz, through the ``uharfbuzz`` package) is on. Without
it Arabic comes out reversed and unjoined: each letter in its isolated form,
in logical order from the left. We do not depend on HarfBuzz; instead

1. :func:`shape` joins Arabic letters the way the script requires, choosing
   each letter's isolated, initial, medial or final form from Unicode's
   Arabic Presentation Forms (and the lam-alef ligatures). DejaVu Sans, the
   font the PDFs embed, has these glyphs; NFKC maps each form back to its
   letter, so extracted text searches as typed;
2. :func:`visual` puts one line in display order with fpdf2's own
   implementation of the Unicode Bidirectional Algorithm (UAX #9), so that a
   right-to-left run is drawn right to left and digits and Latin words in it
   keep their own order. Lines are broken first (in logical order) and each
   line is reordered on its own, as UAX #9 requires.

Text with no right-to-left character passes through untouched (and costs a
regular expression search).
"""

from __future__ import annotations

import re
import unicodedata

from fpdf.bidi import BidiParagraph, auto_detect_base_direction
from fpdf.enums import TextDirection

# Hebrew, Arabic, Syriac, Thaana, NKo …, and the presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")

# Letter -> (isolated, final, initial, medial); a letter with two forms joins only to
# the letter before it (joining type R). From Unicode's Arabic Presentation Forms-A/B.
_FORMS: dict[str, tuple[str, ...]] = {
    "\u0621": ("\ufe80",),
    "\u0622": ("\ufe81", "\ufe82"),
    "\u0623": ("\ufe83", "\ufe84"),
    "\u0624": ("\ufe85", "\ufe86"),
    "\u0625": ("\ufe87", "\ufe88"),
    "\u0626": ("\ufe89", "\ufe8a", "\ufe8b", "\ufe8c"),
    "\u0627": ("\ufe8d", "\ufe8e"),
    "\u0628": ("\ufe8f", "\ufe90", "\ufe91", "\ufe92"),
    "\u0629": ("\ufe93", "\ufe94"),
    "\u062a": ("\ufe95", "\ufe96", "\ufe97", "\ufe98"),
    "\u062b": ("\ufe99", "\ufe9a", "\ufe9b", "\ufe9c"),
    "\u062c": ("\ufe9d", "\ufe9e", "\ufe9f", "\ufea0"),
    "\u062d": ("\ufea1", "\ufea2", "\ufea3", "\ufea4"),
    "\u062e": ("\ufea5", "\ufea6", "\ufea7", "\ufea8"),
    "\u062f": ("\ufea9", "\ufeaa"),
    "\u0630": ("\ufeab", "\ufeac"),
    "\u0631": ("\ufead", "\ufeae"),
    "\u0632": ("\ufeaf", "\ufeb0"),
    "\u0633": ("\ufeb1", "\ufeb2", "\ufeb3", "\ufeb4"),
    "\u0634": ("\ufeb5", "\ufeb6", "\ufeb7", "\ufeb8"),
    "\u0635": ("\ufeb9", "\ufeba", "\ufebb", "\ufebc"),
    "\u0636": ("\ufebd", "\ufebe", "\ufebf", "\ufec0"),
    "\u0637": ("\ufec1", "\ufec2", "\ufec3", "\ufec4"),
    "\u0638": ("\ufec5", "\ufec6", "\ufec7", "\ufec8"),
    "\u0639": ("\ufec9", "\ufeca", "\ufecb", "\ufecc"),
    "\u063a": ("\ufecd", "\ufece", "\ufecf", "\ufed0"),
    "\u0641": ("\ufed1", "\ufed2", "\ufed3", "\ufed4"),
    "\u0642": ("\ufed5", "\ufed6", "\ufed7", "\ufed8"),
    "\u0643": ("\ufed9", "\ufeda", "\ufedb", "\ufedc"),
    "\u0644": ("\ufedd", "\ufede", "\ufedf", "\ufee0"),
    "\u0645": ("\ufee1", "\ufee2", "\ufee3", "\ufee4"),
    "\u0646": ("\ufee5", "\ufee6", "\ufee7", "\ufee8"),
    "\u0647": ("\ufee9", "\ufeea", "\ufeeb", "\ufeec"),
    "\u0648": ("\ufeed", "\ufeee"),
    "\u0649": ("\ufeef", "\ufef0"),
    "\u064a": ("\ufef1", "\ufef2", "\ufef3", "\ufef4"),
    # Persian and Urdu letters (Presentation Forms-A).
    "\u067e": ("\ufb56", "\ufb57", "\ufb58", "\ufb59"),
    "\u0686": ("\ufb7a", "\ufb7b", "\ufb7c", "\ufb7d"),
    "\u0698": ("\ufb8a", "\ufb8b"),
    "\u06a9": ("\ufb8e", "\ufb8f", "\ufb90", "\ufb91"),
    "\u06af": ("\ufb92", "\ufb93", "\ufb94", "\ufb95"),
    "\u06cc": ("\ufbfc", "\ufbfd", "\ufbfe", "\ufbff"),
}
# Lam followed by one of these alefs is one ligature glyph: (isolated, final).
_LAM_ALEF = {
    "\u0622": ("\ufef5", "\ufef6"),
    "\u0623": ("\ufef7", "\ufef8"),
    "\u0625": ("\ufef9", "\ufefa"),
    "\u0627": ("\ufefb", "\ufefc"),
}
_LAM = "\u0644"
_TATWEEL = "\u0640"  # joins on both sides, has no forms of its own


def has_rtl(text: str) -> bool:
    """Does ``text`` hold any right-to-left character (Arabic, Hebrew, …)?"""
    return _RTL.search(text) is not None


def _transparent(ch: str) -> bool:
    """Marks (harakat) sit on a letter and do not break its joining."""
    return unicodedata.category(ch) == "Mn"


def _joins_forward(ch: str | None) -> bool:
    """Can ``ch`` join to the letter after it (joining type D, or tatweel)?"""
    return ch == _TATWEEL or (ch is not None and len(_FORMS.get(ch, ())) == 4)


def _joins_back(ch: str | None) -> bool:
    """Can ``ch`` join to the letter before it (joining type D or R, or tatweel)?"""
    return ch == _TATWEEL or (ch is not None and len(_FORMS.get(ch, ())) >= 2)


def _neighbours(chars: list[str], i: int) -> tuple[str | None, str | None]:
    """The nearest letters before and after position ``i``, skipping marks."""
    before = next((chars[j] for j in range(i - 1, -1, -1) if not _transparent(chars[j])), None)
    after = next((chars[j] for j in range(i + 1, len(chars)) if not _transparent(chars[j])), None)
    return before, after


def _form(ch: str, joined_before: bool, joins_after: bool) -> str:
    forms = _FORMS[ch]
    if len(forms) == 4:
        if joined_before and joins_after:
            return forms[3]
        if joins_after:
            return forms[2]
    if joined_before and len(forms) >= 2:
        return forms[1]
    return forms[0]


def shape(text: str) -> str:
    """Arabic letters in ``text`` in their joined forms, still in logical order."""
    if not has_rtl(text):
        return text
    chars = list(text)
    out: list[str] = []
    i = 0
    while i < len(chars):
        ch = chars[i]
        if ch not in _FORMS:
            out.append(ch)
            i += 1
            continue
        before, after = _neighbours(chars, i)
        joined_before = _joins_forward(before) and _joins_back(ch)
        if ch == _LAM and i + 1 < len(chars) and chars[i + 1] in _LAM_ALEF:
            out.append(_LAM_ALEF[chars[i + 1]][1 if joined_before else 0])
            i += 2
            continue
        joins_after = _joins_forward(ch) and _joins_back(after)
        out.append(_form(ch, joined_before, joins_after))
        i += 1
    return "".join(out)


def is_rtl_paragraph(text: str) -> bool:
    """Does the paragraph read right to left (its first strong character is RTL)?"""
    return has_rtl(text) and auto_detect_base_direction(text) == TextDirection.RTL


def visual(line: str, rtl: bool | None = None) -> str:
    """One line (no line breaks) in display order, left to right as drawn.

    Args:
        rtl: the paragraph's direction; None detects it from the line.
    """
    if not has_rtl(line):
        return line
    direction = None if rtl is None else (TextDirection.RTL if rtl else TextDirection.LTR)
    return BidiParagraph(line, base_direction=direction).get_reordered_string()

"""How an SMS text is encoded and how many segments it takes.

An SMS carries 140 octets. In the GSM 03.38 default alphabet (GSM-7) that is
160 septets; any character outside it forces the whole message into UCS-2,
70 UTF-16 code units. A longer message is split into concatenated parts whose
user-data header costs 7 septets (GSM-7: 153 per part) or 3 code units
(UCS-2: 67 per part).

The Danish letters æøåÆØÅ are in the GSM-7 basic set, so plain Danish text
stays at 160 characters per SMS. The extension characters ``€ [ ] { } ^ ~ | \\``
and form feed are sent as an escape plus a septet and cost two units; an
escape pair, like a UTF-16 surrogate pair, is never split across parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet, one septet each (the escape code itself left out)."""

GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 extension table: escape plus one septet, two units each."""

DEFAULT_MAX_SEGMENTS: Final = 3
"""The most segments one SMS may take unless a municipality says otherwise (GatewayAPI's
``sender_max_parts`` default too): 459 GSM-7 characters, but only 201 in UCS-2."""

SINGLE_GSM7: Final = 160
PART_GSM7: Final = 153
SINGLE_UCS2: Final = 70
PART_UCS2: Final = 67


@dataclass(frozen=True, slots=True)
class SmsText:
    """How a text travels as SMS.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        units: Septets (GSM-7) or UTF-16 code units (UCS-2) the text needs.
        segments: How many SMS the text is sent as; at least 1.
        per_segment: Units that fit in one segment at this length: 160 or 153
            for GSM-7, 70 or 67 for UCS-2.
    """

    encoding: Encoding
    units: int
    segments: int
    per_segment: int


class TooManySegments(Exception):
    """A text would take more SMS segments than allowed.

    The message names the counts and the encoding, never the text itself.
    """

    def __init__(self, analysis: SmsText, max_segments: int) -> None:
        super().__init__(
            f"text would take {analysis.segments} SMS segments "
            f"({analysis.encoding}, {analysis.units} units); at most {max_segments} allowed"
        )
        self.analysis = analysis
        self.segments = analysis.segments
        self.max_segments = max_segments


_GSM7_ANY: Final = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM-7 basic or extension set."""
    return _GSM7_ANY.issuperset(text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    # Characters beyond the BMP are a UTF-16 surrogate pair.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _parts(costs: list[int], capacity: int) -> int:
    """Greedily fill parts of ``capacity`` units, never splitting a character's units."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts += 1
            used = 0
        used += cost
    return parts


def analyse(text: str, encoding: Encoding | None = None) -> SmsText:
    """Work out the encoding, size and segment count of an SMS text.

    Args:
        text: The message body as it will be sent.
        encoding: Force an encoding, as a gateway does when told to send UCS-2;
            ``None`` picks GSM-7 whenever every character allows it.

    Returns:
        The analysis. An empty text is one (empty) segment.

    Raises:
        ValueError: GSM-7 was forced on a text with characters outside it.
    """
    if encoding is None:
        encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    elif encoding == "GSM-7" and not is_gsm7(text):
        raise ValueError("text has characters outside the GSM-7 alphabet")
    single, part = (SINGLE_GSM7, PART_GSM7) if encoding == "GSM-7" else (SINGLE_UCS2, PART_UCS2)
    # Most texts are one segment: count the units without walking the text in Python.
    if encoding == "GSM-7":
        units = len(text) + sum(text.count(ch) for ch in GSM7_EXTENSION)
    else:
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units <= single:
        return SmsText(encoding=encoding, units=units, segments=1, per_segment=single)
    costs = _unit_costs(text, encoding)
    return SmsText(encoding=encoding, units=units, segments=_parts(costs, part), per_segment=part)


def check_fits(text: str, max_segments: int) -> SmsText:
    """Analyse ``text`` and refuse it if it needs more than ``max_segments`` segments.

    Args:
        text: The message body.
        max_segments: The most segments allowed, at least 1.

    Returns:
        The analysis of a text that fits.

    Raises:
        TooManySegments: The text needs more segments; the message says how many.
        ValueError: ``max_segments`` is below 1.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    analysis = analyse(text)
    if analysis.segments > max_segments:
        raise TooManySegments(analysis, max_segments)
    return analysis

"""PDF documents: one journal entry for the case system, and the citizen's own copy.

fpdf2 renders them. A Unicode TrueType font is embedded when one is found
(``TOVHOLDER_JOURNAL_PDF_FONT``, else DejaVu Sans from the usual system
places), so Danish, Ukrainian and other scripts print as written. Without
one, the PDF core font is used and characters outside Latin-1 become "?"
(logged once), because a missing font must not stop the case file.

A document whose text is all Latin-1 (Danish included) uses the core font
and embeds nothing: embedding means parsing and subsetting the TrueType file,
about 100 ms of CPU per document against 5 ms, and the export relay renders one
document per journal entry.

A document's creation date is the entry's own time, so rendering the same
entry twice gives the same bytes and the same checksum.

Right-to-left text (Arabic, Hebrew) is joined and laid out in display order by
:mod:`journal.shaping`, line by line, and its paragraphs are set flush right.
Times print in Danish local time with the zone and its offset from UTC.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from bot.base.clock import COPENHAGEN
from journal.shaping import has_rtl, is_rtl_paragraph, shape, visual

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)


@functools.lru_cache(maxsize=8)
def find_font(configured: Path | None) -> tuple[Path, Path] | None:
    """The (regular, bold) TrueType files to embed, or None for the core font."""
    candidates = [configured] if configured is not None else [Path(p) for p in FONT_CANDIDATES]
    for regular in candidates:
        if regular.is_file():
            bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
            return regular, bold if bold.is_file() else regular
    if configured is not None:
        log.warning("PDF font %s not found; using the core font", configured)
    else:
        log.warning("no Unicode font found for PDFs; characters outside Latin-1 print as '?'")
    return None


def local_time(when: datetime) -> str:
    """A time as Danes read it, with its zone: ``21.02.2025 kl. 10:00 CET (UTC+01:00)``."""
    local = when.astimezone(COPENHAGEN)
    offset = local.strftime("%z")
    return f"{local:%d.%m.%Y kl. %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


# The label column of a label/value line; a longer label widens it for its own line.
LABEL_WIDTH = 42.0


class _Doc:
    """A4, one column: headings, label/value lines and flowing text."""

    def __init__(
        self, *, title: str, created: datetime, font: Path | None, plain: bool = False
    ) -> None:
        pdf = FPDF(format="A4")
        pdf.set_creation_date(created)
        pdf.set_producer("Tovholder")
        pdf.set_title(title)
        pdf.set_lang("da")
        pdf.set_margins(20, 20, 20)
        pdf.set_auto_page_break(True, margin=20)
        found = None if plain else find_font(font)
        if found is not None:
            pdf.add_font("body", "", str(found[0]))
            pdf.add_font("body", "B", str(found[1]))
            self.family = "body"
            self.unicode = True
        else:
            self.family = "helvetica"
            self.unicode = False
        pdf.add_page()
        self.pdf = pdf

    def _t(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str, size: float = 15) -> None:
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, size * 0.55, self._t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(2)

    def _line(self, h: float, text: str) -> None:
        """Text from the current position to the right margin, wrapped where it does not fit.

        fpdf2's line breaking measures character by character, and costs most of a
        document's rendering time; a line that fits needs none of it.
        """
        pdf = self.pdf
        text = self._t(text)
        if self.unicode and has_rtl(text):
            self._bidi(h, text)
        elif "\n" not in text and pdf.get_string_width(text) < pdf.w - pdf.r_margin - pdf.x - 1:
            pdf.cell(0, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.multi_cell(0, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _bidi(self, h: float, text: str) -> None:
        """Text with right-to-left runs: joined, broken into lines, each drawn in display order.

        Lines are broken in logical order and reordered one by one (UAX #9); a
        paragraph that starts right to left is set flush right.
        """
        pdf = self.pdf
        x = pdf.x
        width = pdf.w - pdf.r_margin - x
        for paragraph in text.split("\n"):
            rtl = is_rtl_paragraph(paragraph)
            shaped = shape(paragraph)
            lines = pdf.multi_cell(
                width, h, shaped, align="L", dry_run=True, output=MethodReturnValue.LINES
            )
            assert isinstance(lines, list)  # what output=LINES returns
            for line in lines or [""]:
                pdf.set_x(x)
                pdf.cell(
                    width,
                    h,
                    visual(line.strip(), rtl),
                    align="R" if rtl else "L",
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )

    def field(self, label: str, value: str) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, "B", 10)
        label = self._t(label)
        # A label wider than its column widens it, so the value never overprints it.
        pdf.cell(max(LABEL_WIDTH, pdf.get_string_width(label) + 3), 6, label)
        pdf.set_font(self.family, "", 10)
        self._line(6, value)

    def text(self, body: str, size: float = 11) -> None:
        self.pdf.set_font(self.family, "", size)
        if self.unicode and has_rtl(body):
            self._bidi(size * 0.5, body)
            return
        self.pdf.multi_cell(0, size * 0.5, self._t(body), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def gap(self, mm: float = 4) -> None:
        self.pdf.ln(mm)

    def small(self, *lines: str) -> None:
        self.pdf.set_font(self.family, "", 7.5)
        for line in lines:
            self._line(3.6, line)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def latin1(*texts: str) -> bool:
    """Can the core font print every one of these as written?"""
    try:
        for t in texts:
            t.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


DIRECTIONS = {"in": "Indgående", "out": "Udgående", "internal": "Intern"}


def entry_pdf(
    *,
    municipality: str,
    case_number: str,
    created_at: datetime,
    kind: str,
    direction: str,
    channel: str,
    subject: str,
    actor: str,
    parties: Sequence[tuple[str, ...]],
    content: str | None,
    entry_id: str,
    chain: str,
    seq: int,
    entry_hash: str,
    font: Path | None = None,
) -> bytes:
    """Journalnotat: one entry as the case system files it.

    Args:
        parties: (role, name[, identifier]) of each party to the case, the identifier
            the case system's reference or a masked phone number (never a CPR number).
        content: the decrypted text, if the entry has any.
    """
    body = content if content is not None else "(Ingen tekst: hændelsen er beskrevet i emnet.)"
    party_line = "; ".join(f"{p[1]} ({', '.join(x for x in (p[0], *p[2:]) if x)})" for p in parties)
    party_line = party_line or "-"
    plain = latin1(municipality, case_number, subject, kind, actor, party_line, body)
    doc = _Doc(
        title=f"Journalnotat {case_number} #{seq}", created=created_at, font=font, plain=plain
    )
    doc.heading("Journalnotat")
    doc.field("Myndighed", municipality)
    doc.field("Sagsnummer", case_number)
    doc.field("Tidspunkt", local_time(created_at))
    doc.field("Emne", subject)
    doc.field("Type", kind)
    doc.field("Retning", f"{DIRECTIONS.get(direction, direction)} ({channel})")
    doc.field("Afsender / udført af", actor)
    doc.field("Parter", party_line)
    doc.gap()
    doc.text(body)
    doc.gap(8)
    doc.small(
        f"Journalpost {entry_id}, kæde {chain}, nr. {seq}.",
        f"SHA-256 i Tovholders hash-kæde: {entry_hash}.",
    )
    return doc.bytes()


def access_copy_pdf(
    *,
    municipality: str,
    person_name: str,
    generated_at: datetime,
    cases: Iterable[tuple[str, str]],
    messages: Iterable[dict[str, str]],
    lookups: Iterable[dict[str, str]],
    font: Path | None = None,
    sections: Iterable[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> bytes:
    """Aktindsigt: the citizen's messages and the staff look-ups of them.

    Args:
        cases: (case number, role) for each case the person is party to.
        messages: dicts with ``at``, ``direction``, ``case_number``, ``text``.
        lookups: dicts with ``at``, ``action``, ``purpose``, ``case_number``, ``count``.
        sections: further parts of the copy after the messages (notes, records,
            appointments, consent, exemptions): a heading and (label, text) lines.
    """
    doc = _Doc(title="Indsigt i egne oplysninger", created=generated_at, font=font)
    doc.heading("Indsigt i egne oplysninger")
    doc.text(
        "Kopi af dine oplysninger efter databeskyttelsesforordningens artikel 15 "
        "(aktindsigt i egne oplysninger): dine beskeder og hvornår og hvorfor "
        "medarbejdere har slået dem op."
    )
    doc.gap()
    doc.field("Myndighed", municipality)
    doc.field("Navn", person_name)
    doc.field("Udskrevet", local_time(generated_at))
    doc.field("Sager", "; ".join(f"{n} ({r})" for n, r in cases) or "-")
    doc.gap()
    doc.heading("Dine beskeder", 12)
    shown = False
    for m in messages:
        shown = True
        # The direction is the label, the (long) local time the value: never overprinted.
        doc.field(m["direction"], f"{m['at']}, sag {m['case_number']}")
        doc.text(m["text"], 10)
        doc.gap(2)
    if not shown:
        doc.text("Ingen beskeder.", 10)
    for title, lines in sections:
        doc.gap()
        doc.heading(title, 12)
        for label, value in lines:
            doc.field(label, value)
        if not lines:
            doc.text("Ingen.", 10)
    doc.gap()
    doc.heading("Opslag foretaget af medarbejdere", 12)
    shown = False
    for look in lookups:
        shown = True
        doc.field(
            look["action"].capitalize(),
            f"{look['at']}: {look['purpose']}, sag {look['case_number']} "
            f"({look['count']} besked(er))",
        )
    if not shown:
        doc.text("Ingen opslag.", 10)
    return doc.bytes()

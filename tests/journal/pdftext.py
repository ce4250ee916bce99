"""Text back out of the journal's PDFs, with where each run of it is drawn.

A small reader for what fpdf2 writes (objects, Flate streams, Type0 fonts with
a ToUnicode CMap and a /W width array, the core fonts, ``Td``/``Tj``/``TJ``):
enough to check what a reader's copy-and-paste and a search would find, in
the order and at the place it is drawn. It is not a general PDF parser.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_REF = rb"(\d+) 0 R"
_TOKEN = re.compile(
    rb"(?P<tf>/(?P<font>\w+) (?P<size>[\d.]+) Tf)"
    rb"|(?P<td>(?P<x>-?[\d.]+) (?P<y>-?[\d.]+) Td)"
    rb"|(?P<tj>\((?P<str>(?:\\.|[^\\)])*)\) ?Tj)"
    rb"|(?P<tja>\[(?P<arr>(?:\((?:\\.|[^\\)])*\)|[^\]\(])*)\] ?TJ)",
    re.S,
)
_ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


@dataclass(frozen=True)
class Run:
    """One string drawn on the page: where it starts and ends (pt), and what it says."""

    x: float
    y: float
    end: float
    size: float
    bold: bool
    text: str


def _unescape(raw: bytes) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        s = m.group(1)
        if s[:1].isdigit():
            return bytes([int(s, 8)])
        return _ESC.get(s, s)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Each object: its dictionary and its (inflated) stream, if any."""
    out: dict[int, tuple[bytes, bytes | None]] = {}
    for m in _OBJ.finditer(pdf):
        body = m.group(2)
        if b"stream" not in body:
            out[int(m.group(1))] = (body, None)
            continue
        head, _, rest = body.partition(b"stream")
        data = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
        length = re.search(rb"/Length (\d+)", head)
        data = data[: int(length.group(1))] if length else data[: data.rindex(b"endstream")]
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        out[int(m.group(1))] = (head, data)
    return out


def _cmap(data: bytes) -> dict[int, str]:
    cmap: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            cmap[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, uni in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(uni, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                cmap[code] = chr(start + i)
    return cmap


def _widths(w: bytes) -> dict[int, float]:
    """A CIDFont's /W array: ``c [w1 w2 …]`` and ``c_first c_last w`` groups."""
    out: dict[int, float] = {}
    tokens = re.findall(rb"\[|\]|-?[\d.]+", w)
    i = 0
    while i < len(tokens):
        first = int(tokens[i])
        if tokens[i + 1] == b"[":
            j = i + 2
            while tokens[j] != b"]":
                out[first + j - i - 2] = float(tokens[j])
                j += 1
            i = j + 1
        else:
            for c in range(first, int(tokens[i + 1]) + 1):
                out[c] = float(tokens[i + 2])
            i += 3
    return out


@dataclass
class _Font:
    cmap: dict[int, str] | None  # None: a core font, one byte per character
    widths: dict[int, float]
    default: float
    bold: bool

    def decode(self, raw: bytes) -> tuple[str, float]:
        """The text of a string and its width in 1/1000 of the font size."""
        if self.cmap is None:
            text = raw.decode("cp1252")
            return text, 0.0  # core fonts: positions only, no widths
        codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        text = "".join(self.cmap.get(c, "\ufffd") for c in codes)
        return text, sum(self.widths.get(c, self.default) for c in codes)


def _fonts(objs: dict[int, tuple[bytes, bytes | None]], page: bytes) -> dict[str, _Font]:
    res_ref = re.search(rb"/Resources " + _REF, page)
    resources = objs[int(res_ref.group(1))][0] if res_ref else page
    fonts: dict[str, _Font] = {}
    for name, num in re.findall(rb"/(F\d+) " + _REF, resources):
        head = objs[int(num)][0]
        bold = b"Bold" in head
        uni = re.search(rb"/ToUnicode " + _REF, head)
        if uni is None:
            fonts[name.decode()] = _Font(None, {}, 0.0, bold)
            continue
        cmap = _cmap(objs[int(uni.group(1))][1] or b"")
        desc = objs[int(re.search(rb"/DescendantFonts \[" + _REF, head).group(1))][0]
        w = re.search(rb"/W \[(.*)\]", desc, re.S)
        dw = re.search(rb"/DW (\d+)", desc)
        fonts[name.decode()] = _Font(
            cmap, _widths(w.group(1)) if w else {}, float(dw.group(1)) if dw else 1000.0, bold
        )
    return fonts


def _runs_of(content: bytes, fonts: dict[str, _Font]) -> list[Run]:
    runs: list[Run] = []
    font, size = None, 0.0
    x = y = 0.0
    for m in _TOKEN.finditer(content):
        if m.group("tf"):
            font, size = fonts[m.group("font").decode()], float(m.group("size"))
        elif m.group("td"):
            x, y = float(m.group("x")), float(m.group("y"))
        elif font is not None:
            parts: list[bytes | float] = []
            if m.group("tj"):
                parts = [_unescape(m.group("str"))]
            else:
                for s, n in re.findall(rb"\(((?:\\.|[^\\)])*)\)|(-?[\d.]+)", m.group("arr")):
                    parts.append(_unescape(s) if not n else float(n))
            text, width = "", 0.0
            for p in parts:
                if isinstance(p, float):
                    width -= p
                else:
                    t, w = font.decode(p)
                    text, width = text + t, width + w
            runs.append(Run(x, y, x + width * size / 1000, size, font.bold, text))
    return runs


def pdf_pages(pdf: bytes) -> list[list[Run]]:
    """Each page's runs of text, in the order they are drawn."""
    objs = _objects(pdf)
    pages = []
    for head, _ in objs.values():
        if b"/Type /Page\n" not in head and not head.rstrip().endswith(b"/Type /Page"):
            if not re.search(rb"/Type /Page\b(?!s)", head):
                continue
        content = objs[int(re.search(rb"/Contents " + _REF, head).group(1))][1] or b""
        pages.append(_runs_of(content, _fonts(objs, head)))
    return pages


def lines(pdf: bytes) -> list[str]:
    """The text as drawn, one string per line of the page (runs on one baseline joined)."""
    out: list[str] = []
    for runs in pdf_pages(pdf):
        by_y: dict[float, list[Run]] = {}
        for r in runs:
            by_y.setdefault(round(r.y, 1), []).append(r)
        for y in sorted(by_y, reverse=True):
            out.append(" ".join(r.text for r in sorted(by_y[y], key=lambda r: r.x)))
    return out


def nfkc(text: str) -> str:
    """What a search compares: presentation forms back to their letters."""
    return unicodedata.normalize("NFKC", text)

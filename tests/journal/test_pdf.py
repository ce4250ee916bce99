"""The journal's PDFs read back as written: Arabic shaped and right to left, Ukrainian and
Danish as typed, labels never overprinted, staff by name, parties identified, local times."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.base.ids import new_id
from bot.store.schema.core import journal_entries
from bot.store.schema.integration import external_refs
from journal.documents import load_documents, mask_phone
from journal.pdf import access_copy_pdf, entry_pdf, find_font, local_time
from journal.shaping import shape, visual
from tests.harness import Stack
from tests.journal.pdftext import Run, lines, nfkc, pdf_pages

ARABIC = "مرحبا، موعدك يوم الثلاثاء الساعة 10 في البلدية. شكرا لك"
ARABIC_WORDS = "السلام عليكم ورحمة الله"  # lam-alef twice, no digits
UKRAINIAN = "Добрий день, ваша зустріч у вівторок о 10:00. Дякуємо!"
DANISH = "Hej Anna, mødet er flyttet til tirsdag kl. 10 på rådhuset. Venlig hilsen Mette Ølgaard"
WINTER = datetime(2025, 2, 21, 9, 0, tzinfo=UTC)
SUMMER = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
A4_RIGHT = 595.28 - 20 * 72 / 25.4  # the right margin, in points


def _entry(content: str) -> bytes:
    return entry_pdf(
        municipality="Københavns Kommune",
        case_number="2025-001",
        created_at=WINTER,
        kind="sms_in",
        direction="in",
        channel="sms",
        subject="SMS fra borger",
        actor="Borger",
        parties=[("part", "Anna Andersen", "ref. P-1001")],
        content=content,
        entry_id="e1",
        chain="case:c1",
        seq=1,
        entry_hash="ab" * 32,
    )


def _arabic_runs(pdf: bytes) -> list[Run]:
    return [r for page in pdf_pages(pdf) for r in page if re.search("[\ufb50-\ufefc]", r.text)]


def test_arabic_is_joined_drawn_right_to_left_and_reads_back_in_logical_order() -> None:
    """Each Arabic line holds joined letter forms in display order, set flush right; undone
    by a reader's bidi step and NFKC (as pdftotext and search do), it is the text as written."""
    assert find_font(None) is not None, "DejaVu Sans is needed (Debian: fonts-dejavu-core)"
    for text in (ARABIC, ARABIC_WORDS):
        [run] = _arabic_runs(_entry(text))
        # Joined: no bare Arabic letter left, each one a contextual form (or a lam-alef).
        assert not re.search("[\u0621-\u064a]", run.text)
        assert "\ufefb" in run.text or "\ufefc" in run.text or text == ARABIC
        assert nfkc(visual(run.text, rtl=True)) == text
        # Drawn right to left: the word read first stands rightmost, its first letter last.
        first_word = text.split()[0].rstrip("،")
        assert run.text.rstrip().endswith(shape(first_word)[::-1])
        assert A4_RIGHT - 4 < run.end <= A4_RIGHT  # flush right (less the cell's padding)


def test_shaping_picks_each_letters_form_from_its_neighbours() -> None:
    """Initial, medial, final and isolated forms, and alef that never joins forward."""
    # "بيت": beh initial, yeh medial, teh final. "دار": dal, alef, reh never join forward.
    assert shape("بيت") == "\ufe91\ufef4\ufe96"
    assert shape("دار") == "\ufea9\ufe8d\ufead"  # nothing joins: all isolated
    assert shape("لا") == "\ufefb" and shape("سلام") == "\ufeb3\ufefc\ufee1"
    assert shape("Hej") == "Hej"


def test_ukrainian_and_danish_read_back_as_written() -> None:
    """Cyrillic and Danish letters come back from the PDF exactly, in order."""
    for text in (UKRAINIAN, DANISH):
        got = " ".join(lines(_entry(text)))
        assert " ".join(text.split()) in " ".join(got.split())


def test_entry_times_are_copenhagen_local_with_zone_and_offset() -> None:
    """Winter and summer times print in Danish local time with CET/CEST and the UTC offset."""
    assert local_time(WINTER) == "21.02.2025 kl. 10:00 CET (UTC+01:00)"
    assert local_time(SUMMER) == "01.07.2025 kl. 10:00 CEST (UTC+02:00)"
    text = lines(_entry(DANISH))
    assert "Tidspunkt 21.02.2025 kl. 10:00 CET (UTC+01:00)" in text
    assert "Parter Anna Andersen (part, ref. P-1001)" in text


def test_citizen_copy_labels_and_values_never_overlap() -> None:
    """On every line of the citizen's copy the bold label ends before its value starts."""
    pdf = access_copy_pdf(
        municipality="Københavns Kommune",
        person_name="Anna Andersen",
        generated_at=WINTER,
        cases=[("2025-001", "part")],
        messages=[
            {"at": local_time(SUMMER), "direction": d, "case_number": "2025-001", "text": t}
            for d, t in (("Fra dig", ARABIC), ("Til dig", UKRAINIAN), ("Fra dig", DANISH))
        ],
        lookups=[
            {"at": local_time(WINTER), "action": "læst", "purpose": "sagsbehandling",
             "case_number": "2025-001", "count": "2"},
            {"at": local_time(WINTER), "action": "partsrepræsentant-opslag i sagsakterne",
             "purpose": "klage", "case_number": "2025-001", "count": "1"},
        ],
    )  # fmt: skip
    checked = 0
    for page in pdf_pages(pdf):
        by_line: dict[float, list[Run]] = {}
        for r in page:
            by_line.setdefault(round(r.y, 1), []).append(r)
        for runs in by_line.values():
            runs.sort(key=lambda r: r.x)
            for left, right in zip(runs, runs[1:], strict=False):
                assert left.end <= right.x, (left.text, right.text)
                checked += 1
    assert checked >= 9  # every field line was measured
    text = lines(pdf)
    assert "Fra dig 01.07.2025 kl. 10:00 CEST (UTC+02:00), sag 2025-001" in text
    assert "Til dig 01.07.2025 kl. 10:00 CEST (UTC+02:00), sag 2025-001" in text


def test_masked_phone_keeps_only_the_last_two_digits() -> None:
    """A party's number is masked to its last two digits, the country code dropped."""
    assert mask_phone("+4520123401") == "xxxxxx01"
    assert mask_phone("004520123401") == "xxxxxx01"
    assert mask_phone("20 12 34 01") == "xxxxxx01"
    assert mask_phone(None) == mask_phone("") == ""


async def _mette_away(stack: Stack) -> None:
    resp = await stack.api(
        "POST",
        "/api/v1/absences",
        who="hanne",
        json={
            "staff_id": stack.world.mette,
            "starts_on": "2025-02-20",
            "ends_on": "2025-02-28",
            "substitute_id": stack.world.sofie,
            "reason": "Ferie",
        },
    )
    assert resp.status == 201, await resp.text()


async def test_case_system_documents_name_staff_and_identify_parties(stack: Stack) -> None:
    """A 'routed' entry names the caseworker and the substitute by name and role, never by id;
    the party carries the case system's reference, else a masked number; times are local."""
    await _mette_away(stack)
    assert (await stack.sms(stack.world.phones["anna"], "Kan vi flytte mødet?")).status == 200
    resp = await stack.api(
        "POST",
        f"/api/v1/cases/{stack.world.cases['anna']}/notes",
        json={"subject": "Telefonnotat", "text": "Borgeren ringede."},
    )
    assert resp.status == 201, await resp.text()
    async with stack.svc.read() as conn:
        rows = (
            await conn.execute(
                select(journal_entries.c.id, journal_entries.c.kind)
                .where(journal_entries.c.case_id == stack.world.cases["anna"])
                .order_by(journal_entries.c.seq)
            )
        ).all()
    kinds = {r.kind: r.id for r in rows}
    assert {"sms_in", "routed", "note"} <= set(kinds), [r.kind for r in rows]
    docs = await load_documents(stack.svc, [r.id for r in rows])

    routed = " ".join(lines(docs[kinds["routed"]].pdf))
    assert "Mette Holm (sagsbehandler)" in routed and "Sofie Dahl (sagsbehandler)" in routed
    # Ids only in the technical footer (entry and chain), never for a person.
    assert not UUID.search(routed.partition("Journalpost ")[0]), routed
    note = lines(docs[kinds["note"]].pdf)
    assert "Afsender / udført af Mette Holm (sagsbehandler)" in note
    assert "Parter Anna Andersen (part, tlf. xxxxxx01)" in note
    assert any(re.fullmatch(r"Tidspunkt 21\.02\.2025 kl\. \d\d:\d\d CET \(UTC\+01:00\)", x)
               for x in note), note  # fmt: skip
    assert docs[kinds["note"]].metadata()["local_time"].endswith("+01:00")

    # Once the case system has its own reference for Anna, that is what identifies her.
    async with stack.svc.write() as conn:
        await conn.execute(
            external_refs.insert().values(
                id=new_id(),
                tenant_id=stack.world.tenant_id,
                kind="person",
                ref="P-1001",
                row_id=stack.world.persons["anna"],
                created_at=stack.svc.clock.now(),
            )
        )
    again = await load_documents(stack.svc, [kinds["note"]])
    assert "Parter Anna Andersen (part, ref. P-1001)" in lines(again[kinds["note"]].pdf)
    assert again[kinds["note"]].parties[0].identifier == "ref. P-1001"


# -- read back with pypdf, as a case system or a citizen's own tools would ------------


def _pypdf_text(pdf: bytes) -> str:
    """The document's text as pypdf extracts it, presentation forms folded (NFKC) as search does."""
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))


def _citizen_copy(texts: tuple[str, ...]) -> bytes:
    return access_copy_pdf(
        municipality="Københavns Kommune",
        person_name="Anna Andersen",
        generated_at=WINTER,
        cases=[("2025-001", "part")],
        messages=[
            {"at": local_time(SUMMER), "direction": "Fra dig", "case_number": "2025-001", "text": t}
            for t in texts
        ],
        lookups=[],
    )


@pytest.mark.parametrize("text", [DANISH, UKRAINIAN, ARABIC_WORDS], ids=["da", "uk", "ar"])
def test_pypdf_reads_the_case_pdf_and_the_citizen_copy_back_in_logical_order(text: str) -> None:
    """pypdf extracts Danish, Ukrainian and Arabic from the case system's PDF and from the
    citizen's copy as written, in logical order, each line whole."""
    for pdf in (_entry(text), _citizen_copy((text,))):
        got = _pypdf_text(pdf).splitlines()
        assert text in got, got
    # Reversed or unshaped Arabic would not come back as written.
    assert text[::-1] not in _pypdf_text(_entry(text))


def test_pypdf_reads_each_arabic_run_around_a_number_in_logical_order() -> None:
    """With a number inside an Arabic sentence, pypdf returns each Arabic run in logical order
    (it orders the runs of a mixed line left to right: its bidi step is per run, not per line)."""
    before, _, after = ARABIC.partition(" 10 ")
    for pdf in (_entry(ARABIC), _citizen_copy((ARABIC,))):
        got = _pypdf_text(pdf)
        assert before in got and after in got and "10" in got, got

"""Round 8 (Ukrainian and Arabic): new families of urgent phrasing and the scope rules that
spare their look-alikes (texts written for these tests, not taken from the corpus)."""

from __future__ import annotations

import pytest

from bot.domain.triage.reader import Triager


@pytest.fixture(scope="module")
def lex_only() -> Triager:
    return Triager(model=None)


@pytest.mark.parametrize(
    "text",
    [
        "мама лежить на підлозі і не відповідає, мені 10",
        "сусід пяний ламає двері до нас, діти плачуть",
        "zasnuty i ne prokydatys, tse vse shcho ya khochu",
        "الولاد معي بالحمام وهو برا عم يكسر الباب",
        "البيبي شفايفو زرق وما عم يصحى",
        "بدي نام وما اصحى ابدا",
        "ma3o sikkine w 3am yser5 3layi",
    ],
)
def test_new_families_page(lex_only: Triager, text: str) -> None:
    assert lex_only(text).level == "akut"


@pytest.mark.parametrize(
    "text",
    [
        "діти злякалися феєрверку і сховалися у ванній, вже все добре",
        "вибачте за вчорашнє терміново, то було не вам",
        "ساعدوني كيف اعبي الطلب على الموقع؟",
        "اشتريت سكين جديدة للمطبخ",
        "رجعولي المحفظه اللي ضاعت بالباص، ناس طيبين",
        "من اي عمر الولد بيقدر يضل بالبيت لحالو؟",
        "تمرين حريق بالمدرسة اليوم والولاد انبسطوا",
    ],
)
def test_look_alikes_spared(lex_only: Triager, text: str) -> None:
    assert lex_only(text).level != "akut"

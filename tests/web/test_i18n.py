"""The citizen's pages exist in every language: complete catalogues with matching placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import bot
from bot.base import i18n

# The pages' texts: templates under bot/http/pages, Python wherever a page's words are made.
SOURCES = Path(bot.__file__).resolve().parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "translate": (2,)}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(SOURCES),
        METHODS,
        keywords=KEYWORDS,  # type: ignore[arg-type]
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_catalogue_is_complete(lang: str) -> None:
    """Every Danish text in the pages has a translation, none fuzzy, with the same placeholders."""
    path = i18n.CATALOGUE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    source = _source_messages()
    assert len(source) > 50
    for msgid in sorted(source):
        entry = catalog.get(msgid)
        assert entry is not None, f"{lang}: missing {msgid!r}"
        assert not entry.fuzzy, f"{lang}: fuzzy {msgid!r}"
        wanted = set(_PLACEHOLDER.findall(msgid))
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(forms), f"{lang}: untranslated {msgid!r}"
        for form in forms:
            assert set(_PLACEHOLDER.findall(form)) <= wanted, f"{lang}: {form!r}"
        if not isinstance(entry.string, tuple):
            assert set(_PLACEHOLDER.findall(entry.string)) == wanted, f"{lang}: {msgid!r}"


def test_catalogues_load_and_translate() -> None:
    """The .po files load at start-up (no .mo in the repository) and plural forms work."""
    catalogues = i18n.load_catalogues()
    assert catalogues["en"].gettext("Dine beskeder") == "Your messages"
    uk = catalogues["uk"]
    form = "%(num)s ny besked"
    assert uk.ngettext(form, "%(num)s nye beskeder", 3) % {"num": 3} == "3 нові повідомлення"
    assert uk.ngettext(form, "%(num)s nye beskeder", 5) % {"num": 5} == "5 нових повідомлень"
    assert i18n.pick("ar").direction == "rtl" and i18n.pick("xx").code == "da"

"""Languages of the citizen's pages and SMS: Danish first; English, Ukrainian and Arabic from .po.

The catalogues are read with Babel at start-up (no compiled .mo files in the
repository: :func:`load_catalogues` compiles them in memory). A missing or
fuzzy translation falls back to the Danish source text. Templates call
``_("…")`` with ``%(name)s`` placeholders, the way Jinja's "new-style"
gettext does: values are escaped, the text is not. The SMS texts
(``bot.domain.texts``) are in the same catalogues, read once per process
(:func:`shared_catalogues`). ``messages.pot`` is made by the command at the
top of ``locale/babel.cfg``.
"""

from __future__ import annotations

import functools
import gettext as _gettext_mod
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

CATALOGUE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "da"


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str  # in the language itself
    direction: str  # ltr | rtl


LANGUAGES: dict[str, Language] = {
    "da": Language("da", "Dansk", "ltr"),
    "en": Language("en", "English", "ltr"),
    "uk": Language("uk", "Українська", "ltr"),
    "ar": Language("ar", "العربية", "rtl"),
}


def pick(*candidates: str | None) -> Language:
    """The first candidate we have a catalogue for, else Danish."""
    for code in candidates:
        if code and code.lower()[:2] in LANGUAGES:
            return LANGUAGES[code.lower()[:2]]
    return LANGUAGES[DEFAULT]


def load_catalogues(directory: Path = CATALOGUE_DIR) -> dict[str, _gettext_mod.NullTranslations]:
    """Read every language's .po file; Danish is the source language (no catalogue)."""
    result: dict[str, _gettext_mod.NullTranslations] = {DEFAULT: _gettext_mod.NullTranslations()}
    for code in LANGUAGES:
        if code == DEFAULT:
            continue
        path = directory / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=code)
        buf = BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        result[code] = Translations(fp=buf, domain=DOMAIN)
    return result


def _translations(ctx: Context) -> _gettext_mod.NullTranslations:
    t = ctx.get("translations")
    return t if isinstance(t, _gettext_mod.NullTranslations) else _gettext_mod.NullTranslations()


def _finish(ctx: Context, text: str, variables: dict[str, Any]) -> str:
    rv: str = Markup(text) if ctx.eval_ctx.autoescape else text
    return rv % variables if variables else rv


@pass_context
def gettext(ctx: Context, message: str, **variables: Any) -> str:
    return _finish(ctx, _translations(ctx).gettext(message), variables)


@pass_context
def ngettext(ctx: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    variables.setdefault("num", n)
    return _finish(ctx, _translations(ctx).ngettext(singular, plural, n), variables)


def translate(translations: _gettext_mod.NullTranslations, message: str, **variables: Any) -> str:
    """Translate outside a template (plain text, e.g. a flash message)."""
    text = translations.gettext(message)
    return text % variables if variables else text


@functools.cache
def shared_catalogues() -> dict[str, _gettext_mod.NullTranslations]:
    """The catalogues read once per process, for texts made outside a request (SMS)."""
    return load_catalogues()


def catalogue_entry(code: str, message: str) -> str | None:
    """``message`` translated into ``code`` if that catalogue has it (not fuzzy), else None."""
    translations = shared_catalogues().get(code)
    catalog: dict[Any, str] = getattr(translations, "_catalog", {})
    found = catalog.get(message)
    return found or None

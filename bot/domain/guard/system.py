"""The system's own texts: what Tovholder itself writes to families, in every language.

Milestone texts and "still working" go out with the kind ``update`` and pass the
send-time guard like a caseworker's update, so the guard must never read one
of them as an afgørelse ("Ви більше не отримуватимете SMS …" is a STOP
confirmation, not a benefit stopped). The model is trained with them as plain
texts (``tovholder guard train`` adds them: they are known, and they change
with the catalogues, so they are read from there rather than copied into the
corpus), and a test reads every one of them with the shipped weights.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from bot.base import i18n

LOCALES = Path(i18n.__file__).resolve().parent / "locale"


def catalogue_texts(language: str) -> list[str]:
    """Every translated text of one language's catalogue (not its header)."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    out: list[str] = []
    for message in catalogue:
        strings = message.string
        if not message.id or strings is None:  # the header, never a text we send
            continue
        out += [t for t in ([strings] if isinstance(strings, str) else strings) if t]
    return out


def danish_and_english() -> list[str]:
    """The SMS texts, step sentences and case types' milestone texts in da and en."""
    from bot.domain import texts as catalogue
    from scheduler import templates

    out = [catalogue.template(language, key) for language in ("da", "en") for key in catalogue.SMS]
    out += [
        catalogue.translated(language, sentence) or sentence
        for language in ("da", "en")
        for sentence in sorted(catalogue.STEP_SENTENCES)  # a frozenset: its order is per process
    ]
    for policy in templates.CASE_TYPES.values():
        for step in policy.steps:
            for language in ("da", "en"):
                out.append(templates.reached(step, language))
                out.append(
                    templates.say(language, "still_next", step=templates.title(step, language))
                )
    return out


def rows() -> list[dict[str, object]]:
    """The system's texts as corpus rows: plain (neither a decision nor a hard negative)."""
    texts = [(lang, t) for lang in ("uk", "ar") for t in catalogue_texts(lang)]
    texts += [("da", t) for t in danish_and_english()]
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for lang, text in texts:
        if text in seen:
            continue
        seen.add(text)
        out.append(
            {
                "id": f"system-{len(out) + 1:04d}",
                "text": text,
                "lang": lang,
                "decision": False,
                "hard_negative": False,
            }
        )
    return out

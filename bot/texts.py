"""Citizen-facing texts: Danish first, short, warm and concrete.

Other languages come through this catalogue; a missing translation falls back
to Danish rather than to nothing.
"""

from __future__ import annotations

from typing import Any

CATALOGUE: dict[str, dict[str, str]] = {
    "da": {
        "receipt": "Tak for din besked. {first_name} svarer dig senest {reply_by}.",
        "receipt_neutral": (
            "Tak for din besked. Vi har modtaget den, og en medarbejder ser på den hurtigst muligt."
        ),
        "choose_case": (
            "Tak for din besked. Hvilken sag handler den om? Svar med tallet:\n{options}"
        ),
        "choose_case_option": "{n}: {administration} ({first_name})",
    },
    "en": {
        "receipt": "Thank you for your message. {first_name} will answer you by {reply_by}.",
        "receipt_neutral": (
            "Thank you for your message. We have received it and a member of staff will look at it"
            " as soon as possible."
        ),
        "choose_case": (
            "Thank you for your message. Which case is it about? Reply with the number:\n{options}"
        ),
        "choose_case_option": "{n}: {administration} ({first_name})",
    },
}


def text(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (falling back to Danish), filled in."""
    template = CATALOGUE.get(language, {}).get(key) or CATALOGUE["da"][key]
    return template.format(**values)

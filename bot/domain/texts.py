"""Citizen-facing texts: Danish first, short, warm and concrete.

Other languages come through this catalogue; a missing translation falls back
to Danish rather than to nothing.
"""

from __future__ import annotations

from typing import Any

CATALOGUE: dict[str, dict[str, str]] = {
    "da": {
        "receipt": "Tak for din besked. {first_name} svarer dig senest {reply_by}.",
        "receipt_covered": (
            "Tak for din besked. Din rådgiver er fraværende til {back_on}. Din besked er sendt"
            " til {colleague}, som svarer dig senest {reply_by}."
        ),
        "receipt_colleague": (
            "Tak for din besked. Den er sendt til {colleague}, som svarer dig senest {reply_by}."
        ),
        "receipt_fallback_away": (
            "Tak for din besked. Din rådgiver er fraværende til {back_on}. En kollega svarer dig"
            " senest {reply_by}."
        ),
        "receipt_fallback": "Tak for din besked. En kollega svarer dig senest {reply_by}.",
        "urgent_after_hours": (
            "Er det akut, så ring 112. Du kan også ringe til kommunens døgnvagt på {phone}."
        ),
        "urgent_112": "Er det akut, så ring 112.",
        "new_contact": (
            "Din sag har fået en ny kontaktperson: {first_name}. Du kan skrive til"
            " {first_name} her på samme nummer."
        ),
        "absence_contact": (
            "Din rådgiver er fraværende til {back_on}. Imens er {colleague} din kontaktperson."
            " Du kan skrive her på samme nummer."
        ),
        "receipt_neutral": (
            "Tak for din besked. Vi har modtaget den, og en medarbejder ser på den hurtigst muligt."
        ),
        "notice": "Du har en ny besked fra {tenant}. Læs den her: {url}",
        "email_subject": "Ny besked fra {tenant}",
        "cpr_warning": (
            "Send venligst ikke dit CPR-nummer på SMS. Vi har gemt din besked sikkert."
        ),
        "stopped": (
            "Du får ikke længere påmindelser og nyheder om din sag på SMS. Du får stadig svar på"
            " dine egne beskeder. Skriv START for at få dem igen."
        ),
        "started": (
            "Du får igen påmindelser og nyheder om din sag på SMS. Skriv STOP for at stoppe."
        ),
        "choose_case": (
            "Tak for din besked. Hvilken sag handler den om? Svar med tallet:\n{options}"
        ),
        "choose_case_option": "{n}: {administration} ({first_name})",
        "mms_not_kept": (
            "Vi har modtaget din besked, men vi kunne ikke gemme billedet eller filen, du sendte"
            " med. Send den gerne via din sikre indbakke: {url}"
        ),
    },
    "en": {
        "receipt": "Thank you for your message. {first_name} will answer you by {reply_by}.",
        "receipt_covered": (
            "Thank you for your message. Your caseworker is away until {back_on}. Your message"
            " has gone to {colleague}, who will answer you by {reply_by}."
        ),
        "receipt_colleague": (
            "Thank you for your message. It has gone to {colleague}, who will answer you by"
            " {reply_by}."
        ),
        "receipt_fallback_away": (
            "Thank you for your message. Your caseworker is away until {back_on}. A colleague"
            " will answer you by {reply_by}."
        ),
        "receipt_fallback": (
            "Thank you for your message. A colleague will answer you by {reply_by}."
        ),
        "urgent_after_hours": (
            "If it is an emergency, call 112. You can also call the municipality's emergency line"
            " on {phone}."
        ),
        "urgent_112": "If it is an emergency, call 112.",
        "new_contact": (
            "Your case has a new contact person: {first_name}. You can write to {first_name}"
            " on this number."
        ),
        "absence_contact": (
            "Your caseworker is away until {back_on}. Meanwhile {colleague} is your contact"
            " person. You can write on this number."
        ),
        "receipt_neutral": (
            "Thank you for your message. We have received it and a member of staff will look at it"
            " as soon as possible."
        ),
        "notice": "You have a new message from {tenant}. Read it here: {url}",
        "email_subject": "New message from {tenant}",
        "cpr_warning": (
            "Please do not send your CPR number by SMS. We have stored your message safely."
        ),
        "stopped": (
            "You will no longer get reminders and updates about your case by SMS. You will still"
            " get answers to your own messages. Reply START to get them again."
        ),
        "started": (
            "You will get reminders and updates about your case by SMS again. Reply STOP to stop."
        ),
        "choose_case": (
            "Thank you for your message. Which case is it about? Reply with the number:\n{options}"
        ),
        "choose_case_option": "{n}: {administration} ({first_name})",
        "mms_not_kept": (
            "We have received your message, but we could not keep the picture or file you sent"
            " with it. Please send it through your secure inbox: {url}"
        ),
    },
}


def text(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (falling back to Danish), filled in."""
    template = CATALOGUE.get(language, {}).get(key) or CATALOGUE["da"][key]
    return template.format(**values)

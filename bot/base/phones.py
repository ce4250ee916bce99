"""Phone numbers as people read them."""

from __future__ import annotations

import phonenumbers


def grouped(number: str | None) -> str:
    """ "+45 20 12 34 56" (grouped by ``phonenumbers``); what it cannot read is kept as it
    is. For the eye (a page, a citizen's SMS): a ``tel:`` link and the gateway keep E.164."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "DK")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

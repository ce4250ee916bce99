"""Schema pieces for the caseworkers' routes, declared beside their views.

Request schemas check types, required fields and unknown fields. A property's
``x-code`` keeps the error code the caseworkers' views have always answered
with (a date that is not a date is ``bad_date`` wherever it is refused); value
rules (ranges, lengths, known steps or kinds) may stay with the views.
Answers are :func:`loose`: their listed fields are typed, views may add more.
"""

from __future__ import annotations

from typing import Any

NULL_STR: dict[str, Any] = {"type": ["string", "null"]}
NULL_ID: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
STR: dict[str, Any] = {"type": "string"}


def text(code: str = "bad_field", *, null: bool = False, **extra: Any) -> dict[str, Any]:
    """A text field; ``code`` is the error answered when it is not text."""
    return {"type": ["string", "null"] if null else "string", "x-code": code, **extra}


def day(code: str = "bad_date", *, null: bool = False) -> dict[str, Any]:
    """A date (YYYY-MM-DD)."""
    return {"type": ["string", "null"] if null else "string", "format": "date", "x-code": code}


def moment(*, null: bool = False) -> dict[str, Any]:
    """A date and time with a UTC offset."""
    return {
        "type": ["string", "null"] if null else "string",
        "format": "date-time",
        "x-code": "bad_datetime",
        "description": "ISO 8601 with a UTC offset, e.g. 2025-03-04T10:00:00+01:00",
    }


def flag() -> dict[str, Any]:
    """true or false."""
    return {"type": "boolean", "x-code": "bad_field"}


def ref() -> dict[str, Any]:
    """An id in the body: text (an unknown or foreign id is a 404)."""
    return {"type": "string", "x-code": "bad_field"}


def loose(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An answer object whose listed fields are typed; views may add more."""
    return {"type": "object", "required": list(required), "properties": properties}


def items(item: dict[str, Any]) -> dict[str, Any]:
    """An answer ``{"items": [...]}``."""
    return loose({"items": {"type": "array", "items": item}}, ("items",))

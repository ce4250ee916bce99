"""A small JSON Schema validator for the subset our OpenAPI declarations use.

The same schema objects go into the OpenAPI document and check requests, so
the document cannot drift from what the server accepts. Each failure names the
field and carries a stable code: ``unknown_field``, ``missing_field`` or
``bad_field``. Strings are also refused when they could not be stored safely
(NUL characters, lone surrogates), whatever the schema says.

A property may carry ``x-code``: every failure on it (wrong type, wrong form,
missing when required) then answers with that code instead, so a contract
declared for an older view keeps the codes its clients already know.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.base.errors import BadInput

Schema = Mapping[str, Any]

SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "description",
        "default",
        "readOnly",
        "examples",
        "x-code",
    }
)

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


class SchemaError(BadInput):
    """The input does not match the declared schema."""


def strict_json_loads(raw: bytes) -> Any:
    """JSON as the RFC says: no duplicate keys, no NaN or Infinity (ValueError otherwise)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k}")
            out[k] = v
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, object_pairs_hook=no_duplicates, parse_constant=no_constants)


def _where(path: str) -> str:
    return path or "body"


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _check_format(value: str, fmt: str) -> bool:
    try:
        if fmt == "date":
            return len(value) == 10 and date.fromisoformat(value) is not None
        if fmt == "date-time":
            return datetime.fromisoformat(value).tzinfo is not None
        if fmt == "uuid":
            return str(uuid.UUID(value)) == value.lower() and len(value) == 36
        if fmt == "uri":
            parts = urlsplit(value)
            return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
    return True


def safe_text(value: str) -> bool:
    """True when ``value`` can be stored and sealed on every backend."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(value: Any, schema: Schema, path: str = "") -> None:
    """Raise :class:`SchemaError` with a stable code when ``value`` breaks ``schema``."""
    code = schema.get("x-code")
    if code is None:
        _validate(value, schema, path)
        return
    try:
        _validate(value, schema, path)
    except SchemaError as exc:
        raise SchemaError(exc.message, code=str(code)) from None


def _validate(value: Any, schema: Schema, path: str) -> None:
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, n) for n in names):
            raise SchemaError(f"{_where(path)}: must be {' or '.join(names)}", code="bad_field")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        raise SchemaError(f"{_where(path)}: must be one of {allowed}", code="bad_field")
    if isinstance(value, str):
        _validate_string(value, schema, path)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int | float):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{_where(path)}: at least {schema['minimum']}", code="bad_field")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{_where(path)}: at most {schema['maximum']}", code="bad_field")
    elif isinstance(value, dict):
        _validate_object(value, schema, path)
    elif isinstance(value, list):
        _validate_array(value, schema, path)


def _validate_string(value: str, schema: Schema, path: str) -> None:
    if not safe_text(value):
        raise SchemaError(f"{_where(path)}: contains characters we cannot store", code="bad_field")
    if len(value) < schema.get("minLength", 0):
        raise SchemaError(
            f"{_where(path)}: at least {schema['minLength']} characters", code="bad_field"
        )
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaError(
            f"{_where(path)}: at most {schema['maxLength']} characters", code="bad_field"
        )
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        raise SchemaError(f"{_where(path)}: has the wrong form", code="bad_field")
    if "format" in schema and not _check_format(value, schema["format"]):
        raise SchemaError(f"{_where(path)}: must be a {schema['format']}", code="bad_field")


def _validate_object(value: dict[str, Any], schema: Schema, path: str) -> None:
    props: Mapping[str, Schema] = schema.get("properties", {})
    if schema.get("additionalProperties", True) is False:
        unknown = sorted(set(value) - set(props))
        if unknown:
            name = f"{path}.{unknown[0]}" if path else unknown[0]
            raise SchemaError(f"Unknown field: {name}", code="unknown_field")
    for name in schema.get("required", ()):
        if name not in value:
            full = f"{path}.{name}" if path else name
            code = props.get(name, {}).get("x-code", "missing_field")
            raise SchemaError(f"Missing field: {full}", code=str(code))
    for name, sub in props.items():
        if name in value:
            validate(value[name], sub, f"{path}.{name}" if path else name)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for name in sorted(set(value) - set(props)):
            validate(value[name], extra, f"{path}.{name}" if path else name)


def _validate_array(value: list[Any], schema: Schema, path: str) -> None:
    if len(value) < schema.get("minItems", 0):
        raise SchemaError(f"{_where(path)}: at least {schema['minItems']} items", code="bad_field")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaError(f"{_where(path)}: at most {schema['maxItems']} items", code="bad_field")
    if schema.get("uniqueItems"):
        seen = [repr(v) for v in value]
        if len(set(seen)) != len(seen):
            raise SchemaError(f"{_where(path)}: items must be unique", code="bad_field")
    items = schema.get("items")
    if items is not None:
        for i, item in enumerate(value):
            validate(item, items, f"{path}[{i}]")


def unsupported_keywords(schema: Any) -> set[str]:
    """Keywords in ``schema`` (recursively) this validator does not understand."""
    found: set[str] = set()
    if isinstance(schema, Mapping):
        found |= set(schema) - SUPPORTED
        for sub in schema.get("properties", {}).values():
            found |= unsupported_keywords(sub)
        for nested in ("items", "additionalProperties"):
            if isinstance(schema.get(nested), Mapping):
                found |= unsupported_keywords(schema[nested])
    return found

"""JSON log lines with request ids and no personal data.

``use_json_logs()`` puts :class:`JsonFormatter` on the root logger's
handlers. Each line is one JSON object: time, level, logger, message, the
request id of the HTTP request being served (if any), and for an exception
its type and stack frames — never the exception's message, which may quote
data. As a last line of defence, anything in the message that looks like a
phone number or a CPR number is masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import traceback
from datetime import UTC, datetime

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tovholder_request_id", default=None
)

# Not inside ids: a UUID's segments are bounded by word characters or dashes.
_CPR = re.compile(r"(?<![\w-])\d{6}-?\d{4}(?![\w-])")
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ]{6,}\d(?![\w-])")


def redact(text: str) -> str:
    """Mask CPR-like and phone-like digit runs."""
    return _CPR.sub("[cpr]", _PHONE.sub("[number]", text))


class JsonFormatter(logging.Formatter):
    """One JSON object per record; see the module docstring for what is (not) in it."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ]
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs(level: str = "INFO") -> None:
    """Switch this process (and worker processes it spawns) to JSON log lines."""
    os.environ["TOVHOLDER_LOG_JSON"] = "1"
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


def json_logs_wanted() -> bool:
    return os.environ.get("TOVHOLDER_LOG_JSON", "") in ("1", "true", "yes")

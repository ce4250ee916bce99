"""Domain errors that a client may see, each with a stable code.

A view (or the error middleware) turns an ``ApiError`` into JSON
``{"error": {"code": ..., "message": ...}}``. Anything that is not an
``ApiError`` is our fault: logged with the request id and answered 500.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error that means something to the client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadInput(ApiError):
    status = 400
    code = "bad_input"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """Also used for things that exist but belong to someone else: never confirm existence."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class StorageUnavailable(ApiError):
    """The database cannot be reached: the gateway should retry later."""

    status = 503
    code = "storage_unavailable"

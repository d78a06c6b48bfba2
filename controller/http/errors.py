"""JSON answers and the errors handlers raise, shared by every part of the API."""

from __future__ import annotations

import json
import math
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
PLAIN_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class Closing(Exception):
    """The API is shutting down while a handler waited for the controller."""


class ApiError(Exception):
    """Answered to the client as ``{"error": message, **extra}`` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def json_bytes(obj: Any) -> bytes:
    """Strict JSON (NaN and infinities become null), one line, newline-terminated."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, default=str)
    return (text + "\n").encode("utf-8")


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None):
    """A Starlette response carrying `obj` as strict JSON, never cached."""
    from starlette.responses import Response

    return Response(json_bytes(obj), status, {**PLAIN_HEADERS, **(headers or {})},
                    media_type=JSON_TYPE)


def error_response(exc: ApiError):
    """The JSON answer for an ApiError."""
    return json_response({"error": exc.message, **exc.extra}, exc.status, exc.headers)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj

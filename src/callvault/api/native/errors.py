"""The native API's error body: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes


class NativeError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"error": err}


def native_error_response(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NativeError)
    return JSONBytes(exc.body(), status_code=exc.status)

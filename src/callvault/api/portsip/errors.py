"""PortSIP's error body, ``{"errors": [{"code", "message", "detail"}]}``, and the route class
that answers every failure of this face in it (CDR reference §6).

Codes are upper snake case. PortSIP documents ``UNKNOWN``, ``VALIDATE_FAILED`` and
``UNAUTHORIZED``; ``FORBIDDEN`` and ``NOT_FOUND`` follow the reference's recommendation for what
it leaves undocumented (clients treat unknown codes as ``UNKNOWN``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.errors import AuthError, CallvaultError, InvalidInput, NotFound, PermissionDenied

logger = logging.getLogger("callvault.portsip")


class PortsipError(Exception):
    """An error answered in PortSIP's shape; ``detail`` is any JSON value (or None)."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return JSONBytes({"errors": [error]}, status_code=self.status)


def validate_failed(message: str, **detail: Any) -> PortsipError:
    return PortsipError(400, "VALIDATE_FAILED", message, detail or None)


def unauthorized(message: str) -> PortsipError:
    return PortsipError(401, "UNAUTHORIZED", message)


def forbidden(message: str) -> PortsipError:
    return PortsipError(403, "FORBIDDEN", message)


def not_found(what: str, value: str) -> PortsipError:
    return PortsipError(404, "NOT_FOUND", f"{what} {value!r} not found", {"id": value})


def _from_domain(exc: CallvaultError) -> PortsipError:
    detail = {"field": exc.field} if exc.field else None
    if isinstance(exc, NotFound):
        return PortsipError(404, "NOT_FOUND", exc.message, detail)
    if isinstance(exc, InvalidInput):
        return PortsipError(400, "VALIDATE_FAILED", exc.message, detail)
    if isinstance(exc, PermissionDenied):
        return PortsipError(403, "FORBIDDEN", exc.message, detail)
    if isinstance(exc, AuthError):
        return PortsipError(401, "UNAUTHORIZED", exc.message, detail)
    return PortsipError(400, "UNKNOWN", exc.message, detail)


class PortsipRoute(APIRoute):
    """Answers ``PortsipError``, callvault's domain errors and unexpected failures of this
    face's endpoints in PortSIP's error body (never another face's, never a stack trace)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except PortsipError as exc:
                return exc.response()
            except CallvaultError as exc:
                return _from_domain(exc).response()
            except Exception:
                logger.exception("unhandled error on %s %s", request.method, request.url.path)
                return PortsipError(500, "UNKNOWN", "unknown error").response()

        return guarded

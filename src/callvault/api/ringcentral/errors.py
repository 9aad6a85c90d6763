"""RingCentral's error body: ``errors[]`` plus the legacy top-level copy of the first error."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes


class RcError(Exception):
    """An error answered in RingCentral's shape. ``extra`` holds parameterName and friends."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        top_code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: str,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.top_code = top_code or code
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "errorCode": self.top_code,
            "message": self.message,
            "errors": [{"errorCode": self.code, "message": self.message, **self.extra}],
            **self.extra,
        }


def invalid_param(name: str, value: str | None = None, why: str | None = None) -> RcError:
    message = f"Parameter [{name}] value is invalid"
    if why:
        message += f": {why}"
    if value is None:
        return RcError(400, "CMN-101", message, parameterName=name)
    return RcError(400, "CMN-101", message, parameterName=name, parameterValue=value)


def not_found(name: str, value: str | None = None) -> RcError:
    message = f"Resource for parameter [{name}] is not found"
    if value is None:
        return RcError(404, "CMN-102", message, parameterName=name)
    return RcError(404, "CMN-102", message, parameterName=name, parameterValue=value)


def app_permission(permission: str) -> RcError:
    return RcError(
        403,
        "CMN-401",
        f"In order to call this API endpoint, application needs to have [{permission}] permission",
        top_code="InsufficientPermissions",
        permissionName=permission,
    )


def user_permission(permission: str) -> RcError:
    return RcError(
        403,
        "CMN-408",
        f"In order to call this API endpoint, user needs to have [{permission}] permission "
        "for requested resource.",
        top_code="InsufficientPermissions",
        permissionName=permission,
    )


def other_extension() -> RcError:
    return RcError(
        403,
        "CMN-404",
        "Attempt to access another extension is not allowed",
        top_code="InsufficientPermissions",
    )


def rc_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RcError)
    counted: dict[str, str] = getattr(request.state, "rate_limit_headers", {})
    return JSONBytes(exc.body(), status_code=exc.status, headers={**counted, **exc.headers})

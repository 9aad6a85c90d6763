"""Who calls the native API: the same OAuth access tokens as the RingCentral face."""

from __future__ import annotations

from starlette.requests import Request

from callvault.api.native.errors import NativeError
from callvault.services.auth import OAuthFailure, Principal
from callvault.services.container import Services


def principal(request: Request) -> Principal:
    """The caller behind ``Authorization: Bearer`` (any case) or ``?access_token=``."""
    services: Services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.query_params.get("access_token", "")
    if not token:
        raise NativeError(401, "auth-required", "send Authorization: Bearer <access token>")
    try:
        return services.oauth.principal(token)
    except OAuthFailure as exc:
        raise NativeError(401, "auth-failed", exc.message) from None


def require_admin(request: Request, doing: str) -> Principal:
    who = principal(request)
    if not who.is_admin:
        raise NativeError(403, "permission-denied", f"only account admins may {doing}")
    return who

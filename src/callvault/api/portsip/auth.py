"""Who is calling a PortSIP endpoint, and what they may read (CDR reference §2.3).

Bearer tokens are callvault's own OAuth sessions (issued by ``/api/login/oauth/token`` or any
other face's login). Tenant administrators (role ``admin``) read the company's CDRs; every user
reads their own extension's through ``/api/user/cdrs``.
"""

from __future__ import annotations

from starlette.requests import Request

from callvault.api.portsip.errors import forbidden, unauthorized
from callvault.services.auth import FailureKind, OAuthFailure, Principal
from callvault.services.container import Services
from callvault.services.targets import TargetService


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def targets_of(request: Request) -> TargetService:
    """The call-target service (one per process, so its kept list totals are shared)."""
    return services_of(request).targets


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <access_token>'")
    return token.strip()


def authenticate(request: Request) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise unauthorized("an access token is required (Authorization: Bearer <access_token>)")
    try:
        return services_of(request).oauth.principal(token)
    except OAuthFailure as exc:
        if exc.kind is FailureKind.TOKEN_EXPIRED:
            raise unauthorized("the access token has expired") from None
        raise unauthorized("the access token is not valid") from None


def require_tenant_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise forbidden(
            "only tenant administrators may read the company's CDRs; use /api/user/cdrs"
        )

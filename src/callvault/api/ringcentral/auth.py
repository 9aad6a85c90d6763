"""Who is calling a RingCentral endpoint, what they may see, and their rate-limit budget.

Resolves the bearer token (scheme matched case-insensitively, or ``?access_token=``), the
``~`` aliases in paths, app permissions (CMN-401), user permissions (CMN-408, CMN-404), and
counts the request against the caller's usage-plan group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from callvault.api.ratelimit import RateLimiter, Verdict
from callvault.api.ringcentral.errors import (
    RcError,
    app_permission,
    not_found,
    other_extension,
    user_permission,
)
from callvault.services.auth import FailureKind, OAuthFailure, Principal
from callvault.services.container import Services


@dataclass(slots=True)
class Caller:
    principal: Principal
    headers: dict[str, str] = field(default_factory=dict)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise RcError(401, "AGW-402", "Invalid Authorization header")
    return request.query_params.get("access_token") or None


def rate_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "X-Rate-Limit-Group": verdict.group,
        "X-Rate-Limit-Limit": str(verdict.limit),
        "X-Rate-Limit-Remaining": str(verdict.remaining),
        "X-Rate-Limit-Window": str(verdict.window),
    }


def apply_rate_limit(limiter: RateLimiter | None, key: str, group: str) -> dict[str, str]:
    """Count one request; returns the headers to send, or raises CMN-301 when over the limit."""
    if limiter is None:
        return {}
    verdict = limiter.check(key, group)
    headers = rate_headers(verdict)
    if not verdict.allowed:
        headers["Retry-After"] = str(verdict.retry_after)
        raise RcError(429, "CMN-301", "Request rate exceeded", headers=headers)
    return headers


def authenticate(
    request: Request, services: Services, limiter: RateLimiter | None, group: str
) -> Caller:
    token = bearer_token(request)
    if token is None:
        raise RcError(401, "AGW-402", "Invalid Authorization header")
    try:
        principal = services.oauth.principal(token)
    except OAuthFailure as exc:
        if exc.kind is FailureKind.TOKEN_EXPIRED:
            raise RcError(401, "OAU-128", "Access token expired", top_code="TokenExpired") from None
        raise RcError(401, "OAU-213", "Token not found", top_code="TokenInvalid") from None
    headers = apply_rate_limit(limiter, f"{principal.user_id}:{principal.client_id}", group)
    # The request is counted now, so a refusal after this point carries the headers too.
    request.state.rate_limit_headers = headers
    return Caller(principal, headers)


def require_app_permission(caller: Caller, permission: str) -> None:
    if permission not in caller.principal.scopes:
        raise app_permission(permission)


def resolve_account(caller: Caller, account_id: str) -> int:
    """``~`` or the caller's own account id; any other account is invisible (404)."""
    if account_id == "~" or account_id == str(caller.principal.account_id):
        return caller.principal.account_id
    raise not_found("accountId", account_id)


def require_company_log(caller: Caller) -> None:
    if not caller.principal.is_admin:
        raise user_permission("FullCompanyCallLog")


def resolve_extension(services: Services, caller: Caller, extension_id: str) -> int:
    """``~``, the caller's own extension, or (for admins) any extension of the account."""
    p = caller.principal
    if extension_id == "~" or extension_id == str(p.extension_id):
        return p.extension_id
    # Ids are ASCII digits that fit a 64-bit column; anything else names no extension.
    if not (extension_id.isascii() and extension_id.isdigit()) or len(extension_id) > 18:
        raise not_found("extensionId", extension_id)
    if not p.is_admin:
        raise other_extension()
    if services.accounts.extension_owner(int(extension_id)) != p.account_id:
        raise not_found("extensionId", extension_id)
    return int(extension_id)

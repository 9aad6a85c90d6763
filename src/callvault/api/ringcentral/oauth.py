"""``POST /restapi/oauth/token`` and ``/restapi/oauth/revoke`` as RingCentral answers them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.auth import apply_rate_limit
from callvault.services.auth import (
    JWT_GRANT,
    PASSWORD_GRANT,
    REFRESH_GRANT,
    FailureKind,
    IssuedTokens,
    OAuthFailure,
)
from callvault.services.container import Services
from callvault.storage.accounts import AppRow

router = APIRouter()

# Our failure kinds → (HTTP status, OAuth error, RingCentral code).
_WIRE: dict[FailureKind, tuple[int, str, str]] = {
    FailureKind.CLIENT_AUTH_REQUIRED: (401, "invalid_client", "OAU-123"),
    FailureKind.INVALID_CLIENT: (401, "invalid_client", "OAU-146"),
    FailureKind.UNAUTHORIZED_GRANT: (400, "unauthorized_client", "OAU-251"),
    FailureKind.UNSUPPORTED_GRANT: (400, "unsupported_grant_type", "OAU-250"),
    FailureKind.INVALID_REQUEST: (400, "invalid_request", "OAU-101"),
    FailureKind.INVALID_CREDENTIALS: (400, "invalid_grant", "OAU-140"),
    FailureKind.INVALID_JWT: (400, "invalid_grant", "OAU-144"),
    FailureKind.INVALID_REFRESH: (400, "invalid_grant", "OAU-211"),
    FailureKind.TOKEN_NOT_FOUND: (401, "invalid_grant", "OAU-213"),
    FailureKind.TOKEN_EXPIRED: (401, "invalid_grant", "OAU-128"),
}


class UnsupportedMediaType(OAuthFailure):
    """A body that is not a form: the spec answers 415 on the OAuth endpoints."""

    def __init__(self) -> None:
        super().__init__(
            FailureKind.INVALID_REQUEST,
            "Unsupported content type: use application/x-www-form-urlencoded",
        )


def oauth_error(failure: OAuthFailure, headers: dict[str, str] | None = None) -> Response:
    status, error, code = _WIRE[failure.kind]
    if isinstance(failure, UnsupportedMediaType):
        status = 415
    body: dict[str, Any] = {
        "error": error,
        "error_description": failure.message,
        "errors": [{"errorCode": code, "message": failure.message}],
    }
    if failure.field:
        body["errors"][0]["parameterName"] = failure.field
    return JSONBytes(body, status_code=status, headers=headers)


def _client_credentials(
    request: Request, form: dict[str, str]
) -> tuple[str | None, str | None, bool]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None, True
        client_id, _, secret = decoded.partition(":")
        return client_id, secret, True
    return form.get("client_id"), form.get("client_secret"), False


def _ttl(form: dict[str, str], key: str) -> int | None:
    value = form.get(key)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise OAuthFailure(FailureKind.INVALID_REQUEST, f"Parameter [{key}] is invalid", field=key)
    return int(value)


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" not in ctype and "multipart/form-data" not in ctype:
        raise UnsupportedMediaType()
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _token_body(tokens: IssuedTokens) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "refresh_token_expires_in": tokens.refresh_token_expires_in,
        "scope": tokens.scope,
        "owner_id": tokens.owner_id,
        "session_id": tokens.session_id,
    }
    if tokens.endpoint_id:
        body["endpoint_id"] = tokens.endpoint_id
    return body


def _grant(services: Services, app: AppRow, form: dict[str, str]) -> IssuedTokens:
    grant = form.get("grant_type", "")
    oauth = services.oauth
    a_ttl, r_ttl = _ttl(form, "access_token_ttl"), _ttl(form, "refresh_token_ttl")
    if grant == PASSWORD_GRANT:
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            missing = "username" if not username else "password"
            raise OAuthFailure(
                FailureKind.INVALID_REQUEST, f"Parameter [{missing}] is required", field=missing
            )
        return oauth.password_grant(
            app,
            username,
            password,
            extension=form.get("extension"),
            scope=form.get("scope"),
            access_ttl=a_ttl,
            refresh_ttl=r_ttl,
            endpoint_id=form.get("endpoint_id"),
        )
    if grant == JWT_GRANT:
        assertion = form.get("assertion")
        if not assertion:
            raise OAuthFailure(
                FailureKind.INVALID_REQUEST, "Parameter [assertion] is required", field="assertion"
            )
        return oauth.jwt_grant(
            app,
            assertion,
            scope=form.get("scope"),
            access_ttl=a_ttl,
            refresh_ttl=r_ttl,
            endpoint_id=form.get("endpoint_id"),
        )
    if grant == REFRESH_GRANT:
        token = form.get("refresh_token")
        if not token:
            raise OAuthFailure(
                FailureKind.INVALID_REQUEST,
                "Parameter [refresh_token] is required",
                field="refresh_token",
            )
        return oauth.refresh_grant(app, token, access_ttl=a_ttl, refresh_ttl=r_ttl)
    if not grant:
        raise OAuthFailure(
            FailureKind.INVALID_REQUEST, "Parameter [grant_type] is required", field="grant_type"
        )
    raise OAuthFailure(FailureKind.UNSUPPORTED_GRANT, f"Unsupported grant type: {grant}")


@router.post("/restapi/oauth/token")
async def token(request: Request) -> Response:
    services: Services = request.app.state.services
    headers: dict[str, str] = {}
    try:
        form = await _form(request)
        client_id, secret, basic = _client_credentials(request, form)
        headers = apply_rate_limit(
            request.app.state.rate_limiter, f"client:{client_id}:{_ip(request)}", "auth"
        )
        app = services.oauth.authenticate_client(client_id, secret, basic=basic)
        tokens = _grant(services, app, form)
    except OAuthFailure as failure:
        return oauth_error(failure, headers)
    return JSONBytes(_token_body(tokens), headers={**headers, "Cache-Control": "no-store"})


@router.post("/restapi/oauth/revoke")
async def revoke(request: Request) -> Response:
    services: Services = request.app.state.services
    headers: dict[str, str] = {}
    try:
        form = await _form(request) if request.headers.get("content-type") else {}
        client_id, secret, basic = _client_credentials(request, form)
        headers = apply_rate_limit(
            request.app.state.rate_limiter, f"client:{client_id}:{_ip(request)}", "auth"
        )
        app = services.oauth.authenticate_client(client_id, secret, basic=basic)
        token_value = form.get("token") or request.query_params.get("token")
        if not token_value:
            raise OAuthFailure(
                FailureKind.INVALID_REQUEST, "Parameter [token] is required", field="token"
            )
    except OAuthFailure as failure:
        return oauth_error(failure, headers)
    services.oauth.revoke(token_value, app.client_id)
    return Response(status_code=200, headers=headers)


def _ip(request: Request) -> str:
    return request.client.host if request.client else "-"

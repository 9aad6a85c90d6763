"""``POST /api/login/oauth/token`` (password and refresh grants) and ``/api/login/oauth/revoke``
as PortSIP's clients call them (CDR reference §2.1), on callvault's own OAuth sessions.

PortSIP clients send a fixed ``client_id``; it names a public app callvault registers on first
use. callvault accounts have no SIP domain, so a tenant user's ``domain`` is the account's id
or its main number; ``username`` is the extension number (or an e-mail address, no domain).
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.portsip.auth import bearer_token, services_of
from callvault.api.portsip.errors import PortsipError, PortsipRoute, unauthorized, validate_failed
from callvault.errors import NotFound
from callvault.services.auth import OAuthFailure
from callvault.services.container import Services
from callvault.storage.accounts import AppRow

router = APIRouter(route_class=PortsipRoute)

PORTSIP_CLIENT_ID = "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"
_GRANTS = ("password", "refresh_token")
_SCOPES = ("ReadCallLog",)


def _login_failed() -> PortsipError:
    return PortsipError(400, "UNAUTHORIZED", "Login failed, authentication error")


async def _fields(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if "json" in ctype:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            raise validate_failed("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise validate_failed("the body must be a JSON object")
        return {k: str(v) for k, v in body.items() if isinstance(v, str | int)}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _app(services: Services, client_id: str | None) -> AppRow:
    """PortSIP's fixed client, registered as a public callvault app on first use."""
    if client_id not in (None, "", PORTSIP_CLIENT_ID):
        raise _login_failed()
    try:
        return services.oauth.authenticate_client(PORTSIP_CLIENT_ID, None, basic=False)
    except OAuthFailure:
        pass
    with contextlib.suppress(Exception):  # another request may have registered it first
        services.accounts.create_app(
            None,
            "PortSIP clients",
            grants=_GRANTS,
            scopes=_SCOPES,
            public=True,
            client_id=PORTSIP_CLIENT_ID,
        )
    return services.oauth.authenticate_client(PORTSIP_CLIENT_ID, None, basic=False)


def _username(services: Services, username: str, domain: str | None) -> str:
    """The login name callvault's OAuth service understands."""
    if "@" in username or not domain:
        return username
    account = None
    if domain.isdigit():
        try:
            account = services.accounts.account(int(domain))
        except NotFound:
            account = None
    if account is None:
        return f"{domain}*{username}"  # the domain as the account's main number
    if account.main_number:
        return f"{account.main_number}*{username}"
    raise _login_failed()


def _body(access: str, expires_in: int, refresh: str) -> dict[str, Any]:
    return {
        "access_token": access,
        "expires_in": expires_in,
        "refresh_token": refresh,
        "token_type": "Bearer",
    }


@router.post("/api/login/oauth/token")
async def token(request: Request) -> Response:
    services = services_of(request)
    fields = await _fields(request)
    grant = fields.get("grant_type", "")
    app = _app(services, fields.get("client_id"))
    if grant == "password":
        username, password = fields.get("username", ""), fields.get("password", "")
        if not username or not password:
            missing = "username" if not username else "password"
            raise validate_failed(f"{missing} is required", field=missing)
        try:
            name = _username(services, username.strip(), fields.get("domain"))
            issued = services.oauth.password_grant(app, name, password)
        except OAuthFailure:
            raise _login_failed() from None
    elif grant == "refresh_token":
        refresh = fields.get("refresh_token", "")
        if not refresh:
            raise validate_failed("refresh_token is required", field="refresh_token")
        try:
            issued = services.oauth.refresh_grant(app, refresh)
        except OAuthFailure:
            raise PortsipError(400, "UNKNOWN", "unknown error") from None
    else:
        raise validate_failed(
            "grant_type must be password or refresh_token", field="grant_type", value=grant
        )
    body = _body(issued.access_token, issued.expires_in, issued.refresh_token)
    return JSONBytes(body, headers={"Cache-Control": "no-store"})


@router.post("/api/login/oauth/revoke")
async def revoke(request: Request) -> Response:
    """Revoke the session of the bearer token (or of a ``token`` form field)."""
    token_value = bearer_token(request)
    if token_value is None:
        fields = await _fields(request)
        token_value = fields.get("token")
    if not token_value:
        raise unauthorized("an access token is required (Authorization: Bearer <access_token>)")
    services_of(request).oauth.revoke(token_value)
    return Response(status_code=200)

"""Per-request plumbing shared by the RingCentral endpoints: the services, the caller
(authenticated, counted against its rate-limit group, app permission checked), and URIs."""

from __future__ import annotations

from starlette.requests import Request

from callvault.api.ringcentral.auth import Caller, authenticate, require_app_permission
from callvault.api.ringcentral.mapping import Uris
from callvault.services.container import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def caller_for(request: Request, permission: str, group: str = "heavy") -> Caller:
    """The authenticated caller, counted in ``group``, whose app holds ``permission``."""
    caller = authenticate(request, services_of(request), request.app.state.rate_limiter, group)
    require_app_permission(caller, permission)
    return caller


def uris_for(request: Request, account_id: int) -> Uris:
    settings = services_of(request).settings
    return Uris(settings.base_url, settings.media_url, account_id)

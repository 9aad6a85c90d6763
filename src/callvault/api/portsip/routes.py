"""The CDR read endpoints, on GET and POST alike (CDR reference §3): ``/api/cdrs`` and
``/api/calllogs`` for tenant administrators, ``/api/user/cdrs`` for everyone's own, each as a
list (``{count, items}``) and by id, in the three ``{id}`` shapes the spec publishes.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.portsip.auth import authenticate, require_tenant_admin, targets_of
from callvault.api.portsip.errors import PortsipRoute, not_found
from callvault.api.portsip.login import router as login_router
from callvault.api.portsip.mapping import target_body
from callvault.api.portsip.params import list_options
from callvault.api.portsip.rendering import render_targets
from callvault.api.portsip.schemas import (
    CALLLOG_DETAIL,
    CALLLOG_SUMMARY,
    CDR_DETAIL,
    CDR_SUMMARY,
    USER_CDR_DETAIL,
)
from callvault.api.portsip.sync import router as sync_router
from callvault.api.rendered import rendered_items
from callvault.domain.target_query import TargetQuery
from callvault.domain.targets import CallTarget
from callvault.services.auth import Principal

_READ = ["GET", "POST"]

cdrs = APIRouter(route_class=PortsipRoute)


def _list(request: Request, principal: Principal, shape: Sequence[str], *, own: bool) -> Response:
    opts = list_options(request.url.query)
    query = TargetQuery(
        account_id=principal.account_id,
        extension_id=principal.extension_id if own else None,
        where=opts.where,
        search=opts.search,
        order=opts.order,
        offset=opts.skip,
        limit=opts.top,
    )
    refs, total = targets_of(request).list_stored(query)
    items = render_targets(rendered_items(request), refs, shape)
    return JSONBytes({"count": total, "items": items})


def _one(request: Request, principal: Principal, target_id: str, *, own: bool) -> CallTarget:
    found = targets_of(request).get(
        principal.account_id, target_id, principal.extension_id if own else None
    )
    if found is None:
        raise not_found("CDR", target_id)
    return found.target


def _admin(request: Request) -> Principal:
    principal = authenticate(request)
    require_tenant_admin(principal)
    return principal


@cdrs.api_route("/api/cdrs", methods=_READ)
def list_cdrs(request: Request) -> Response:
    return _list(request, _admin(request), CDR_SUMMARY, own=False)


@cdrs.api_route("/api/cdrs/{target_id}", methods=_READ)
def get_cdr(request: Request, target_id: str) -> Response:
    target = _one(request, _admin(request), target_id, own=False)
    # The spec wraps this one in an array, and leaves out its id.
    return JSONBytes({"items": [target_body(target, CDR_DETAIL)]})


@cdrs.api_route("/api/calllogs", methods=_READ)
def list_call_logs(request: Request) -> Response:
    return _list(request, _admin(request), CALLLOG_SUMMARY, own=False)


@cdrs.api_route("/api/calllogs/{target_id}", methods=_READ)
def get_call_log(request: Request, target_id: str) -> Response:
    target = _one(request, _admin(request), target_id, own=False)
    return JSONBytes(target_body(target, CALLLOG_DETAIL))  # a flat object


@cdrs.api_route("/api/user/cdrs", methods=_READ)
def list_user_cdrs(request: Request) -> Response:
    return _list(request, authenticate(request), CDR_SUMMARY, own=True)


@cdrs.api_route("/api/user/cdrs/{target_id}", methods=_READ)
def get_user_cdr(request: Request, target_id: str) -> Response:
    target = _one(request, authenticate(request), target_id, own=True)
    # An object wrapper this time, without id or duration.
    return JSONBytes({"items": target_body(target, USER_CDR_DETAIL)})


router = APIRouter()
router.include_router(login_router)
# Before ``cdrs``: ``/api/user/cdrs/sync_tokens`` must not be read as a CDR id.
router.include_router(sync_router)
router.include_router(cdrs)

"""Active calls (``/active-calls``, account and extension): calls in progress, and calls that
ended within the linger period, in the call-log record shape, newest first (§7)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.auth import (
    Caller,
    resolve_account,
    resolve_extension,
)
from callvault.api.ringcentral.deps import caller_for, services_of, uris_for
from callvault.api.ringcentral.errors import invalid_param, user_permission
from callvault.api.ringcentral.mapping import API, record_to_wire
from callvault.api.ringcentral.paging import list_body
from callvault.api.ringcentral.params import QueryParams
from callvault.domain.calls import CallRecord
from callvault.domain.enums import CallType, Direction, Transport

router = APIRouter()

_VIEWS = {"simple": "Simple", "detailed": "Detailed"}
_CONFERENCE_TYPES = {"audioconferencing", "meetings"}


def _matches(record: CallRecord, params: QueryParams) -> bool:
    directions = params.enums("direction", Direction)
    types = params.enums("type", CallType)
    transports = params.enums("transport", Transport)
    return (
        (not directions or record.direction in directions)
        and (not types or record.type in types)
        and (not transports or record.transport in transports)
    )


async def _respond(
    request: Request, caller: Caller, account_id: int, extension_id: int | None, base: str
) -> Response:
    services = services_of(request)
    params = QueryParams(request.url.query)
    raw_view = params.one("view") or "Simple"
    view = _VIEWS.get(raw_view.lower())
    if view is None:
        raise invalid_param("view", raw_view)
    for conference in params.many("conferenceType"):
        if conference.lower() not in _CONFERENCE_TYPES:
            raise invalid_param("conferenceType", conference)
    page = params.positive_int("page", 1)
    per_page = params.per_page()
    records = await run_in_threadpool(services.live.active, account_id, extension_id)
    # Conference bridges are not modelled yet, so a conferenceType filter matches nothing.
    wanted = [] if params.many("conferenceType") else [r for r in records if _matches(r, params)]
    start = (page - 1) * per_page
    chunk = wanted[start : start + per_page]
    uris = uris_for(request, account_id)
    effective = {"view": view}
    for key, values in params.values.items():
        if key not in ("view", "page", "perPage", "access_token"):
            effective[key] = ",".join(values)
    effective["perPage"] = str(per_page)
    body = list_body(
        base,
        effective,
        page=page,
        per_page=per_page,
        records=[record_to_wire(r, uris, view=view, log_extension_id=extension_id) for r in chunk],
        has_more=len(wanted) > start + per_page,
    )
    return JSONBytes(body, headers=caller.headers)


@router.get(f"{API}/account/{{account_id}}/active-calls")
async def company_active_calls(request: Request, account_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    if not caller.principal.is_admin:
        raise user_permission("ReadCompanyCallLog")
    uris = uris_for(request, acc)
    return await _respond(request, caller, acc, None, f"{uris.account}/active-calls")


@router.get(f"{API}/account/{{account_id}}/extension/{{extension_id}}/active-calls")
async def extension_active_calls(request: Request, account_id: str, extension_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    services = services_of(request)
    acc = resolve_account(caller, account_id)
    ext = resolve_extension(services, caller, extension_id)
    uris = uris_for(request, acc)
    return await _respond(request, caller, acc, ext, f"{uris.extension(ext)}/active-calls")

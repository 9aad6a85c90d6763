"""Company and extension call-log endpoints: list, get by id, batch get, delete."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.rendered import rendered_items
from callvault.api.ringcentral.auth import (
    Caller,
    authenticate,
    require_app_permission,
    require_company_log,
    resolve_account,
    resolve_extension,
)
from callvault.api.ringcentral.deps import caller_for, services_of, uris_for
from callvault.api.ringcentral.errors import RcError, invalid_param, not_found
from callvault.api.ringcentral.mapping import API, Uris, rc_time, record_to_wire
from callvault.api.ringcentral.paging import list_body
from callvault.api.ringcentral.params import (
    QueryParams,
    date_window,
    recording_filter,
    view_param,
)
from callvault.api.ringcentral.rendering import render_record
from callvault.domain.enums import CallType, Direction, Transport
from callvault.domain.query import CallQuery
from callvault.services.clock import system_clock

router = APIRouter()

BATCH_LIMIT = 50
# Parameters that may not accompany sessionId (CLG-110).
_SESSION_EXCLUSIVE = ("extensionNumber", "phoneNumber", "telephonySessionId")


def _view(params: QueryParams) -> str:
    return view_param(params) or "Simple"


def _list_query(
    request: Request, params: QueryParams, account_id: int, extension_id: int | None
) -> tuple[CallQuery, str, dict[str, str]]:
    """Build the domain query plus the effective parameters echoed in ``uri``/navigation."""
    view = _view(params)
    session_id = params.one("sessionId")
    if session_id:
        for other in _SESSION_EXCLUSIVE:
            if params.one(other):
                raise RcError(
                    400,
                    "CLG-110",
                    "Parameter [sessionId] is not allowed for usage along with "
                    f"parameter [{other}]",
                    parameterName="sessionId",
                )
    ext_number = params.one("extensionNumber")
    phone = params.one("phoneNumber")
    if ext_number and phone:
        raise invalid_param("phoneNumber", phone, "cannot be combined with extensionNumber")
    date_from, date_to = date_window(params, system_clock())
    page = params.positive_int("page", 1)
    per_page = params.per_page()
    scope_ext = extension_id
    if ext_number:
        ext = services_of(request).accounts.extension_by_number(account_id, ext_number)
        # An unknown number, or another extension's number in an extension log, matches nothing.
        target = ext.id if ext else -1
        scope_ext = target if extension_id in (None, target) else -1
    query = CallQuery(
        account_id=account_id,
        extension_id=scope_ext,
        date_from=date_from,
        date_to=date_to,
        directions=params.enums("direction", Direction),
        types=params.enums("type", CallType),
        transports=params.enums("transport", Transport),
        phone_number=phone or None,
        session_id=session_id or None,
        telephony_session_id=params.one("telephonySessionId") or None,
        recording_types=recording_filter(params),
        metadata_categories=frozenset(params.many("metadataCategory")),
        show_deleted=params.bool("showDeleted", False),
        show_blocked=params.bool("showBlocked", True),
        page=page,
        per_page=per_page,
        with_legs=view == "Detailed",
    )
    effective = _effective_params(params, view, date_from, date_to, page, per_page)
    return query, view, effective


def _effective_params(
    params: QueryParams,
    view: str,
    date_from: datetime,
    date_to: datetime,
    page: int,
    per_page: int,
) -> dict[str, str]:
    out: dict[str, str] = {"view": view}
    for key, values in params.values.items():
        if key in ("view", "dateFrom", "dateTo", "page", "perPage", "access_token"):
            continue
        out[key] = ",".join(values)
    out["dateFrom"] = rc_time(date_from)
    out["dateTo"] = rc_time(date_to)
    out["page"] = str(page)
    out["perPage"] = str(per_page)
    return out


def _list_response(
    request: Request, caller: Caller, account_id: int, extension_id: int | None, base_uri: str
) -> Response:
    params = QueryParams(request.url.query)
    query, view, effective = _list_query(request, params, account_id, extension_id)
    page = services_of(request).calls.list_stored(query)
    uris = uris_for(request, account_id)
    items = rendered_items(request)
    records = [
        render_record(items, r, uris, view=view, log_extension_id=extension_id) for r in page.items
    ]
    body = list_body(
        base_uri,
        effective,
        page=query.page,
        per_page=query.per_page,
        records=records,
        has_more=page.has_more,
    )
    return JSONBytes(body, headers=caller.headers)


@router.get(f"{API}/account/{{account_id}}/call-log")
def company_call_log(request: Request, account_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    require_company_log(caller)
    base = f"{uris_for(request, acc).account}/call-log"
    return _list_response(request, caller, acc, None, base)


@router.get(f"{API}/account/{{account_id}}/extension/{{extension_id}}/call-log")
def extension_call_log(request: Request, account_id: str, extension_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    ext = resolve_extension(services_of(request), caller, extension_id)
    base = f"{uris_for(request, acc).extension(ext)}/call-log"
    return _list_response(request, caller, acc, ext, base)


@router.delete(f"{API}/account/{{account_id}}/extension/{{extension_id}}/call-log")
def delete_extension_call_log(request: Request, account_id: str, extension_id: str) -> Response:
    caller = authenticate(request, services_of(request), request.app.state.rate_limiter, "heavy")
    require_app_permission(caller, "EditCallLog")
    acc = resolve_account(caller, account_id)
    ext = resolve_extension(services_of(request), caller, extension_id)
    params = QueryParams(request.url.query)
    date_to = params.time("dateTo") or system_clock()
    services_of(request).calls.delete_before(acc, ext, date_to)
    return Response(status_code=204, headers=caller.headers)


def _record_ids(raw: str) -> list[str]:
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_param("callRecordId", raw)
    if len(ids) > BATCH_LIMIT:
        raise RcError(
            400,
            "CMN-106",
            f"Batch request is limited to {BATCH_LIMIT} entries",
            parameterName="callRecordId",
        )
    return ids


def _records_response(
    request: Request,
    caller: Caller,
    account_id: int,
    extension_id: int | None,
    raw_ids: str,
) -> Response:
    ids = _record_ids(raw_ids)
    params = QueryParams(request.url.query)
    view = _view(params)
    # An id with control characters cannot exist (ingest refuses them); don't look it up.
    lookup = [rid for rid in ids if rid.isprintable()]
    found = services_of(request).calls.get_many(
        account_id, lookup, extension_id=extension_id, with_legs=view == "Detailed"
    )
    uris = uris_for(request, account_id)

    def wire(rid: str) -> dict[str, Any]:
        return record_to_wire(found[rid], uris, view=view, log_extension_id=extension_id)

    if len(ids) == 1:
        if ids[0] not in found:
            raise not_found("callRecordId", ids[0])
        return JSONBytes(wire(ids[0]), headers=caller.headers)
    return _multipart(ids, found.keys(), wire, uris, view, extension_id, caller.headers)


def _multipart(
    ids: list[str],
    found: Any,
    wire: Any,
    uris: Uris,
    view: str,
    extension_id: int | None,
    headers: dict[str, str],
) -> Response:
    """RingCentral's 207 batch: a status part, then one part per id in request order."""
    boundary = f"Boundary_{secrets.token_hex(12)}"
    statuses, parts = [], []
    for rid in ids:
        href = uris.record(rid, view, extension_id).split("?")[0]
        if rid in found:
            statuses.append({"href": href, "status": 200, "responseDescription": "OK"})
            parts.append(wire(rid))
        else:
            err = not_found("callRecordId", rid)
            statuses.append({"href": href, "status": 404, "responseDescription": "Not Found"})
            parts.append(err.body())
    chunks = [{"response": statuses}, *parts]
    body = b"".join(
        b"--"
        + boundary.encode()
        + b"\r\nContent-Type: application/json\r\n\r\n"
        + orjson.dumps(chunk)
        + b"\r\n"
        for chunk in chunks
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    return Response(
        body,
        status_code=207,
        media_type=f"multipart/mixed; boundary={boundary}",
        headers=headers,
    )


@router.get(f"{API}/account/{{account_id}}/call-log/{{record_ids}}")
def company_call_records(request: Request, account_id: str, record_ids: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    require_company_log(caller)
    return _records_response(request, caller, acc, None, record_ids)


@router.get(f"{API}/account/{{account_id}}/extension/{{extension_id}}/call-log/{{record_ids}}")
def extension_call_records(
    request: Request, account_id: str, extension_id: str, record_ids: str
) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    ext = resolve_extension(services_of(request), caller, extension_id)
    return _records_response(request, caller, acc, ext, record_ids)

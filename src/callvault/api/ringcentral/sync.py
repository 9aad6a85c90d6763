"""Call-log sync (company and extension) and company extract-sync, reference §8.

Parses RingCentral's parameters, asks ``services/sync.py``, and answers ``CallLogSyncResponse``
or ``CallLogExtractSyncResponse``. Errors: CMN-101 for bad parameters and for tokens that are
garbled, tampered or from another log; CLG-101 (call log reset), CLG-102 (token older than 30
days) and CLG-104 (unreadable token format) for expired tokens; CLG-103 when more than 250
changes are pending. On ISync the frame filters (statusGroup, recordingType, withRecording,
metadataCategory) come from the token; ``view`` and ``showDeleted`` may change per request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.auth import (
    Caller,
    require_company_log,
    resolve_account,
    resolve_extension,
)
from callvault.api.ringcentral.deps import caller_for, services_of, uris_for
from callvault.api.ringcentral.errors import RcError, invalid_param
from callvault.api.ringcentral.mapping import API, rc_time, record_to_wire
from callvault.api.ringcentral.params import QueryParams, recording_filter, view_param
from callvault.domain.query import SyncFilter
from callvault.errors import CallvaultError, InvalidInput
from callvault.services.sync import ExpiryReason, SyncResult, SyncTokenExpired, TooManyChanges

router = APIRouter()

_SYNC_TYPES = {"fsync": "FSync", "isync": "ISync"}
_STATUS_GROUPS = ("missed", "all")
# All three share RingCentral's one message; the code tells why (docs/sync.md).
_EXPIRED_CODES = {
    ExpiryReason.RESET: "CLG-101",
    ExpiryReason.AGE: "CLG-102",
    ExpiryReason.FORMAT: "CLG-104",
}
_EXPIRED_MESSAGE = "Parameter [syncToken] is invalid [Sync token expired, call log was reset]"
_LIMIT_MESSAGE = "Parameter [syncToken] is invalid [max sync record number limit is exceeded]"
_WIRE_FIELDS = {"token": "syncToken", "record_count": "recordCount", "date_from": "dateFrom"}


def _rc_error(exc: CallvaultError) -> RcError:
    if isinstance(exc, SyncTokenExpired):
        code = _EXPIRED_CODES[exc.reason]
        return RcError(400, code, _EXPIRED_MESSAGE, parameterName="syncToken")
    if isinstance(exc, TooManyChanges):
        return RcError(400, "CLG-103", _LIMIT_MESSAGE, parameterName="syncToken")
    if isinstance(exc, InvalidInput) and exc.field:
        return invalid_param(_WIRE_FIELDS.get(exc.field, exc.field), None, exc.message)
    raise exc


def _sync_type(params: QueryParams) -> str:
    raw = params.one("syncType")
    if not raw:
        return "FSync"
    sync_type = _SYNC_TYPES.get(raw.lower())
    if sync_type is None:
        raise invalid_param("syncType", raw)
    return sync_type


def _missed_only(params: QueryParams) -> bool:
    """``statusGroup=Missed`` alone narrows to missed calls; ``All`` (or nothing) does not."""
    groups = [g.lower() for g in params.many("statusGroup")]
    for group in groups:
        if group not in _STATUS_GROUPS:
            raise invalid_param("statusGroup", group)
    return bool(groups) and "all" not in groups


def _record_count(params: QueryParams) -> int | None:
    return params.positive_int("recordCount", 0) or None


def _optional_bool(params: QueryParams, key: str) -> bool | None:
    return params.bool(key, False) if params.one(key) else None


def _request_uri(base: str, params: QueryParams) -> str:
    query = "&".join(
        f"{quote(key)}={quote(value, safe=':,')}"
        for key, values in params.values.items()
        if key != "access_token"
        for value in values
    )
    return f"{base}?{query}" if query else base


def _body(
    request: Request,
    base: str,
    params: QueryParams,
    sync_type: str,
    result: SyncResult,
    account_id: int,
    extension_id: int | None,
) -> dict[str, Any]:
    uris = uris_for(request, account_id)
    view = "Detailed" if result.detailed else "Simple"
    return {
        "uri": _request_uri(base, params),
        "records": [
            record_to_wire(r, uris, view=view, log_extension_id=extension_id)
            for r in result.records
        ],
        "syncInfo": {
            "syncType": sync_type,
            "syncToken": result.token,
            "syncTime": rc_time(result.sync_time),
        },
    }


def _log_sync(
    request: Request, caller: Caller, account_id: int, extension_id: int | None, base: str
) -> Response:
    params = QueryParams(request.url.query)
    sync_type = _sync_type(params)
    view = view_param(params)
    record_count = _record_count(params)
    date_from = params.time("dateFrom")
    show_deleted = _optional_bool(params, "showDeleted")
    # Parsed on ISync too, so a malformed value is reported rather than silently ignored.
    flt = SyncFilter(
        account_id=account_id,
        extension_id=extension_id,
        missed_only=_missed_only(params),
        recording_types=recording_filter(params),
        metadata_categories=frozenset(params.many("metadataCategory")),
        show_deleted=bool(show_deleted),
    )
    sync = services_of(request).sync
    try:
        if sync_type == "FSync":
            result = sync.full_sync(
                flt, record_count=record_count, date_from=date_from, detailed=view == "Detailed"
            )
        else:
            result = sync.incremental_sync(
                account_id,
                extension_id,
                params.one("syncToken"),
                record_count=record_count,
                date_from=date_from,
                show_deleted=show_deleted,
                detailed=None if view is None else view == "Detailed",
            )
    except CallvaultError as exc:
        raise _rc_error(exc) from None
    body = _body(request, base, params, sync_type, result, account_id, extension_id)
    return JSONBytes(body, headers=caller.headers)


@router.get(f"{API}/account/{{account_id}}/call-log-sync")
def company_call_log_sync(request: Request, account_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    require_company_log(caller)
    base = f"{uris_for(request, acc).account}/call-log-sync"
    return _log_sync(request, caller, acc, None, base)


@router.get(f"{API}/account/{{account_id}}/extension/{{extension_id}}/call-log-sync")
def extension_call_log_sync(request: Request, account_id: str, extension_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    ext = resolve_extension(services_of(request), caller, extension_id)
    base = f"{uris_for(request, acc).extension(ext)}/call-log-sync"
    return _log_sync(request, caller, acc, ext, base)


@router.get(f"{API}/account/{{account_id}}/call-log-extract-sync")
def company_call_log_extract_sync(request: Request, account_id: str) -> Response:
    caller = caller_for(request, "ReadCallLog")
    acc = resolve_account(caller, account_id)
    require_company_log(caller)
    params = QueryParams(request.url.query)
    sync_type = _sync_type(params)
    view = view_param(params)
    record_count = _record_count(params)
    date_from = params.time("dateFrom")
    categories = frozenset(params.many("metadataCategory"))
    sync = services_of(request).sync
    try:
        if sync_type == "FSync":
            result = sync.full_extract(
                acc,
                record_count=record_count,
                date_from=date_from,
                categories=categories,
                detailed=view == "Detailed",
            )
        else:
            result = sync.incremental_extract(
                acc,
                params.one("syncToken"),
                record_count=record_count,
                detailed=None if view is None else view == "Detailed",
            )
    except CallvaultError as exc:
        raise _rc_error(exc) from None
    base = f"{uris_for(request, acc).account}/call-log-extract-sync"
    body = _body(request, base, params, sync_type, result, acc, None)
    body["syncInfo"]["newerRecordsExist"] = result.newer_records_exist
    return JSONBytes(body, headers=caller.headers)

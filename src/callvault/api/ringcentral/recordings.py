"""Call recordings: metadata (``GetCallRecordingResponse``), audio content with byte ranges,
and the company-wide delete.

A recording is visible exactly as its call is: admins see every recording of the account, other
users only those of their own extension's calls; anything else is 404, never a hint that it
exists. Every endpoint counts against the heavy rate-limit group.
"""

from __future__ import annotations

import logging
import os
from email.utils import formatdate
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.auth import (
    Caller,
    resolve_account,
)
from callvault.api.ringcentral.deps import caller_for, services_of
from callvault.api.ringcentral.errors import RcError, invalid_param, not_found, user_permission
from callvault.api.ringcentral.mapping import API, Uris
from callvault.api.ringcentral.media import (
    checked_ranges,
    content_disposition,
    file_response,
    streamed_response,
)
from callvault.api.ringcentral.params import QueryParams
from callvault.errors import InvalidInput
from callvault.services.recordings import DELETE_LIMIT, RecordingNotFound, StoredRecording

router = APIRouter()
logger = logging.getLogger("callvault.recordings")

_EXTENSIONS = {"audio/mpeg": ".mp3", "audio/wav": ".wav"}


def _recording(
    request: Request, account_id: str, recording_id: str
) -> tuple[Caller, StoredRecording]:
    """The recording, when the caller may see its call; CMN-102 otherwise."""
    caller = caller_for(request, "ReadCallRecording")
    acc = resolve_account(caller, account_id)
    who = caller.principal
    try:
        rec = services_of(request).recordings.get(
            acc, recording_id, viewer_extension_id=None if who.is_admin else who.extension_id
        )
    except RecordingNotFound:
        raise not_found("recordingId", recording_id) from None
    return caller, rec


@router.get(f"{API}/account/{{account_id}}/recording/{{recording_id}}")
def recording_metadata(request: Request, account_id: str, recording_id: str) -> Response:
    caller, rec = _recording(request, account_id, recording_id)
    settings = services_of(request).settings
    uris = Uris(settings.base_url, settings.media_url, rec.account_id)
    body = {
        "id": rec.recording_id,
        "contentUri": uris.recording_content(rec.recording_id),
        "contentType": rec.content_type,
        "duration": rec.duration,
    }
    return JSONBytes(body, headers=caller.headers)


@router.api_route(
    f"{API}/account/{{account_id}}/recording/{{recording_id}}/content", methods=["GET", "HEAD"]
)
def recording_content(request: Request, account_id: str, recording_id: str) -> Response:
    caller, rec = _recording(request, account_id, recording_id)
    params = QueryParams(request.url.query)
    default_name = f"recording-{rec.recording_id}{_EXTENSIONS.get(rec.content_type, '')}"
    disposition = content_disposition(params, default_name)
    ranges = checked_ranges(request.headers.get("range"), rec.size)
    headers = {
        **caller.headers,
        # The content never changes under an id: its hash is a strong validator for If-Range.
        "ETag": f'"{rec.sha256}"',
        "Last-Modified": formatdate(rec.created_ms / 1000, usegmt=True),
        "Cache-Control": "private, max-age=3600",
    }
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    recordings = services_of(request).recordings
    path = recordings.local_path(rec)
    if path is None:
        read = partial(recordings.store.read, rec.path_key)
        head = request.method == "HEAD"
        return streamed_response(read, rec.size, ranges, rec.content_type, headers, head=head)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        logger.error("recording %s: %s is missing from the store", rec.recording_id, path)
        raise not_found("recordingId", recording_id) from None
    return file_response(path, stat, rec.content_type, headers)


def _delete_ids(body: bytes) -> list[str]:
    try:
        data: Any = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError as exc:
        raise RcError(400, "CMN-103", f"JSON can't be parsed: {exc}") from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list) or not records:
        raise invalid_param("records", None, f"a list of 1 to {DELETE_LIMIT} recording ids")
    if len(records) > DELETE_LIMIT:
        raise RcError(
            400,
            "CMN-106",
            f"Batch request is limited to {DELETE_LIMIT} entries",
            parameterName="records",
        )
    ids = []
    for item in records:
        # Ids are strings; a client sending them as JSON numbers means the same recording.
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise invalid_param("records", str(item), "recording ids are strings")
        text = str(item).strip()
        if not text or not text.isprintable() or len(text) > 64:
            raise invalid_param("records", text, "not a recording id")
        ids.append(text)
    return ids


@router.delete(f"{API}/account/{{account_id}}/call-recordings")
async def delete_recordings(request: Request, account_id: str) -> Response:
    caller = caller_for(request, "EditCallLog")
    acc = resolve_account(caller, account_id)
    if not caller.principal.is_admin:
        raise user_permission("EditCompanyCallRecordings")
    ids = _delete_ids(await request.body())
    try:
        await run_in_threadpool(services_of(request).recordings.delete, acc, ids)
    except RecordingNotFound as exc:
        raise not_found("records", exc.recording_id) from None
    except InvalidInput as exc:
        raise invalid_param("records", None, exc.message) from None
    return Response(status_code=204, headers=caller.headers)

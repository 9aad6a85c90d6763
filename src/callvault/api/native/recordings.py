"""``POST /api/v1/calls/{recordId}/recording``: attach audio to a stored call record.

The body is the audio itself (``Content-Type: audio/mpeg`` or ``audio/wav``; other spellings
such as ``audio/x-wav`` and ``application/octet-stream`` are accepted and the bytes decide), or
``multipart/form-data`` with the audio in a ``file`` field. Options come as query parameters
(or, with multipart, as form fields): ``leg`` (index into the record's legs) or ``partyId``,
``type`` (``Automatic``/``OnDemand``), and ``duration`` in seconds for audio whose headers do not
tell it. The upload streams to the recording store; it is never held in memory whole.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.native.auth import require_admin
from callvault.api.native.errors import NativeError
from callvault.domain.enums import RecordingType, parse_enum
from callvault.errors import CallvaultError, Conflict, NotFound
from callvault.services.container import Services
from callvault.services.recordings import (
    AttachOptions,
    AttachResult,
    TooLarge,
    Unsupported,
    Upload,
)

router = APIRouter(prefix="/api/v1")

# Bytes handed to the store per thread hop: fewer hops than one per network read.
_FEED_BYTES = 1 << 20
_READ_BYTES = 256 * 1024


def _native(exc: CallvaultError) -> NativeError:
    status = 400
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Conflict):
        status = 409
    elif isinstance(exc, TooLarge):
        status = 413
    elif isinstance(exc, Unsupported):
        status = 415
    return NativeError(status, exc.code, exc.message, exc.field)


def _options(values: Mapping[str, str]) -> AttachOptions:
    leg = values.get("leg") or None
    party = values.get("partyId") or None
    if leg is not None and party is not None:
        raise NativeError(400, "invalid-input", "send leg or partyId, not both", "leg")
    if leg is not None and not (leg.isascii() and leg.isdigit() and len(leg) < 6):
        raise NativeError(400, "invalid-input", "leg is an index into the legs (0, 1 …)", "leg")
    rtype = None
    if values.get("type"):
        try:
            rtype = parse_enum(RecordingType, values["type"])
        except ValueError as exc:
            raise NativeError(400, "invalid-input", str(exc), "type") from None
    duration = None
    if values.get("duration"):
        try:
            duration = float(values["duration"])
        except ValueError:
            duration = math.nan
        if not math.isfinite(duration) or not 0 <= duration <= 10**7:
            raise NativeError(400, "invalid-input", "duration is a number of seconds", "duration")
    return AttachOptions(
        leg_index=int(leg) if leg is not None else None,
        party_id=party,
        type=rtype,
        duration_seconds=duration,
    )


def _body(result: AttachResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "callRecordId": result.record_id,
        "retained": not result.short,
        "shortRecording": result.short,
        "duration": (result.duration_ms + 500) // 1000,
        "durationMs": result.duration_ms,
    }
    rec = result.recording
    if rec is not None:
        body.update(
            recordingId=rec.recording_id,
            type=result.type.value if result.type else None,
            contentType=rec.content_type,
            size=rec.size,
            sha256=rec.sha256,
        )
    return body


async def _file_chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(_READ_BYTES):
        yield chunk


async def _feed(upload: Upload, chunks: AsyncIterator[bytes]) -> None:
    pending: list[bytes] = []
    size = 0
    async for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= _FEED_BYTES:
            await run_in_threadpool(upload.feed, b"".join(pending))
            pending, size = [], 0
    if pending:
        await run_in_threadpool(upload.feed, b"".join(pending))


async def _attach(
    services: Services,
    account_id: int,
    record_id: str,
    declared: str | None,
    chunks: AsyncIterator[bytes],
    options: AttachOptions,
) -> Response:
    recordings = services.recordings
    try:
        upload = await run_in_threadpool(recordings.start_upload, account_id, record_id, declared)
        try:
            await _feed(upload, chunks)
            result = await run_in_threadpool(
                recordings.attach, account_id, record_id, upload, options
            )
        finally:
            upload.discard()
    except CallvaultError as exc:
        raise _native(exc) from None
    status = 201 if result.changed and not result.short else 200
    return JSONBytes(_body(result), status_code=status)


@router.post("/calls/{record_id}/recording")
async def upload_recording(request: Request, record_id: str) -> Response:
    who = require_admin(request, "attach recordings")
    services: Services = request.app.state.services
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > services.recordings.max_bytes:
        raise NativeError(
            413, "too-large", f"recordings are limited to {services.recordings.max_bytes} bytes"
        )
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        options = _options(request.query_params)
        return await _attach(
            services, who.account_id, record_id, content_type, request.stream(), options
        )
    async with request.form(max_files=1, max_fields=20) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise NativeError(400, "invalid-input", "send the audio in a 'file' field", "file")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        options = _options({**request.query_params, **fields})
        return await _attach(
            services,
            who.account_id,
            record_id,
            file.content_type,
            _file_chunks(file),
            options,
        )

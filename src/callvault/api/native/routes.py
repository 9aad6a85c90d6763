"""``POST /api/v1/calls``: finished call records in RingCentral's JSON shape, batch or NDJSON.

Good records are stored even when others in the same batch are bad; every bad record is
reported with its position, the field, and the reason. Status: 200 when all were accepted,
207 when some were, 422 when none were.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.native.errors import NativeError
from callvault.domain.calls import CallRecord
from callvault.importers.ringcentral_json import RecordError, parse_record
from callvault.services.auth import OAuthFailure, Principal
from callvault.services.container import Services
from callvault.services.ingest import IngestReport, RecordProblem

router = APIRouter(prefix="/api/v1")

MAX_BATCH = 10_000


def _principal(request: Request) -> Principal:
    services: Services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NativeError(401, "auth-required", "send Authorization: Bearer <access token>")
    try:
        return services.oauth.principal(token.strip())
    except OAuthFailure as exc:
        raise NativeError(401, "auth-failed", exc.message) from None


def _decode_body(body: bytes, content_type: str) -> list[Any]:
    """A JSON array (or one object), or NDJSON; NDJSON lines that fail to parse become
    ``_BadLine`` entries so their neighbours are still stored."""
    text = body.strip()
    if not text:
        raise NativeError(400, "invalid-input", "request body is empty", field="body")
    if "ndjson" in content_type or (text.startswith(b"{") and b"\n" in text):
        try:
            value = orjson.loads(text)
            return [value]
        except orjson.JSONDecodeError:
            pass
        items: list[Any] = []
        for n, line in enumerate(text.split(b"\n")):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(_BadLine(f"line {n + 1} is not valid JSON: {exc}"))
        return items
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NativeError(400, "invalid-json", f"body is not valid JSON: {exc}", "body") from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise NativeError(400, "invalid-input", "body must be a JSON array of records", "body")
    return value


class _BadLine:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _report_body(report: IngestReport) -> dict[str, Any]:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.problems),
        "errors": [
            {"index": p.index, "field": p.field, "reason": p.reason}
            | ({"id": p.record_id} if p.record_id else {})
            for p in sorted(report.problems, key=lambda p: p.index)
        ],
    }


@router.post("/calls")
async def ingest_calls(request: Request) -> Response:
    principal = _principal(request)
    if not principal.is_admin:
        raise NativeError(403, "permission-denied", "only account admins may ingest calls")
    services: Services = request.app.state.services
    items = _decode_body(await request.body(), request.headers.get("content-type", ""))
    if len(items) > MAX_BATCH:
        raise NativeError(
            413, "batch-too-large", f"send at most {MAX_BATCH} records per request", "body"
        )
    parsed: list[CallRecord | None] = []
    problems: list[RecordProblem] = []
    for i, item in enumerate(items):
        if isinstance(item, _BadLine):
            problems.append(RecordProblem(i, "record", item.reason))
            parsed.append(None)
            continue
        try:
            parsed.append(parse_record(item))
        except RecordError as exc:
            rid = item.get("id") if isinstance(item, dict) else None
            problems.append(RecordProblem(i, exc.field, exc.reason, str(rid) if rid else None))
            parsed.append(None)
    report = services.ingest.ingest(principal.account_id, parsed)
    report.problems.extend(problems)
    accepted = report.created + report.updated + report.unchanged
    status = 200 if not report.problems else (207 if accepted else 422)
    return JSONBytes(_report_body(report), status_code=status)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}

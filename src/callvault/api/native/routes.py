"""``POST /api/v1/calls``: finished call records in RingCentral's JSON shape, batch or NDJSON.

Good records are stored even when others in the same batch are bad; every bad record is
reported with its position, the field, and the reason. Status: 200 when all were accepted,
207 when some were, 422 when none were.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.native.auth import require_admin
from callvault.api.native.body import BadLine, decode_batch
from callvault.api.native.errors import NativeError
from callvault.domain.calls import CallRecord
from callvault.importers.ringcentral_json import RecordError, parse_record
from callvault.services.container import Services
from callvault.services.ingest import IngestReport, RecordProblem

router = APIRouter(prefix="/api/v1")

MAX_BATCH = 10_000


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
    principal = require_admin(request, "ingest calls")
    services: Services = request.app.state.services
    items = decode_batch(await request.body(), request.headers.get("content-type", ""))
    if len(items) > MAX_BATCH:
        raise NativeError(
            413, "batch-too-large", f"send at most {MAX_BATCH} records per request", "body"
        )
    parsed: list[CallRecord | None] = []
    problems: list[RecordProblem] = []
    for i, item in enumerate(items):
        if isinstance(item, BadLine):
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

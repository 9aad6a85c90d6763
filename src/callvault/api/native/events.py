"""``POST /api/v1/events`` (canonical call events, batch or NDJSON) and ``GET /api/v1/stream``
(Server-Sent Events of call changes for dashboards)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from callvault.api.json import JSONBytes
from callvault.api.native.auth import require_admin
from callvault.api.native.body import BadLine, decode_batch
from callvault.api.native.errors import NativeError
from callvault.services.container import Services
from callvault.services.ingest import RecordProblem
from callvault.services.live import parse_events

router = APIRouter(prefix="/api/v1")

MAX_EVENTS = 10_000
# A comment line keeps proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15.0


@router.post("/events")
async def post_events(request: Request) -> Response:
    """Journal and correlate events. 200 all accepted, 207 some rejected, 422 none accepted.
    Duplicates (same id, or same party and sequence) are accepted and change nothing."""
    who = require_admin(request, "send call events")
    services: Services = request.app.state.services
    items = decode_batch(await request.body(), request.headers.get("content-type", ""))
    if len(items) > MAX_EVENTS:
        raise NativeError(413, "batch-too-large", f"send at most {MAX_EVENTS} events", "body")
    good_items: list[Any] = []
    positions: list[int] = []
    problems: list[RecordProblem] = []
    for i, item in enumerate(items):
        if isinstance(item, BadLine):
            problems.append(RecordProblem(i, "event", item.reason))
        else:
            good_items.append(item)
            positions.append(i)
    events, bad = parse_events(good_items, services.accounts.resolver(who.account_id))
    for p in bad:
        p.index = positions[p.index]
        problems.append(p)
    report = await run_in_threadpool(services.live.accept, who.account_id, events)
    status = 200 if not problems else (207 if events else 422)
    body = {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "callsFinished": report.calls_finished,
        "rejected": len(problems),
        "errors": [
            {"index": p.index, "field": p.field, "reason": p.reason}
            for p in sorted(problems, key=lambda p: p.index)
        ],
    }
    return JSONBytes(body, status_code=status)


@router.get("/stream")
async def stream(request: Request) -> Response:
    """Call changes of the caller's account as Server-Sent Events (``event: call.updated`` /
    ``call.finished``, JSON data). Admins only: it covers the whole company."""
    who = require_admin(request, "watch the account's calls")
    services: Services = request.app.state.services
    sub = services.live.bus.subscribe(who.account_id)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
                    continue
                kind = str(message.get("type", "message")).encode()
                yield b"event: " + kind + b"\ndata: " + orjson.dumps(message) + b"\n\n"
        finally:
            services.live.bus.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

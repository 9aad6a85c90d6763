"""OneUptime-style get-list over 1M incoming call logs vs the equivalent RingCentral list query.

The data set is the listing benchmark's (``_dataset.py``: 1M calls over 120 days) plus one
incoming call log per call (same start times, 1-3 dial attempts each, three policies), bulk
inserted once and reused. Both sides run in process, request by request, the way their
endpoints do between reading the request and sending the body:

- OneUptime: parse ``select``/``query``/``sort``/paging, ``RecordService.list`` (COUNT of
  the window plus the page's SELECT with the policy JOINed), each record rendered through a
  ``RenderedItems`` cache (``Renderer.render`` on a miss, reused while unchanged on a hit),
  ``orjson.dumps`` of ``{count, limit, skip, data}``; query ``startedAt`` InBetween a 7-day
  window, sort ``startedAt`` DESC, limit 100, 11 columns and the policy's name;
- RingCentral: the company call log, Simple view, the same 7-day windows,
  ``direction=Inbound``, perPage 100 (``listing.service_page``, through its own cache).

Both caches are warm once the warm-up pass has listed every window (as for a server that clients
poll); ``--render-cache-mb 0`` measures both sides cold (every record rendered every time).

Target: OneUptime p50 and p99 within 2x of RingCentral's.

    .venv/bin/python bench/oneuptime_query.py                   # SQLite, 1M (generated once)
    .venv/bin/python bench/oneuptime_query.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench
    .venv/bin/python bench/oneuptime_query.py --render-cache-mb 0   # no reuse on either side
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine, func, select, text

import listing
from _common import (
    ACCOUNT_ID,
    DATA_END,
    backend_label,
    bench_extensions,
    console,
    default_sqlite_url,
    machine_note,
    median,
    percentile,
    print_table,
    verdict,
)
from _dataset import DAYS, EXTENSIONS, ensure_dataset
from callvault.api.oneuptime.mapping import Renderer, iso_ms
from callvault.api.oneuptime.models import MODELS
from callvault.api.oneuptime.query import paging, parse_query, parse_select, parse_sort
from callvault.api.oneuptime.rendering import render_records
from callvault.api.rendered import RenderedItems
from callvault.api.ringcentral.mapping import Uris
from callvault.domain.record_query import RecordQuery
from callvault.services.container import Services
from callvault.settings import Settings
from callvault.storage.engine import make_engine
from callvault.storage.incoming_calls import HOUR_MS
from callvault.storage.schema import (
    incoming_call_log_hours,
    incoming_call_log_items,
    incoming_call_logs,
    incoming_call_policies,
    incoming_call_policy_numbers,
    server_settings,
)
from listing import VARIANTS, Request, requests_for, service_page

RATIO_TARGET = 2.0
LIMIT = 100
CHUNK = 10_000
SEED = 7
_META_KEY = "bench.oneuptime"
# The endpoint's default (CALLVAULT_RENDER_CACHE_MB); main() replaces it from --render-cache-mb.
RENDER_CACHE = RenderedItems(64 << 20)
MODEL = MODELS["IncomingCallLog"]
SELECT = {
    "_id": True,
    "status": True,
    "statusMessage": True,
    "callerPhoneNumber": True,
    "routingPhoneNumber": True,
    "startedAt": True,
    "endedAt": True,
    "callDurationInSeconds": True,
    "answeredByUserId": True,
    "currentEscalationRuleOrder": True,
    "repeatCount": True,
    "incomingCallPolicy": {"name": True},
}
_POLICIES = (
    ("Support Hotline", "+16505559001"),
    ("NOC", "+16505559002"),
    ("Sales", "+16505559003"),
)


def _meta(count: int) -> str:
    return f"logs={count};days={DAYS};seed={SEED};v=1"


def _has_logs(engine: Engine, count: int) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            select(server_settings.c.value).where(server_settings.c.key == _META_KEY)
        ).scalar_one_or_none()
    return found == _meta(count)


def ensure_logs(url: str, count: int) -> None:
    """One incoming call log per stored call, with its attempts, unless already there."""
    engine = make_engine(url)
    try:
        if _has_logs(engine, count):
            console.print(f"[dim]reusing {count:,} incoming call logs[/dim]")
            _fill_hours(engine)
            return
        with engine.begin() as conn:
            for table in (incoming_call_log_items, incoming_call_logs, incoming_call_log_hours):
                conn.execute(table.delete())
            conn.execute(incoming_call_policy_numbers.delete())
            conn.execute(incoming_call_policies.delete())
            conn.execute(server_settings.delete().where(server_settings.c.key == _META_KEY))
        _bulk_logs(engine, count)
        _fill_hours(engine)
        with engine.begin() as conn:
            conn.execute(server_settings.insert().values(key=_META_KEY, value=_meta(count)))
        _analyze(engine)
    finally:
        engine.dispose()


def _fill_hours(engine: Engine) -> None:
    """The hourly log counts the engine keeps as it writes logs, from the bulk-loaded rows."""
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(incoming_call_log_hours)).scalar_one():
            return
        # One expression object, grouped by as selected: two copies would bind the hour
        # length as two parameters, which PostgreSQL cannot tell are the same expression.
        hour = (incoming_call_logs.c.started_ms // HOUR_MS).label("log_hour")
        conn.execute(
            incoming_call_log_hours.insert().from_select(
                ["account_id", "hour", "logs"],
                select(incoming_call_logs.c.account_id, hour, func.count()).group_by(
                    incoming_call_logs.c.account_id, hour
                ),
            )
        )


def _analyze(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE incoming_call_logs"))
        conn.execute(text("VACUUM ANALYZE incoming_call_log_items"))


def _policy_rows() -> list[dict[str, Any]]:
    stamp = int((DATA_END - timedelta(days=DAYS + 1)).timestamp() * 1000)
    return [
        {
            "id": str(uuid.UUID(int=(0xAB << 120) | i)),
            "account_id": ACCOUNT_ID,
            "name": name,
            "description": None,
            "slug": name.lower().replace(" ", "-"),
            "greeting_message": "Please wait while we connect you to the on-call engineer.",
            "no_answer_message": "No one is available. Please try again later.",
            "no_one_available_message": None,
            "is_enabled": True,
            "repeat_if_no_one_answers": i == 0,
            "repeat_times": 1,
            "created_ms": stamp,
            "updated_ms": stamp,
        }
        for i, (name, _) in enumerate(_POLICIES)
    ]


def _bulk_logs(engine: Engine, count: int) -> None:
    rng = random.Random(SEED)
    policies = _policy_rows()
    exts = bench_extensions(EXTENSIONS)
    span_ms = int(DAYS * 86_400_000)
    first_ms = int(DATA_END.timestamp() * 1000) - span_ms
    step = span_ms / count
    with engine.begin() as conn:
        conn.execute(incoming_call_policies.insert(), policies)
        conn.execute(
            incoming_call_policy_numbers.insert(),
            [
                {
                    "phone_number": number,
                    "policy_id": p["id"],
                    "account_id": ACCOUNT_ID,
                    "position": 0,
                }
                for p, (_, number) in zip(policies, _POLICIES, strict=True)
            ],
        )
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress:
        task = progress.add_task(
            f"{backend_label(str(engine.url))} incoming call logs", total=count
        )
        for start in range(0, count, CHUNK):
            logs, items = [], []
            for n in range(start, min(count, start + CHUNK)):
                started = first_ms + int(n * step + rng.random() * step)
                log, attempts = _one_log(rng, n, started, policies, exts)
                logs.append(log)
                items.extend(attempts)
            with engine.begin() as conn:
                conn.execute(incoming_call_logs.insert(), logs)
                conn.execute(incoming_call_log_items.insert(), items)
            progress.advance(task, len(logs))


def _one_log(
    rng: random.Random, n: int, started: int, policies: Sequence[dict[str, Any]], exts: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    policy = policies[rng.randrange(len(policies))]
    log_id = str(uuid.UUID(int=(0xCA << 120) | n))
    roll = rng.random()
    tries = rng.choice((1, 1, 1, 2, 2, 3))
    answered = roll < 0.7
    status = (
        "Completed"
        if answered
        else "NoAnswer"
        if roll < 0.85
        else "CallerHungUp"
        if roll < 0.95
        else "Failed"
    )
    if status == "Failed":
        tries = 0
    t = started + 4_000
    items = []
    answerer = None
    for k in range(1, tries + 1):
        ext = exts[rng.randrange(len(exts))]
        last = k == tries
        if last and answered:
            ring, talk, item_status, dial = (
                rng.randint(3, 20),
                rng.randint(20, 900),
                "Connected",
                "completed",
            )
            answerer = ext.id
        elif last and status == "CallerHungUp":
            ring, talk, item_status, dial = rng.randint(2, 20), 0, "CallerHungUp", "canceled"
        else:
            ring, talk = 30, 0
            item_status, dial = (
                ("Busy", "busy") if rng.random() < 0.2 else ("NoAnswer", "no-answer")
            )
        end = t + (ring + talk) * 1000
        items.append(
            {
                "id": str(uuid.UUID(int=(0xCB << 120) | (n << 4) | k)),
                "account_id": ACCOUNT_ID,
                "log_id": log_id,
                "attempt": k,
                "rule_id": None,
                "extension_id": ext.id,
                "user_phone_number": f"+1415555{ext.number.zfill(4)}",
                "status": item_status,
                "status_message": dial,
                "dial_duration_s": talk,
                "cost_cents": 0,
                "started_ms": t,
                "answered_ms": t + ring * 1000 if talk else None,
                "ended_ms": end,
                "is_answered": bool(talk),
                "provider_leg_id": None,
                "created_ms": t,
                "updated_ms": end,
            }
        )
        t = end + 2_000
    ended = t
    log = {
        "id": log_id,
        "account_id": ACCOUNT_ID,
        "policy_id": policy["id"],
        "provider": "twilio",
        "caller_number": f"+1{rng.choice((415, 510, 512, 303, 617))}555{rng.randint(0, 9999):04d}",
        "routing_number": _POLICIES[policies.index(policy)][1],
        "provider_call_id": f"CA{n:032x}",
        "status": status,
        "status_message": "No on-call user available in any escalation rule"
        if status == "Failed"
        else None,
        "duration_s": (ended - started) // 1000,
        "cost_cents": 0,
        "incoming_cost_cents": 0,
        "outgoing_cost_cents": 0,
        "started_ms": started,
        "ended_ms": ended,
        "answered_by_extension_id": answerer,
        "current_rule_order": max(tries, 1),
        "repeat_count": 0,
        "created_ms": started,
        "updated_ms": ended,
    }
    return log, items


# -- the two sides ----------------------------------------------------------------------------


def oneuptime_body(req: Request) -> dict[str, Any]:
    lo = int(req.date_from.timestamp() * 1000)
    hi = int(req.date_to.timestamp() * 1000)
    return {
        "select": SELECT,
        "query": {
            "startedAt": {"_type": "InBetween", "startValue": iso_ms(lo), "endValue": iso_ms(hi)}
        },
        "sort": {"startedAt": "DESC"},
        "limit": LIMIT,
        "skip": 0,
    }


def oneuptime_page(services: Services, raw: bytes) -> bytes:
    """What ``POST /api/incoming-call-log/get-list`` does between reading and sending."""
    body = orjson.loads(raw)
    projection = parse_select(MODEL, body.get("select"))
    query = RecordQuery(
        entity=MODEL.entity,
        account_id=ACCOUNT_ID,
        fields=projection.fields(),
        relations=projection.relation_fields(),
        where=parse_query(MODEL, body.get("query")),
        order=parse_sort(MODEL, body.get("sort")),
    )
    query.limit, query.offset = paging({}, body, services.settings.oneuptime_max_limit)
    total, records = services.records.list(query)
    data = render_records(RENDER_CACHE, Renderer(MODEL, projection), records)
    return orjson.dumps({"count": total, "limit": query.limit, "skip": query.offset, "data": data})


def _time_ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure(services: Services, iterations: int) -> tuple[list[float], list[float], int, int]:
    variant = VARIANTS[0]  # company log, Simple view
    reqs = requests_for(variant)
    bodies = [orjson.dumps(oneuptime_body(r)) for r in reqs]
    uris = Uris("http://127.0.0.1", "http://127.0.0.1", ACCOUNT_ID)
    for req, body in zip(reqs, bodies, strict=True):  # warm-up
        oneuptime_page(services, body)
        service_page(services, uris, variant, req)
    sample = orjson.loads(oneuptime_page(services, bodies[0]))
    ou_ms: list[float] = []
    rc_ms: list[float] = []
    gc.collect()
    for i in range(iterations):
        req, body = reqs[i % len(reqs)], bodies[i % len(bodies)]

        def ou(body: bytes = body) -> bytes:
            return oneuptime_page(services, body)

        def rc(req: Request = req) -> bytes:
            return service_page(services, uris, variant, req)

        # Alternate which side runs first so neither always gets the warmer cache.
        if i % 2 == 0:
            ou_ms.append(_time_ms(ou))
            rc_ms.append(_time_ms(rc))
        else:
            rc_ms.append(_time_ms(rc))
            ou_ms.append(_time_ms(ou))
    return ou_ms, rc_ms, len(sample["data"]), sample["count"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="stored calls and logs")
    parser.add_argument("--iterations", type=int, default=400, help="pages per side")
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite:///file or postgresql://…/db (PostgreSQL: schema listing_<calls>). "
        "Default: bench/data/oneuptime-<calls>.sqlite",
    )
    parser.add_argument(
        "--render-cache-mb",
        type=int,
        default=64,
        help="the cache of rendered records, for both sides (CALLVAULT_RENDER_CACHE_MB; "
        "default 64 as shipped; 0: every record rendered on every page)",
    )
    parser.add_argument("--generate-only", action="store_true", help="build the data set, exit")
    parser.add_argument("--quick", action="store_true", help="smoke check: 20k calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.iterations = 20_000, 40
    # Its own copy of the listing data set (the logs are added to it), unless told otherwise.
    default = default_sqlite_url(f"oneuptime-{args.calls}.sqlite")
    url = ensure_dataset(args.database_url or default, args.calls)
    ensure_logs(url, args.calls)
    if args.generate_only:
        return
    label = backend_label(url)
    global RENDER_CACHE
    # Both sides alike: warm compares with warm, cold with cold.
    RENDER_CACHE = RenderedItems(args.render_cache_mb << 20)
    listing.RENDER_CACHE = RenderedItems(args.render_cache_mb << 20)
    console.print(
        f"oneuptime get-list: {label}, {args.calls:,} calls, render cache "
        f"{args.render_cache_mb} MiB; {machine_note()}"
    )
    services = Services.build(Settings(database_url=url))
    try:
        ou, rc, rows, total = measure(services, args.iterations)
    finally:
        services.close()
    ou_p50, rc_p50 = median(ou), median(rc)
    ou_p99, rc_p99 = percentile(ou, 99), percentile(rc, 99)
    ok = ou_p50 <= RATIO_TARGET * rc_p50 and ou_p99 <= RATIO_TARGET * rc_p99
    print_table(
        f"{label}, {args.calls:,} calls, render cache {args.render_cache_mb} MiB: ms per page, "
        f"{args.iterations} pages per side "
        f"(OneUptime page: {rows} rows of {total:,} counted)",
        ("query", "p50", "p99"),
        [
            ("OneUptime get-list (count + page)", f"{ou_p50:.2f}", f"{ou_p99:.2f}"),
            ("RingCentral company log, Simple", f"{rc_p50:.2f}", f"{rc_p99:.2f}"),
            (
                f"ratio (target ≤ {RATIO_TARGET:.0f}x) {verdict(ok)}",
                f"{ou_p50 / rc_p50:.2f}x",
                f"{ou_p99 / rc_p99:.2f}x",
            ),
        ],
    )


if __name__ == "__main__":
    main()

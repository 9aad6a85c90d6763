"""PortSIP CDR filter queries at 1M stored calls, against the equivalent RingCentral list query.

In process, per request, what each endpoint does between reading the query string and sending
the body. PortSIP: ``list_options`` (filter parsed and compiled to SQL) +
``TargetService.list_stored`` (the page and its total ``count``, both over ``call_targets``) +
each item rendered (or reused) through the process's ``RenderedItems`` + ``orjson``.
RingCentral: bench/listing.py's ``service_page`` (the list through the same ``RenderedItems``;
no total count). The two alternate; 7-day windows spread over the data set.

    /api/cdrs?filter=started_at ge '…' and started_at lt '…' and direction eq 'INBOUND_CALL'
      vs /account/~/call-log?dateFrom=…&dateTo=…&direction=Inbound&perPage=100   (company)
    /api/user/cdrs?filter=(same)   vs   /account/~/extension/{id}/call-log?(same)  (extension)

Warm (default, as shipped): the total is kept per filter until the account's change number
moves (``TotalCache`` in services/targets.py) and rendered items are kept while their rows are
unchanged; each window's first request, in the warm-up, counts and renders, and the measured
requests repeat it, as a client paging through or polling a filter with no write in between
does; the table says how many measured requests ran the COUNT. ``--cold``: nothing kept, on
either side: the total cache is emptied before each PortSIP request (outside the timing) and
no rendered items are kept, so every request counts, decodes and maps.

The data set is bench/_dataset.py's (same generator and seed), kept in its own file so that
adding the ``call_targets`` rows (migration 0006's backfill) leaves the listing data set alone.

    .venv/bin/python bench/portsip_query.py                # SQLite, 1M calls, warm cache
    .venv/bin/python bench/portsip_query.py --cold         # nothing kept, on either side
    .venv/bin/python bench/portsip_query.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench_portsip

On PostgreSQL pass a database of its own: the data set goes to its schema ``listing_<calls>``,
the name bench/listing.py uses in its database.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import select, text

import listing
from _common import (
    ACCOUNT_ID,
    backend_label,
    console,
    default_sqlite_url,
    machine_note,
    median,
    percentile,
    print_table,
    verdict,
)
from _dataset import ensure_dataset
from callvault.api.portsip.mapping import portsip_time
from callvault.api.portsip.params import list_options
from callvault.api.portsip.rendering import render_targets
from callvault.api.portsip.schemas import CDR_SUMMARY
from callvault.api.rendered import RenderedItems
from callvault.api.ringcentral.mapping import Uris
from callvault.domain.target_query import TargetQuery
from callvault.services.container import Services
from callvault.services.targets import TargetService, TotalCache
from callvault.settings import Settings
from callvault.storage.schema import call_targets
from callvault.storage.targets import backfill_targets
from listing import VARIANTS, Request, requests_for, service_page

RATIO_TARGET = 2.0
BASE_URL = "http://127.0.0.1"


@dataclass(slots=True, frozen=True)
class Case:
    scope: str  # "company" or "extension"

    @property
    def rc_variant(self) -> Any:
        return next(v for v in VARIANTS if v.scope == self.scope and v.view == "Simple")


CASES = (Case("company"), Case("extension"))


def portsip_query_string(req: Request) -> str:
    """The query string a PortSIP client sends for the same window and direction."""
    window = (
        f"started_at ge '{portsip_time(req.date_from)}' and "
        f"started_at lt '{portsip_time(req.date_to)}' and direction eq 'INBOUND_CALL'"
    )
    return urlencode({"filter": window, "top": "100"})


def portsip_query(req: Request) -> TargetQuery:
    opts = list_options(portsip_query_string(req))
    return TargetQuery(
        account_id=ACCOUNT_ID,
        extension_id=req.extension_id,
        where=opts.where,
        search=opts.search,
        order=opts.order,
        offset=opts.skip,
        limit=opts.top,
    )


def portsip_page(targets: TargetService, req: Request) -> bytes:
    """What ``/api/cdrs`` (or ``/api/user/cdrs``) does after authentication: the page and its
    total, each item rendered or reused through the process's cache of rendered items (the
    one ``listing.service_page`` uses, as in the server)."""
    refs, total = targets.list_stored(portsip_query(req))
    items = render_targets(listing.RENDER_CACHE, refs, CDR_SUMMARY)
    return orjson.dumps({"count": total, "items": items})


def ensure_targets(services: Services) -> None:
    """Write the target rows of a data set loaded around the write path, once."""
    with services.db.read() as conn:
        have = conn.execute(
            select(call_targets.c.pk).where(call_targets.c.account_id == ACCOUNT_ID).limit(1)
        ).first()
    if have:
        return
    console.print("writing call_targets rows for the data set (once) …")
    t0 = time.perf_counter()
    with services.db.write() as conn:
        calls = backfill_targets(conn, batch=5000)
    console.print(f"[dim]{calls:,} calls backfilled in {time.perf_counter() - t0:.0f} s[/dim]")
    engine = services.db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE call_targets"))


@dataclass(slots=True)
class Timing:
    case: Case
    portsip_ms: list[float]
    rc_ms: list[float]
    count_ms: list[float]  # what the COUNT alone costs (uncached), for comparison
    sizes: tuple[int, int, int]  # PortSIP items, their total count, RC records
    counted: int  # measured PortSIP requests that ran the COUNT (cache misses)


def _ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure(services: Services, case: Case, iterations: int, *, cold: bool) -> Timing:
    # A cache of its own, empty at the start, whatever ran before in this process.
    totals = TotalCache()
    targets = TargetService(services.db, services.oauth.secret_key, totals=totals)
    uris = Uris(BASE_URL, BASE_URL, ACCOUNT_ID)
    variant = case.rc_variant
    reqs = requests_for(variant)
    for req in reqs:  # warm-up: page cache, statement caches, pool
        portsip_page(targets, req)
        service_page(services, uris, variant, req)
    first = orjson.loads(portsip_page(targets, reqs[0]))
    rc_first = orjson.loads(service_page(services, uris, variant, reqs[0]))
    sizes = (len(first["items"]), first["count"], len(rc_first["records"]))
    out = Timing(case, [], [], [], sizes, 0)
    misses = totals.misses
    gc.collect()
    for i in range(iterations):
        req = reqs[i % len(reqs)]

        def ps(req: Request = req) -> bytes:
            if cold:
                totals.clear()
            t0 = time.perf_counter()
            body = portsip_page(targets, req)
            out.portsip_ms.append((time.perf_counter() - t0) * 1000)
            return body

        def rc(req: Request = req) -> bytes:
            return service_page(services, uris, variant, req)

        # Alternate which side runs first so neither always gets the warmer page cache.
        if i % 2 == 0:
            ps()
            out.rc_ms.append(_ms(rc))
        else:
            out.rc_ms.append(_ms(rc))
            ps()
        if i % 4 == 0:
            query = portsip_query(req)
            out.count_ms.append(_ms(lambda query=query: targets.store.count(query)))
    out.counted = totals.misses - misses
    return out


def report(
    label: str, calls: int, iterations: int, timings: Sequence[Timing], *, cold: bool
) -> None:
    rows = []
    for t in timings:
        p50, p99 = median(t.portsip_ms), percentile(t.portsip_ms, 99)
        r50, r99 = median(t.rc_ms), percentile(t.rc_ms, 99)
        items, count, records = t.sizes
        rows.append(
            (
                t.case.scope,
                f"{items} of {count:,} / {records}",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{t.counted} / {len(t.portsip_ms)}",
                f"{median(t.count_ms):.2f}",
                f"{r50:.2f}",
                f"{r99:.2f}",
                f"{p50 / r50:.2f}x",
                f"{p99 / r99:.2f}x",
                verdict(p50 / r50 <= RATIO_TARGET and p99 / r99 <= RATIO_TARGET),
            )
        )
    cache = "cold total cache: emptied before each request" if cold else "warm total cache"
    print_table(
        f"{label}, {calls:,} calls, {cache}: ms per page, PortSIP filter query vs RingCentral "
        f"list (median and p99 of {iterations})",
        (
            "scope",
            "items (of count) / RC records",
            "PortSIP p50",
            "PortSIP p99",
            "COUNTs run",
            "COUNT alone p50",
            "RC p50",
            "RC p99",
            "p50 ratio",
            "p99 ratio",
            f"≤ {RATIO_TARGET:.0f}x",
        ),
        rows,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="stored calls")
    parser.add_argument("--iterations", type=int, default=400, help="pages per side")
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite:///file or postgresql://…/db (PostgreSQL: schema listing_<calls>, so use "
        "a database of its own). Default: bench/data/portsip-calls-<calls>.sqlite",
    )
    parser.add_argument("--quick", action="store_true", help="smoke check: 20k calls")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="nothing kept: the PortSIP total cache emptied before each request and no "
        "rendered items kept on either side (every page counted, decoded and mapped); "
        "default: warm, as shipped (each window counted and rendered once in the warm-up)",
    )
    args = parser.parse_args(argv)
    if args.cold:
        listing.RENDER_CACHE = RenderedItems(0)
    if args.quick:
        args.calls, args.iterations = 20_000, 40
    where = args.database_url or default_sqlite_url(f"portsip-calls-{args.calls}.sqlite")
    url = ensure_dataset(where, args.calls)
    label = backend_label(url)
    mode = "cold" if args.cold else "warm"
    console.print(f"portsip_query: {label}, {args.calls:,} calls, {mode}; {machine_note()}")
    services = Services.build(Settings(database_url=url))
    try:
        ensure_targets(services)
        timings = [measure(services, case, args.iterations, cold=args.cold) for case in CASES]
    finally:
        services.close()
    report(label, args.calls, args.iterations, timings, cold=args.cold)


if __name__ == "__main__":
    main()

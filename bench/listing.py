"""Call-log list latency at 1M stored calls: server-side work vs the bare SQL for the same page.

In process, per request: what the list endpoint does: ``CallService.list_stored(query)``, each
record rendered through the process's ``RenderedItems`` cache (decoded and mapped with
``record_to_wire`` on a miss, reused while unchanged on a hit) and ``orjson.dumps`` of the page,
against the same SELECT (LIMIT 100, plus the legs SELECT for the Detailed view) on the same
engine with the rows fetched. ``--render-cache-mb 0`` measures every page cold (no reuse).
Over HTTP (one uvicorn worker in a subprocess, driven by ``wrk`` on loopback, or an httpx loop
when wrk is absent): request rate against a bare Python loop that runs the same SQL and
serializes the page with orjson.

Queries: 7-day windows spread over the data set, ``direction=Inbound``, ``perPage=100``, company
log and an extension's log, Simple and Detailed.

    .venv/bin/python bench/listing.py                  # SQLite, 1M calls (generated once)
    .venv/bin/python bench/listing.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench
    .venv/bin/python bench/listing.py --render-cache-mb 0   # every record decoded and mapped
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from sqlalchemy import Connection, Engine, Select, bindparam, false, select

from _common import (
    ACCOUNT_ID,
    ADMIN_PASSWORD,
    DATA_END,
    MAIN_NUMBER,
    backend_label,
    bench_extensions,
    console,
    machine_note,
    median,
    percentile,
    print_table,
    verdict,
)
from _dataset import EXTENSIONS, ensure_dataset
from callvault.api.rendered import RenderedItems
from callvault.api.ringcentral.mapping import API, Uris, rc_time
from callvault.api.ringcentral.rendering import render_record
from callvault.domain.enums import Direction
from callvault.domain.query import CallQuery
from callvault.services.container import Services
from callvault.settings import RateLimitProfile, Settings
from callvault.storage.schema import call_details, calls

RATIO_TARGET = 3.0
P99_TARGET_MS = 30.0
HTTP_TARGET = 0.4
PER_PAGE = 100
WINDOWS = 10
BASE_URL = "http://127.0.0.1"
# The endpoint's default (CALLVAULT_RENDER_CACHE_MB); main() replaces it from --render-cache-mb.
RENDER_CACHE = RenderedItems(64 << 20)


@dataclass(slots=True, frozen=True)
class Variant:
    scope: str  # "company" or "extension"
    view: str  # "Simple" or "Detailed"

    @property
    def label(self) -> str:
        return f"{self.scope} {self.view}"

    @property
    def detailed(self) -> bool:
        return self.view == "Detailed"


VARIANTS = (
    Variant("company", "Simple"),
    Variant("company", "Detailed"),
    Variant("extension", "Simple"),
    Variant("extension", "Detailed"),
)


def windows() -> list[tuple[datetime, datetime]]:
    """7-day windows spread over the 120 days, so pages come from all over the table."""
    out = []
    for k in range(WINDOWS):
        end = DATA_END - timedelta(days=11 * k)
        out.append((end - timedelta(days=7), end))
    return out


@dataclass(slots=True, frozen=True)
class Request:
    """One list request: the window and, for extension logs, whose log."""

    date_from: datetime
    date_to: datetime
    extension_id: int | None

    def query(self, variant: Variant) -> CallQuery:
        return CallQuery(
            account_id=ACCOUNT_ID,
            extension_id=self.extension_id,
            date_from=self.date_from,
            date_to=self.date_to,
            directions=frozenset({Direction.INBOUND}),
            per_page=PER_PAGE,
            with_legs=variant.detailed,
        )

    def path(self, variant: Variant) -> str:
        owner = "/account/~"
        if self.extension_id is not None:
            owner += f"/extension/{self.extension_id}"
        params = {
            "view": variant.view,
            "direction": "Inbound",
            "dateFrom": rc_time(self.date_from),
            "dateTo": rc_time(self.date_to),
            "perPage": str(PER_PAGE),
        }
        return f"{API}{owner}/call-log?{urlencode(params)}"


def requests_for(variant: Variant) -> list[Request]:
    exts = bench_extensions(EXTENSIONS)
    out = []
    for n, (lo, hi) in enumerate(windows()):
        ext = exts[(n * 7) % len(exts)].id if variant.scope == "extension" else None
        out.append(Request(lo, hi, ext))
    return out


# -- the two sides ---------------------------------------------------------------------------


def service_page(services: Services, uris: Uris, variant: Variant, req: Request) -> bytes:
    """What the list endpoint does between parsing the query and sending the body."""
    query = req.query(variant)
    page = services.calls.list_stored(query)
    records = [
        render_record(RENDER_CACHE, r, uris, view=variant.view, log_extension_id=req.extension_id)
        for r in page.items
    ]
    body: dict[str, Any] = {"records": records, "paging": {"page": 1, "perPage": PER_PAGE}}
    return orjson.dumps(body)


class BareQueries:
    """The same SELECTs the store issues, prepared once with bind parameters."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        c = calls.c
        cols = (c.pk, c.record_id, c.summary, c.deleted, c.modified_ms, c.content_hash)
        common = (
            c.account_id == bindparam("account_id"),
            c.start_ms >= bindparam("lo"),
            c.start_ms <= bindparam("hi"),
            c.direction.in_(bindparam("dirs", expanding=True)),
            c.deleted == false(),
        )
        order = (c.start_ms.desc(), c.pk.desc())
        self.company: Select[Any] = select(*cols).where(*common).order_by(*order).limit(PER_PAGE)
        self.extension: Select[Any] = (
            select(*cols)
            .where(*common, c.owner_extension_id == bindparam("ext"))
            .order_by(*order)
            .limit(PER_PAGE)
        )
        self.legs: Select[Any] = select(call_details.c.call_pk, call_details.c.legs).where(
            call_details.c.call_pk.in_(bindparam("pks", expanding=True))
        )

    def fetch(
        self, conn: Connection, variant: Variant, req: Request
    ) -> tuple[Sequence[Any], dict[int, bytes]]:
        params: dict[str, Any] = {
            "account_id": ACCOUNT_ID,
            "lo": int(req.date_from.timestamp() * 1000),
            "hi": int(req.date_to.timestamp() * 1000),
            "dirs": ["Inbound"],
        }
        stmt = self.company
        if req.extension_id is not None:
            stmt, params["ext"] = self.extension, req.extension_id
        rows = conn.execute(stmt, params).all()
        legs: dict[int, bytes] = {}
        if variant.detailed and rows:
            legs = dict(conn.execute(self.legs, {"pks": [r.pk for r in rows]}).all())
        return rows, legs

    def page(self, variant: Variant, req: Request) -> int:
        """Bare SQL: run the page's SELECTs and fetch the rows; returns the row count."""
        with self.engine.connect() as conn:
            rows, _ = self.fetch(conn, variant, req)
        return len(rows)

    def serialized(self, variant: Variant, req: Request) -> bytes:
        """Bare SQL plus orjson: the stored JSON blobs parsed and the page dumped."""
        with self.engine.connect() as conn:
            rows, legs = self.fetch(conn, variant, req)
        records = []
        for r in rows:
            item = orjson.loads(r.summary)
            if variant.detailed:
                item["legs"] = orjson.loads(legs[r.pk])
            records.append(item)
        return orjson.dumps({"records": records, "paging": {"page": 1, "perPage": PER_PAGE}})


# -- in-process latency -----------------------------------------------------------------------


@dataclass(slots=True)
class Latency:
    """Wall and CPU milliseconds per page for each side (CPU: this thread's CPU time)."""

    variant: Variant
    service_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    service_cpu_ms: list[float] = field(default_factory=list)
    bare_cpu_ms: list[float] = field(default_factory=list)


def _time_ms(fn: Callable[[], Any], wall: list[float], cpu: list[float]) -> None:
    c0, t0 = time.thread_time(), time.perf_counter()
    fn()
    wall.append((time.perf_counter() - t0) * 1000)
    cpu.append((time.thread_time() - c0) * 1000)


def measure_latency(
    services: Services, bare: BareQueries, variant: Variant, iterations: int, *, freeze: bool
) -> Latency:
    uris = Uris(BASE_URL, BASE_URL, ACCOUNT_ID)
    reqs = requests_for(variant)
    # Warm-up: page cache, statement caches, connection pool.
    for req in reqs:
        service_page(services, uris, variant, req)
        bare.page(variant, req)
    out = Latency(variant)
    gc.collect()
    if freeze:
        gc.freeze()
    for i in range(iterations):
        req = reqs[i % len(reqs)]

        def svc(req: Request = req) -> bytes:
            return service_page(services, uris, variant, req)

        def raw(req: Request = req) -> int:
            return bare.page(variant, req)

        # Alternate which side runs first so neither always gets the warmer cache.
        if i % 2 == 0:
            _time_ms(svc, out.service_ms, out.service_cpu_ms)
            _time_ms(raw, out.bare_ms, out.bare_cpu_ms)
        else:
            _time_ms(raw, out.bare_ms, out.bare_cpu_ms)
            _time_ms(svc, out.service_ms, out.service_cpu_ms)
    return out


# -- HTTP ------------------------------------------------------------------------------------


class Server:
    """``callvault serve`` (one uvicorn worker) in a subprocess on a free loopback port."""

    def __init__(self, database_url: str, render_cache_mb: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            CALLVAULT_DATABASE_URL=database_url,
            # Rate limits are per user and the benchmark is one user sending thousands of
            # requests a minute; "off" skips the limiter (and its headers) entirely.
            CALLVAULT_RATE_LIMITS=RateLimitProfile.OFF.value,
            CALLVAULT_RENDER_CACHE_MB=str(render_cache_mb),
        )
        cli = Path(sys.executable).with_name("callvault")
        self.proc = subprocess.Popen(
            [str(cli), "serve", "--port", str(self.port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
        )

    def wait_ready(self, path: str, token: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("server exited during start-up")
            try:
                r = httpx.get(self.base + path, headers=headers, timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if r.status_code != 200:
                raise SystemExit(f"server answered {r.status_code}: {r.text[:300]}")
            if not r.json()["records"]:
                raise SystemExit("server returned an empty page: wrong data set?")
            return
        raise SystemExit("server did not start in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def access_token(services: Services) -> str:
    issued = services.accounts.create_app(ACCOUNT_ID, "bench listing")
    app = services.oauth.authenticate_client(issued.client_id, issued.client_secret, basic=True)
    tokens = services.oauth.password_grant(app, f"{MAIN_NUMBER}*101", ADMIN_PASSWORD)
    return tokens.access_token


_WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = "Bearer %(token)s"})
end
done = function(summary, latency, requests)
  local p50, p99 = latency:percentile(50), latency:percentile(99)
  io.write(string.format("p50_us=%%d p99_us=%%d\\n", p50, p99))
end
"""


@dataclass(slots=True)
class HttpRun:
    rate: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    # Requests per second of server CPU (user + system time of the server process).
    cpu_rate: float | None = None


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` from /proc (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_rate_wrk(server: Server, token: str, paths: Sequence[str], seconds: float) -> HttpRun:
    """Sequential requests (1 thread, 1 connection) for ``seconds``, cycling over ``paths``."""
    script = _WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "token": token}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cpu0 = process_cpu_seconds(server.proc.pid)
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c1", f"-d{seconds:g}s", "-s", f.name, server.base + paths[0]],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(f.name)
    cpu = process_cpu_seconds(server.proc.pid) - cpu0
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw non-200 responses:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu_rate = done / cpu if cpu > 0 else None
    lat = re.search(r"p50_us=(\d+) p99_us=(\d+)", out)
    if lat is None:
        return HttpRun(rate, cpu_rate=cpu_rate)
    return HttpRun(rate, int(lat.group(1)) / 1000, int(lat.group(2)) / 1000, cpu_rate)


def http_rate_httpx(server: Server, token: str, paths: Sequence[str], seconds: float) -> HttpRun:
    """Sequential requests from an httpx client for ``seconds`` (slower than wrk)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base, headers=headers) as client:
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds:
            r = client.get(paths[n % len(paths)])
            if r.status_code != 200:
                raise SystemExit(f"server answered {r.status_code}")
            n += 1
        return HttpRun(n / elapsed)


def bare_loop_rate(
    bare: BareQueries, variant: Variant, reqs: Sequence[Request], seconds: float
) -> tuple[float, float]:
    """Pages per wall second and per CPU second of a bare loop: the page's SQL, the stored
    blobs parsed, the page dumped with orjson."""
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - t0) < seconds:
        bare.serialized(variant, reqs[n % len(reqs)])
        n += 1
    return n / elapsed, n / max(time.process_time() - c0, 1e-9)


@dataclass(slots=True)
class HttpResult:
    variant: Variant
    http: list[HttpRun] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)

    def add_bare(self, rates: tuple[float, float]) -> None:
        self.bare.append(rates[0])
        self.bare_cpu.append(rates[1])


def measure_http(
    url: str,
    services: Services,
    bare: BareQueries,
    rounds: int,
    seconds: float,
    driver: str,
    render_cache_mb: int,
) -> list[HttpResult]:
    token = access_token(services)
    server = Server(url, render_cache_mb)
    run = http_rate_wrk if driver == "wrk" else http_rate_httpx
    results = []
    try:
        server.wait_ready(requests_for(VARIANTS[0])[0].path(VARIANTS[0]), token)
        for variant in VARIANTS:
            reqs = requests_for(variant)
            paths = [r.path(variant) for r in reqs]
            run(server, token, paths, 1)  # warm-up
            bare_loop_rate(bare, variant, reqs, 1)
            res = HttpResult(variant)
            for n in range(rounds):
                if n % 2 == 0:
                    res.http.append(run(server, token, paths, seconds))
                    res.add_bare(bare_loop_rate(bare, variant, reqs, seconds))
                else:
                    res.add_bare(bare_loop_rate(bare, variant, reqs, seconds))
                    res.http.append(run(server, token, paths, seconds))
            console.print(
                f"[dim]{variant.label}: http {[round(h.rate) for h in res.http]} req/s, "
                f"bare loop {[round(b) for b in res.bare]} pages/s[/dim]"
            )
            results.append(res)
    finally:
        server.stop()
    return results


# -- main ------------------------------------------------------------------------------------


def page_sizes(services: Services, variant: Variant) -> tuple[int, int]:
    """Records on the first request's page and its body size in bytes."""
    req = requests_for(variant)[0]
    body = service_page(services, Uris(BASE_URL, BASE_URL, ACCOUNT_ID), variant, req)
    return len(orjson.loads(body)["records"]), len(body)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="stored calls")
    parser.add_argument("--rounds", type=int, default=3, help="alternating HTTP/bare rounds")
    parser.add_argument("--iterations", type=int, default=400, help="in-process pages per side")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="length of each HTTP and bare-loop run"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite:///file or postgresql://…/db (PostgreSQL: schema listing_<calls>). "
        "Default: bench/data/calls-<calls>.sqlite",
    )
    parser.add_argument(
        "--driver",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="HTTP load driver (auto: wrk when installed)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="in process: gc.freeze() the warmed-up heap before measuring (what a server can "
        "do once after start-up); the HTTP server is not affected",
    )
    parser.add_argument(
        "--render-cache-mb",
        type=int,
        default=64,
        help="the list endpoint's cache of rendered records, in process and in the HTTP server "
        "(CALLVAULT_RENDER_CACHE_MB; default 64 as shipped; 0: every page decoded and mapped)",
    )
    parser.add_argument("--generate-only", action="store_true", help="build the data set, exit")
    parser.add_argument("--quick", action="store_true", help="smoke check: 20k calls, short runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds, args.iterations, args.seconds = 20_000, 1, 40, 1.0
    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") else "httpx"

    url = ensure_dataset(args.database_url, args.calls)
    if args.generate_only:
        return
    label = backend_label(url)
    global RENDER_CACHE
    RENDER_CACHE = RenderedItems(args.render_cache_mb << 20)
    console.print(
        f"listing: {label}, {args.calls:,} calls, render cache {args.render_cache_mb} MiB; "
        f"{machine_note()}"
    )
    services = Services.build(Settings(database_url=url))
    try:
        bare = BareQueries(services.db.engine)
        latencies = [
            measure_latency(services, bare, v, args.iterations, freeze=args.gc_freeze)
            for v in VARIANTS
        ]
        sizes = {v: page_sizes(services, v) for v in VARIANTS}
        http = (
            []
            if args.no_http
            else measure_http(
                url, services, bare, args.rounds, args.seconds, driver, args.render_cache_mb
            )
        )
    finally:
        services.close()
    report(label, args, latencies, sizes, http, driver)


def report(
    label: str,
    args: argparse.Namespace,
    latencies: Sequence[Latency],
    sizes: dict[Variant, tuple[int, int]],
    http: Sequence[HttpResult],
    driver: str,
) -> None:
    # On SQLite the whole page (SQL included) runs on this thread, so its CPU time is the
    # page's cost free of waiting for a core on a shared machine; the verdicts use it. On
    # PostgreSQL the SQL runs in the server process, so only wall time compares like with like.
    use_cpu = label == "SQLite"
    basis = "CPU" if use_cpu else "wall"
    rows: list[tuple[str, ...]] = []
    for lat in latencies:
        s_med, b_med = median(lat.service_ms), median(lat.bare_ms)
        s_p99 = percentile(lat.service_ms, 99)
        sc_med, bc_med = median(lat.service_cpu_ms), median(lat.bare_cpu_ms)
        sc_p99 = percentile(lat.service_cpu_ms, 99)
        records, size = sizes[lat.variant]
        ratio, p99 = (sc_med / bc_med, sc_p99) if use_cpu else (s_med / b_med, s_p99)
        rows.append(
            (
                lat.variant.label,
                f"{records} / {size / 1024:.0f} KiB",
                f"{s_med:.2f}",
                f"{s_p99:.2f}",
                f"{b_med:.2f}",
                f"{s_med / b_med:.2f}x",
                f"{sc_med:.2f}",
                f"{sc_p99:.2f}",
                f"{bc_med:.2f}",
                f"{sc_med / bc_med:.2f}x",
                verdict(ratio <= RATIO_TARGET),
                verdict(p99 < P99_TARGET_MS),
            )
        )
    print_table(
        f"{label}, {args.calls:,} calls, render cache {args.render_cache_mb} MiB: server-side "
        f"ms per page, median of {args.iterations} (verdicts on {basis} time)"
        f"{', heap frozen' if args.gc_freeze else ''}",
        (
            "log, view",
            "records / body",
            "service wall",
            "wall p99",
            "bare SQL wall",
            "wall ratio",
            "service CPU",
            "CPU p99",
            "bare SQL CPU",
            "CPU ratio",
            f"≤ {RATIO_TARGET:.0f}x",
            f"p99 < {P99_TARGET_MS:.0f} ms",
        ),
        rows,
    )
    if not http:
        return
    rows = []
    for res in http:
        h, b = median([r.rate for r in res.http]), median(res.bare)
        cpu_rates = [r.cpu_rate for r in res.http if r.cpu_rate is not None]
        hc = median(cpu_rates) if cpu_rates else float("nan")
        bc = median(res.bare_cpu)
        p99s = [r.p99_ms for r in res.http if r.p99_ms is not None]
        rows.append(
            (
                res.variant.label,
                f"{h:,.0f}",
                f"{max(p99s):.1f}" if p99s else "-",
                f"{b:,.0f}",
                f"{h / b:.0%}",
                f"{hc:,.0f}",
                f"{bc:,.0f}",
                f"{hc / bc:.0%}",
                verdict(h / b >= HTTP_TARGET),
                verdict(hc / bc >= HTTP_TARGET),
            )
        )
    print_table(
        f"{label}, {args.calls:,} calls, render cache {args.render_cache_mb} MiB: HTTP, one "
        f"uvicorn worker, {driver} 1 connection, "
        f"{args.seconds:g} s x {args.rounds} rounds (median); CPU = per second of CPU time "
        "of the server process / of the bare loop",
        (
            "log, view",
            "HTTP req/s",
            "HTTP p99 ms",
            "bare pages/s",
            "wall ratio",
            "HTTP req/CPU-s",
            "bare pages/CPU-s",
            "CPU ratio",
            f"wall ≥ {HTTP_TARGET:.0%}",
            f"CPU ≥ {HTTP_TARGET:.0%}",
        ),
        rows,
    )


if __name__ == "__main__":
    main()

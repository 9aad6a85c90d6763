"""ISync soak: call-log sync clients keep up with a store receiving 500 records/s, and see every
record exactly once.

Writer processes call ``IngestService.ingest`` (the path the native API, imports and the live
correlator share) with realistic records at a steady total rate, and re-send a share of recent
records with a correction. Every record carries its version in ``reasonDescription`` (``v0``,
then ``v1`` …). The real app serves on loopback from its own process. Two readers sync over
HTTP: the company log and extension 101's log, each one FSync and then an ISync every
``--interval`` seconds until the writers stop, plus one ISync after that. Writers run at a
lower priority than the server and readers.

A reader passes when it saw every record of its log, never the same version of a record twice,
the versions of a record only in increasing order, and the final version of every record; and
no ISync was refused. Exit status 1 when a reader fails. The rate the writers reached is
reported beside the target: on a busy host it can fall short, and exactly-once then holds at
the rate reached.

    .venv/bin/python bench/isync_soak.py --quick                 # 30 s, SQLite
    .venv/bin/python bench/isync_soak.py --minutes 2
    .venv/bin/python bench/isync_soak.py --minutes 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from _common import (
    ACCOUNT_ID,
    ADMIN_PASSWORD,
    MAIN_NUMBER,
    backend_label,
    bench_extensions,
    console,
    default_sqlite_url,
    fresh_database,
    is_sqlite_url,
    machine_note,
    median,
    percentile,
    print_table,
    realistic_calls,
    seed_account,
    verdict,
)
from callvault.api.app import create_app
from callvault.domain.calls import CallRecord
from callvault.domain.enums import Result
from callvault.services.container import Services
from callvault.settings import RateLimitProfile, Settings

API = "/restapi/v1.0/account/~"
COMPANY = f"{API}/call-log-sync"
MINE = f"{API}/extension/~/call-log-sync"
EXTENSIONS = 10
RECENT = 2000  # records per writer that a correction may pick from


@dataclass(frozen=True)
class WriterJob:
    n: int
    url: str
    rate: float
    batch: int
    seconds: float
    correct: float
    start_at: float  # wall-clock time all writers start at
    threads: int
    # This process's share of one batch interval (n / writers): its threads' first batches are
    # spread over the interval after the other processes', not sent together.
    phase: float = 0.0


@dataclass
class Written:
    """What a writer stored: the final version of each record and its owner."""

    version: dict[str, int] = field(default_factory=dict)
    owner: dict[str, int | None] = field(default_factory=dict)
    new: int = 0
    corrections: int = 0
    seconds: float = 0.0
    error: str | None = None

    def merge(self, other: Written) -> None:
        self.version.update(other.version)
        self.owner.update(other.owner)
        self.new += other.new
        self.corrections += other.corrections
        self.seconds = max(self.seconds, other.seconds)


@dataclass
class Reader:
    label: str
    path: str
    seen: dict[str, list[int]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    # Seconds from one ISync's start to the next one's: what the 250-record limit bounds.
    gaps: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def take(self, body: dict[str, Any]) -> None:
        for record in body["records"]:
            versions = self.seen.setdefault(record["id"], [])
            versions.append(_version(record.get("reasonDescription")))
        self.sizes.append(len(body["records"]))


def _version(text: str | None) -> int:
    return int(text[1:]) if text and text.startswith("v") else -1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(url: str, port: int = 0) -> Settings:
    return Settings(
        database_url=url,
        base_url=f"http://127.0.0.1:{port}",
        rate_limits=RateLimitProfile.OFF,
        sweep_interval=3600,
    )


# -- server ---------------------------------------------------------------------------------


def _serve_child(url: str, port: int) -> None:
    """The server process: the real app on ``port``."""
    uvicorn.run(create_app(_settings(url, port)), host="127.0.0.1", port=port, log_level="warning")


def _start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)])
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/restapi/v1.0", timeout=1)
            return child
        except httpx.TransportError:
            if time.monotonic() > deadline or child.poll() is not None:
                child.kill()
                raise RuntimeError("server did not start") from None
            time.sleep(0.1)


def _login(base: str, services: Services) -> str:
    app = services.accounts.create_app(ACCOUNT_ID, "isync soak")
    r = httpx.post(
        f"{base}/restapi/oauth/token",
        auth=(app.client_id, app.client_secret or ""),
        data={
            "grant_type": "password",
            "username": f"{MAIN_NUMBER}*101",
            "password": ADMIN_PASSWORD,
        },
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


# -- writers --------------------------------------------------------------------------------


def _records(writer: int, count: int) -> Iterator[CallRecord]:
    """New records, started in the last minutes, version 0."""
    end = datetime.now(UTC) + timedelta(minutes=1)
    for record in realistic_calls(
        count,
        extensions=bench_extensions(EXTENSIONS),
        end=end,
        days=0.01,
        seed=writer,
        id_prefix=f"W{writer}-",
    ):
        yield dataclasses.replace(record, reason_description="v0")


def _corrected(record: CallRecord) -> CallRecord:
    result = Result.VOICEMAIL if record.result is not Result.VOICEMAIL else Result.MISSED
    version = _version(record.reason_description) + 1
    return dataclasses.replace(record, result=result, reason_description=f"v{version}")


def _write(job: WriterJob) -> Written:
    """One writer process: ``job.threads`` threads sharing ``job.rate`` new records/s."""
    # The load generator yields to the server and readers under test: on a small host the
    # writers' record encoding would otherwise starve the one server process.
    os.nice(10)
    services = Services.build(_settings(job.url))
    parts = [Written() for _ in range(job.threads)]
    threads = [
        threading.Thread(target=_write_thread, args=(job, t, services, parts[t]))
        for t in range(job.threads)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    services.close()
    out = Written()
    for part in parts:
        out.merge(part)
        out.error = out.error or part.error
    return out


def _write_thread(job: WriterJob, thread: int, services: Services, out: Written) -> None:
    """Batches of new records at ``job.rate / job.threads`` per second, plus corrections."""
    n = job.n * 100 + thread
    rate = job.rate / job.threads
    rng = random.Random(1000 + n)
    source = _records(n, int(rate * job.seconds) + job.batch * 4)
    recent: deque[CallRecord] = deque(maxlen=RECENT)
    interval = job.batch / rate
    # Every thread of every process would otherwise send its first batch at ``start_at``:
    # writers x threads x batch records in one instant (300 by default), more than one ISync
    # may carry (250, CLG-103), which is a burst, not the steady rate the soak is about.
    offset = (thread + job.phase) / job.threads * interval
    time.sleep(max(0.0, job.start_at + offset - time.time()))
    start = due = time.monotonic()
    try:
        while time.monotonic() - start < job.seconds:
            fresh = [next(source) for _ in range(job.batch)]
            batch = list(fresh)
            # On average ``job.correct`` of the records get one correction, at most one a batch.
            if recent and rng.random() < job.correct * job.batch:
                i = rng.randrange(len(recent))
                recent[i] = _corrected(recent[i])
                batch.append(recent[i])
            services.ingest.ingest(ACCOUNT_ID, batch)
            for r in batch:
                out.version[r.id] = _version(r.reason_description)
                out.owner[r.id] = r.extension_id
            out.new += len(fresh)
            out.corrections += len(batch) - len(fresh)
            recent.extend(fresh)
            due += interval
            time.sleep(max(0.0, due - time.monotonic()))
    except Exception as exc:  # reported with the results
        out.error = f"writer {n}: {exc!r}"
    out.seconds = time.monotonic() - start


# -- readers --------------------------------------------------------------------------------


def _read(
    reader: Reader, base: str, token: str, writers_done: threading.Event, interval: float
) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        r = http.get(reader.path, params={"syncType": "FSync", "recordCount": 250})
        r.raise_for_status()
        reader.take(r.json())
        sync_token = r.json()["syncInfo"]["syncToken"]
        previous = None
        while True:
            last = writers_done.is_set()
            t0 = time.perf_counter()
            if previous is not None:
                reader.gaps.append(t0 - previous)
            previous = t0
            r = http.get(reader.path, params={"syncType": "ISync", "syncToken": sync_token})
            reader.latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                gap = reader.gaps[-1] if reader.gaps else 0.0
                reader.refusals.append(
                    f"{reader.label}, ISync {len(reader.latencies)} after a {gap:.2f} s gap: "
                    f"{r.text[:160]}"
                )
                return
            body = r.json()
            reader.take(body)
            sync_token = body["syncInfo"]["syncToken"]
            if last:
                return
            time.sleep(max(0.0, interval - (time.perf_counter() - t0)))


def _check(reader: Reader, expected: dict[str, int]) -> dict[str, int]:
    missing = sum(1 for rid in expected if rid not in reader.seen)
    stale = sum(1 for rid, final in expected.items() if reader.seen.get(rid, [-1])[-1] != final)
    return {
        "missing": missing,
        "duplicated": sum(len(v) - len(set(v)) for v in reader.seen.values()),
        "out of order": sum(1 for v in reader.seen.values() if v != sorted(v)),
        "final version not seen": stale - missing,
        "not in this log": sum(1 for rid in reader.seen if rid not in expected),
        "refused ISyncs": len(reader.refusals),
    }


# -- report ---------------------------------------------------------------------------------


def _report(written: Written, readers: list[Reader], rate: float) -> bool:
    achieved = written.new / written.seconds if written.seconds else 0.0
    print_table(
        "Writers",
        ["", "value"],
        [
            ["new records", written.new],
            ["corrections", written.corrections],
            ["seconds", f"{written.seconds:.1f}"],
            ["new records/s (target)", f"{achieved:.0f} ({rate:.0f})"],
            ["errors", 1 if written.error else 0],
        ],
    )
    ext101 = bench_extensions(EXTENSIONS)[0].id
    expected = {
        COMPANY: written.version,
        MINE: {r: v for r, v in written.version.items() if written.owner[r] == ext101},
    }
    rows, checks = [], []
    for reader in readers:
        lat = [x * 1000 for x in reader.latencies]
        checks.append([reader.label, *_check(reader, expected[reader.path]).values()])
        rows.append(
            [
                reader.label,
                len(expected[reader.path]),
                len(reader.seen),
                sum(reader.sizes),
                len(reader.latencies),
                f"{median(lat):.1f}" if lat else "-",
                f"{percentile(lat, 99):.1f}" if lat else "-",
                max(reader.sizes, default=0),
                f"{max(reader.gaps, default=0) * 1000:.0f}",
            ]
        )
    columns = [
        "log",
        "records",
        "seen",
        "deliveries",
        "ISyncs",
        "p50 ms",
        "p99 ms",
        "max/ISync",
        "max gap ms",
    ]
    print_table("Readers", columns, rows)
    names = ["missing", "duplicated", "out of order", "stale", "foreign", "refused"]
    print_table("Exactly once", ["log", *names], checks)
    for line in [written.error or "", *(x for r in readers for x in r.refusals)]:
        if line:
            console.print(line, style="red", markup=False)
    exact = not written.error and all(not any(c[1:]) for c in checks)
    console.print(f"Exactly once: {verdict(exact)}")
    console.print(f"Rate reached: {verdict(achieved >= rate * 0.95)} ({achieved:.0f}/s)")
    return exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long writers write")
    parser.add_argument("--quick", action="store_true", help="30 seconds")
    parser.add_argument("--rate", type=float, default=500.0, help="new records per second")
    parser.add_argument(
        "--writers", type=int, help="writer processes (default: 1 on SQLite, 2 on PostgreSQL)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per writer process")
    parser.add_argument("--batch", type=int, default=25, help="new records per ingest call")
    parser.add_argument("--correct", type=float, default=0.05, help="share of records corrected")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between ISyncs")
    parser.add_argument("--database-url", default=default_sqlite_url("isync_soak.sqlite"))
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve_child(args.serve[0], int(args.serve[1]))
        return
    seconds = 30.0 if args.quick else args.minutes * 60
    # SQLite has one writer at a time: writer processes would only queue on its file lock
    # (with back-off sleeps), while one process serialises its writes without waiting.
    args.writers = args.writers or (1 if is_sqlite_url(args.database_url) else 2)

    url = fresh_database(args.database_url, schema="bench_isync_soak")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    services = Services.build(_settings(url, port))
    seed_account(services, bench_extensions(EXTENSIONS), admin=True)
    server = _start_server(url, port)
    token = _login(base, services)
    console.print(
        f"ISync soak on {backend_label(url)}: {args.rate:.0f} new records/s for {seconds:.0f} s "
        f"from {args.writers} writer process(es) x {args.threads} threads, {args.batch} per "
        f"ingest; {machine_note()}"
    )

    readers = [Reader("company log", COMPANY), Reader("extension 101", MINE)]
    writers_done = threading.Event()
    reader_threads = [
        threading.Thread(target=_read, args=(r, base, token, writers_done, args.interval))
        for r in readers
    ]
    for t in reader_threads:
        t.start()
    start_at = time.time() + 3  # writer processes start together, after the FSyncs
    jobs = [
        WriterJob(
            n,
            url,
            args.rate / args.writers,
            args.batch,
            seconds,
            args.correct,
            start_at,
            args.threads,
            n / args.writers,
        )
        for n in range(args.writers)
    ]
    written = Written()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.writers, mp_context=spawn) as pool:
        for part in pool.map(_write, jobs):
            written.merge(part)
            written.error = written.error or part.error
    writers_done.set()
    for t in reader_threads:
        t.join()
    server.terminate()
    server.wait()
    services.close()
    sys.exit(0 if _report(written, readers, args.rate) else 1)


if __name__ == "__main__":
    main()

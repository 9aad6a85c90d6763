"""Ingest throughput: the service write path vs a bare insert of the same rows.

Service: ``IngestService.ingest(account_id, records)`` with ready ``CallRecord``s, batches of
1000 (encoding, dedupe lookup, change number, inserts: everything the service does). Raw:
SQLAlchemy Core ``executemany`` of the rows ``encode_call`` produces (encoded before the clock
starts, primary keys assigned): ``calls``, ``call_details`` and, where the schema has it,
``call_targets``; one transaction per 1000 records. Each measurement gets a freshly migrated
schema; the two sides alternate for ``--rounds`` rounds. The prepared records and rows are
frozen out of the garbage collector (``gc.freeze``) so neither side pays for them.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from _common import (
    ACCOUNT_ID,
    backend_label,
    bench_extensions,
    chunks,
    console,
    default_sqlite_url,
    fresh_database,
    machine_note,
    median,
    print_table,
    realistic_calls,
    seed_account,
    timed_cpu,
    verdict,
)
from callvault.domain.calls import CallRecord
from callvault.services.container import Services
from callvault.settings import Settings
from callvault.storage.calls import encode_call
from callvault.storage.engine import make_engine
from callvault.storage.schema import call_details, calls, metadata

TARGET = 0.5
MODIFIED_MS = 1_790_000_000_000


@dataclass
class Series:
    """Records per wall second, and per CPU second of this process, for each side."""

    service: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    service_cpu: list[float] = field(default_factory=list)
    raw_cpu: list[float] = field(default_factory=list)


def run_service(url: str, records: Sequence[CallRecord], batch: int) -> tuple[float, float]:
    """Records per wall second and per CPU second through the ingest service."""
    target = fresh_database(url, schema="bench_ingest")
    services = Services.build(Settings(database_url=target))
    try:
        seed_account(services, bench_extensions(50), admin=False)

        def work() -> int:
            created = 0
            for part in chunks(records, batch):
                report = services.ingest.ingest(ACCOUNT_ID, part)
                created += report.created
            return created

        gc.collect()
        seconds, cpu, created = timed_cpu(work)
    finally:
        services.close()
    if created != len(records):
        raise SystemExit(f"service stored {created} of {len(records)} records")
    return len(records) / seconds, len(records) / cpu


@dataclass
class RawRows:
    """Every row the store writes for a batch of new records, ready for ``executemany``."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    # call_targets rows (PortSIP face), ``target_starts[i]`` = first target row of record i.
    targets: list[dict[str, Any]] = field(default_factory=list)
    target_starts: list[int] = field(default_factory=list)


def encoded_rows(records: Sequence[CallRecord]) -> RawRows:
    """The rows ``encode_call`` yields, primary keys and change numbers assigned."""
    out = RawRows()
    calls_extra = {"change_seq": 1} if "change_seq" in calls.c else {}
    for pk, record in enumerate(records, start=1):
        enc = encode_call(ACCOUNT_ID, record)
        out.calls.append(dict(enc.row, pk=pk, modified_ms=MODIFIED_MS, **calls_extra))
        out.details.append({"call_pk": pk, "legs": enc.legs})
        out.target_starts.append(len(out.targets))
        stamp = {"modified_ms": MODIFIED_MS, "created_seq": 1, "change_seq": 1}
        for target in getattr(enc, "targets", ()):
            out.targets.append(dict(target, call_pk=pk, **stamp))
    out.target_starts.append(len(out.targets))
    return out


def _target_table() -> Table | None:
    return metadata.tables.get("call_targets")


def run_raw(url: str, raw: RawRows, count: int, batch: int) -> tuple[float, float]:
    """Records per wall and per CPU second for a bare Core executemany of the first ``count``
    pre-encoded records."""
    target = fresh_database(url, schema="bench_ingest")
    engine = make_engine(target)
    targets_table = _target_table()
    try:

        def work() -> None:
            for start in range(0, count, batch):
                end = min(start + batch, count)
                t0, t1 = raw.target_starts[start], raw.target_starts[end]
                with engine.begin() as conn:
                    conn.execute(calls.insert(), raw.calls[start:end])
                    conn.execute(call_details.insert(), raw.details[start:end])
                    if targets_table is not None and t1 > t0:
                        conn.execute(targets_table.insert(), raw.targets[t0:t1])

        gc.collect()
        seconds, cpu, _ = timed_cpu(work)
        with engine.connect() as conn:
            stored = conn.execute(calls.select().with_only_columns(calls.c.pk)).all()
    finally:
        engine.dispose()
    if len(stored) != count:
        raise SystemExit(f"raw insert stored {len(stored)} of {count} rows")
    return count / seconds, count / cpu


def bench_backend(url: str, count: int, rounds: int, batch: int) -> tuple[str, Series]:
    label = backend_label(url)
    records = list(realistic_calls(count, extensions=bench_extensions(50), seed=3))
    raw = encoded_rows(records)
    # The fixtures (records and pre-encoded rows, ~15 tracked objects per record) live for the
    # whole run; keep them out of the collector's walks so neither side pays for them.
    gc.collect()
    gc.freeze()
    series = Series()
    # Warm-up (imports, statement caches, file-system caches), not counted.
    run_service(url, records[: 2 * batch], batch)
    run_raw(url, raw, 2 * batch, batch)
    for n in range(rounds):
        # Alternate which side goes first, so drift on a shared machine hits both alike.
        order = ("service", "raw") if n % 2 == 0 else ("raw", "service")
        for side in order:
            if side == "service":
                wall, cpu = run_service(url, records, batch)
                series.service.append(wall)
                series.service_cpu.append(cpu)
            else:
                wall, cpu = run_raw(url, raw, len(records), batch)
                series.raw.append(wall)
                series.raw_cpu.append(cpu)
        console.print(
            f"[dim]{label} round {n + 1}/{rounds}: service {series.service[-1]:,.0f}/s, "
            f"raw {series.raw[-1]:,.0f}/s[/dim]"
        )
    return label, series


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="records per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--batch", type=int, default=1000, help="records per ingest call")
    parser.add_argument(
        "--database-url",
        action="append",
        help="sqlite:///file or postgresql://…/db (repeatable; PostgreSQL uses schema "
        "bench_ingest, dropped and recreated per measurement). Default: a SQLite file in "
        "bench/data/",
    )
    parser.add_argument("--quick", action="store_true", help="smoke check: 2,000 calls, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 2_000, 1
    urls = args.database_url or [default_sqlite_url("ingest.sqlite")]
    console.print(f"ingest: {args.calls:,} records x {args.rounds} rounds; {machine_note()}")
    results = [bench_backend(url, args.calls, args.rounds, args.batch) for url in urls]
    table_rows = []
    for label, s in results:
        svc, raw = median(s.service), median(s.raw)
        per_round = median([a / b for a, b in zip(s.service, s.raw, strict=True)])
        svc_cpu, raw_cpu = median(s.service_cpu), median(s.raw_cpu)
        # SQLite does all its work in this process, so records per CPU-second are the cost
        # free of waiting for a core; PostgreSQL's share runs in the server, so use wall time.
        ratio = svc_cpu / raw_cpu if label == "SQLite" else svc / raw
        table_rows.append(
            (
                label,
                f"{svc:,.0f}",
                f"{raw:,.0f}",
                f"{svc / raw:.0%}",
                f"{per_round:.0%}",
                f"{svc_cpu:,.0f}",
                f"{raw_cpu:,.0f}",
                f"{svc_cpu / raw_cpu:.0%}",
                f"{ratio:.0%} ({'CPU' if label == 'SQLite' else 'wall'})",
                verdict(ratio >= TARGET),
            )
        )
    print_table(
        f"Ingest, {args.calls:,} records/round, batches of {args.batch}, median of {args.rounds}",
        (
            "backend",
            "service rec/s",
            "raw rec/s",
            "wall ratio",
            "per-round wall ratio",
            "service rec/CPU-s",
            "raw rec/CPU-s",
            "CPU ratio",
            "verdict basis",
            f"≥ {TARGET:.0%}",
        ),
        table_rows,
    )


if __name__ == "__main__":
    main()

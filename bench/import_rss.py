"""Peak memory of a 1M-record RingCentral JSON import: constant memory, whatever the size.

The file is a list response (``{"records": [...], "paging": …}``) of Detailed records with
legs, generated once (streamed, never held in memory) into bench/data/. The import runs in a
child process: ``import_ringcentral_file`` into a fresh database; the parent reports the child's
peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``), RSS samples along the way, and records/s.

    .venv/bin/python bench/import_rss.py
    .venv/bin/python bench/import_rss.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from _common import (
    ACCOUNT_ID,
    DATA_DIR,
    backend_label,
    bench_extensions,
    console,
    default_sqlite_url,
    fresh_database,
    machine_note,
    print_table,
    realistic_calls,
    seed_account,
    verdict,
)

RSS_TARGET_MB = 300.0
SAMPLE_EVERY = 0.5


def data_file(count: int) -> Path:
    return DATA_DIR / f"rc-calllog-{count}.json"


def generate_file(count: int) -> Path:
    """Write ``count`` Detailed records as one list response, streaming; reuse when present."""
    from callvault.api.ringcentral.mapping import Uris, record_to_wire

    path = data_file(count)
    if path.exists():
        console.print(f"[dim]reusing {path} ({path.stat().st_size / 2**20:,.0f} MiB)[/dim]")
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    uris = Uris("https://platform.ringcentral.com", "https://media.ringcentral.com", ACCOUNT_ID)
    records = realistic_calls(count, extensions=bench_extensions(50), seed=5, id_prefix="RC")
    partial = path.with_suffix(".part")
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        partial.open("wb") as out,
        Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress,
    ):
        task = progress.add_task("RC JSON records", total=count)
        out.write(b'{"uri":"https://platform.ringcentral.com/restapi/v1.0/account/~/call-log",')
        out.write(b'"records":[\n')
        for n, record in enumerate(records):
            wire = record_to_wire(record, uris, view="Detailed", log_extension_id=None)
            if n:
                out.write(b",\n")
            out.write(orjson.dumps(wire))
            if n % 10_000 == 9_999:
                progress.advance(task, 10_000)
        out.write(b'\n],"paging":{"page":1,"perPage":%d},"navigation":{}}\n' % count)
    partial.rename(path)
    return path


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def child(path: Path, database_url: str, batch: int) -> None:
    """Run the import; print one JSON line with the result."""
    from callvault.services.container import Services
    from callvault.services.imports import import_ringcentral_file
    from callvault.settings import Settings

    target = fresh_database(database_url, schema="bench_import")
    services = Services.build(Settings(database_url=target))
    try:
        seed_account(services, bench_extensions(50), admin=False)
        t0, c0 = time.perf_counter(), time.process_time()
        report = import_ringcentral_file(services, ACCOUNT_ID, path, batch_size=batch)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    finally:
        services.close()
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "problems": len(report.problems),
        "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(result), flush=True)


def run_import(path: Path, database_url: str, batch: int) -> tuple[dict[str, float], list[int]]:
    """Start the child, sample its RSS while it runs; returns its result and the samples."""
    cmd = [sys.executable, __file__, "--child", str(path), "--database-url", database_url]
    cmd += ["--batch", str(batch)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    samples: list[int] = []
    while proc.poll() is None:
        samples.append(_rss_kb(proc.pid))
        time.sleep(SAMPLE_EVERY)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"import child failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result, samples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="records in the file")
    parser.add_argument("--rounds", type=int, default=1, help="imports to run (fresh each)")
    parser.add_argument("--batch", type=int, default=1000, help="import batch size")
    parser.add_argument(
        "--database-url",
        default=None,
        help="sqlite:///file or postgresql://…/db (PostgreSQL: schema bench_import). "
        "Default: bench/data/import.sqlite",
    )
    parser.add_argument("--generate-only", action="store_true", help="write the file, exit")
    parser.add_argument("--quick", action="store_true", help="smoke check: 20k records")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = args.database_url or default_sqlite_url("import.sqlite")
    if args.child:
        child(args.child, url, args.batch)
        return
    if args.quick:
        args.calls, args.rounds = 20_000, 1
    path = generate_file(args.calls)
    if args.generate_only:
        return
    label = backend_label(url)
    console.print(f"import: {label}, {args.calls:,} records; {machine_note()}")
    rows = []
    for n in range(args.rounds):
        result, samples = run_import(path, url, args.batch)
        if result["created"] != args.calls or result["problems"]:
            raise SystemExit(f"import stored {result['created']} of {args.calls}: {result}")
        peak_mb = result["children_maxrss_kb"] / 1024
        quarter = [samples[len(samples) * q // 4] / 1024 for q in (1, 2, 3)] if samples else []
        rows.append(
            (
                f"{label} #{n + 1}",
                f"{args.calls:,}",
                f"{path.stat().st_size / 2**20:,.0f}",
                f"{result['seconds']:.0f}",
                f"{args.calls / result['seconds']:,.0f}",
                f"{args.calls / result['cpu_seconds']:,.0f}",
                f"{peak_mb:.0f}",
                " / ".join(f"{q:.0f}" for q in quarter),
                verdict(peak_mb < RSS_TARGET_MB),
            )
        )
        console.print(f"[dim]{result}[/dim]")
    print_table(
        f"RingCentral JSON import, batches of {args.batch}",
        (
            "run",
            "records",
            "file MiB",
            "seconds",
            "records/s",
            "records/CPU-s",
            "peak RSS MiB",
            "RSS at 25/50/75% MiB",
            f"< {RSS_TARGET_MB:.0f} MiB",
        ),
        rows,
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

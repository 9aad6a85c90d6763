"""``callvault import``: load call-log files (RingCentral, PortSIP), streaming, with a progress
bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from callvault.cli.common import AccountOpt, DatabaseUrl, console, err_console, services_for
from callvault.services.imports import (
    ImportProgress,
    import_portsip_file,
    import_ringcentral_file,
)
from callvault.services.ingest import IngestReport

app = typer.Typer(help="Import call records from files.", no_args_is_help=True)


@app.command("ringcentral")
def import_ringcentral(
    account: AccountOpt,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(help="Records per write transaction.")] = 1000,
    database_url: DatabaseUrl = None,
) -> None:
    """Import RingCentral call-log JSON (a list response, an array of records, or NDJSON)."""
    with services_for(database_url) as s:
        s.accounts.account(account)

        def one(path: Path, tick: Callable[[ImportProgress], None]) -> tuple[IngestReport, int]:
            report = import_ringcentral_file(
                s, account, path, batch_size=batch_size, on_progress=tick
            )
            return report, 0

        failed = _import_files(files, one)
    if failed:
        raise typer.Exit(1)


@app.command("portsip")
def import_portsip(
    account: AccountOpt,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(help="Records per write transaction.")] = 1000,
    database_url: DatabaseUrl = None,
) -> None:
    """Import PortSIP CDR JSON: REST records (a list response, an array or NDJSON) or
    ``call_cdr`` webhook bodies. Extensions are matched to the account's by number."""
    with services_for(database_url) as s:
        s.accounts.account(account)

        def one(path: Path, tick: Callable[[ImportProgress], None]) -> tuple[IngestReport, int]:
            return import_portsip_file(s, account, path, batch_size=batch_size, on_progress=tick)

        failed = _import_files(files, one)
    if failed:
        raise typer.Exit(1)


def _import_files(
    files: list[Path],
    one: Callable[[Path, Callable[[ImportProgress], None]], tuple[IngestReport, int]],
) -> int:
    """Import each file with a progress bar and a summary line; returns how many records
    were rejected in all."""
    failed = 0
    for path in files:
        size = path.stat().st_size
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[records]} records"),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(path.name, total=size, records=0)

            def tick(p: ImportProgress, task: TaskID = task, bar: Progress = bar) -> None:
                bar.update(task, completed=p.bytes_read, records=p.records)

            report, skipped = one(path, tick)
        summary = (
            f"{path}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.problems)} rejected"
        )
        if skipped:
            summary += f", {skipped} skipped (webhook events without a final CDR)"
        console.print(summary, soft_wrap=True)
        for p in report.problems[:20]:
            err_console.print(
                f"  record #{p.index}: [red]{p.field}[/red] {p.reason}", soft_wrap=True
            )
        if len(report.problems) > 20:
            err_console.print(f"  … and {len(report.problems) - 20} more")
        failed += len(report.problems)
    return failed

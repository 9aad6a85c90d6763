"""``callvault import``: load call-log files, streaming, with a progress bar."""

from __future__ import annotations

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
from callvault.services.imports import ImportProgress, import_ringcentral_file

app = typer.Typer(help="Import call records from files.", no_args_is_help=True)


@app.command("ringcentral")
def import_ringcentral(
    account: AccountOpt,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(help="Records per write transaction.")] = 1000,
    database_url: DatabaseUrl = None,
) -> None:
    """Import RingCentral call-log JSON (a list response, an array of records, or NDJSON)."""
    failed = 0
    with services_for(database_url) as s:
        s.accounts.account(account)
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

                report = import_ringcentral_file(
                    s, account, path, batch_size=batch_size, on_progress=tick
                )
            console.print(
                f"{path}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.problems)} rejected",
                soft_wrap=True,
            )
            for p in report.problems[:20]:
                err_console.print(
                    f"  record #{p.index}: [red]{p.field}[/red] {p.reason}", soft_wrap=True
                )
            if len(report.problems) > 20:
                err_console.print(f"  … and {len(report.problems) - 20} more")
            failed += len(report.problems)
    if failed:
        raise typer.Exit(1)

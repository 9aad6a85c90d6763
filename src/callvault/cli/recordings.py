"""``callvault recordings``: recordings that stored calls only reference."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from callvault.cli.common import AccountOpt, DatabaseUrl, console, err_console, services_for
from callvault.services.recording_fetch import RecordingFetcher

app = typer.Typer(help="Call recordings.", no_args_is_help=True)


def _headers(raw: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r} is not 'Name: value'", param_hint="--header")
        out[name.strip()] = value.strip()
    return out


@app.command("fetch")
def fetch_cmd(
    account: AccountOpt,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            help="A header to send to the source, e.g. 'Authorization: Bearer …' (repeatable).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the source.")] = 60,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count the recordings still to fetch.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Download the audio of recordings that imported calls only reference by the source's
    content URI, and keep it with the call (as an upload would).

    Recordings already held are skipped, so it can run again to fetch what is still missing.
    One that cannot be fetched is reported; the others go on. Exits 1 when any failed.
    """
    headers = _headers(header)
    with services_for(database_url) as s:
        fetcher = RecordingFetcher(s.calls, s.recordings)
        pending = fetcher.pending(account)
        console.print(f"{len(pending)} recordings to fetch for account {account}")
        if dry_run or not pending:
            return
        columns = (
            TextColumn("fetching"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as http,
            Progress(*columns, console=console, transient=True) as bar,
        ):
            task = bar.add_task("fetch", total=len(pending))
            report = fetcher.fetch_all(
                account, pending, http, headers, progress=lambda _item: bar.advance(task)
            )
    console.print(
        f"{report.fetched} fetched, {report.short} too short to keep "
        f"(marked shortRecording), {len(report.failed)} failed"
    )
    for record_id, recording_id, reason in report.failed[:20]:
        err_console.print(f"[red]record {record_id}, recording {recording_id}:[/red] {reason}")
    if len(report.failed) > 20:
        err_console.print(f"… and {len(report.failed) - 20} more")
    if report.failed:
        raise typer.Exit(1)

"""``callvault calls``: maintenance of stored calls (rebuild records from the event journal)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from callvault.cli.common import DatabaseUrl, console, services_for
from callvault.importers.ringcentral_json import RecordError, parse_time
from callvault.services.live import regenerate

app = typer.Typer(help="Stored calls.", no_args_is_help=True)


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, name)
    except RecordError as exc:
        raise typer.BadParameter(exc.reason, param_hint=name) from None


@app.command("regenerate")
def regenerate_cmd(
    account: Annotated[
        int | None, typer.Option("--account", "-a", help="Only this account.")
    ] = None,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", help="A call by (any of) its telephony session ids."),
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="ISO time, with zone.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="ISO time, with zone.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Rebuild call records from the journaled events: one call, a time range, or all.

    Idempotent: records that come out unchanged are left as they are.
    """
    if session and account is None:
        raise typer.BadParameter("--session needs --account", param_hint="--session")
    with services_for(database_url) as s:
        report = regenerate(
            s.live,
            account_id=account,
            session_ids=session or (),
            date_from=_when(date_from, "--from"),
            date_to=_when(date_to, "--to"),
        )
    console.print(
        f"{report.events} events, {report.calls} finished calls: "
        f"{report.records_created} records created, {report.records_updated} updated, "
        f"{report.records_unchanged} unchanged; {report.unfinished} calls still in progress",
        soft_wrap=True,
    )

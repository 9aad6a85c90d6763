"""``callvault apikey``: keys for the OneUptime-style API (the ``ApiKey`` header)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from callvault.cli.common import AccountOpt, DatabaseUrl, console, services_for
from callvault.services.api_keys import DEFAULT_PERMISSIONS
from callvault.storage.codec import from_ms

app = typer.Typer(help="API keys for the OneUptime-style API.", no_args_is_help=True)


@app.command("create")
def create(
    account: AccountOpt,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "api key",
    permission: Annotated[
        list[str] | None,
        typer.Option(
            help="OneUptime permission name (Viewer, ProjectAdmin, ReadProjectIncomingCallLog "
            "…); repeatable. Default: Viewer (read everything)."
        ),
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(help="Expire after N days.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key; it is shown once. Send it as ``ApiKey`` (and the account as ``ProjectID``)."""
    with services_for(database_url) as s:
        issued = s.api_keys.create(
            account,
            name,
            permission or DEFAULT_PERMISSIONS,
            expires_in=timedelta(days=expires_in_days) if expires_in_days else None,
        )
    console.print(f"ApiKey:    {issued.key}")
    console.print(f"ProjectID: {account}")
    console.print(f"key id:    {issued.row.id} ({', '.join(issued.row.permissions)})")


@app.command("list")
def list_keys(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List an account's keys (never the keys themselves)."""
    with services_for(database_url) as s:
        table = Table("key id", "name", "permissions", "expires")
        for k in s.api_keys.keys(account):
            expires = from_ms(k.expires_ms).isoformat() if k.expires_ms else "-"
            table.add_row(k.id, k.name, " ".join(k.permissions), expires)
        console.print(table)


@app.command("revoke")
def revoke(
    account: AccountOpt,
    key_id: Annotated[str, typer.Argument(help="Key id (from apikey list).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key."""
    with services_for(database_url) as s:
        s.api_keys.revoke(account, key_id)
    console.print("revoked")

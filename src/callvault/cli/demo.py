"""``callvault demo``: an account, users, an app and N days of traffic, then login details."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from callvault.cli.common import BaseUrl, DatabaseUrl, console, services_for
from callvault.services.clock import system_clock
from callvault.services.demo import create_demo_account, load_demo_traffic
from callvault.storage.migrate import upgrade


def demo(
    days: Annotated[int, typer.Option(help="Days of call history to generate.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if an account already exists.")
    ] = False,
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
) -> None:
    """Create a demo account with realistic call history and print how to log in."""
    with services_for(database_url, base_url) as s:
        upgrade(s.db.engine)
        if if_empty and s.accounts.list_accounts():
            console.print(
                "demo: an account already exists; leaving the data as it is "
                "(run `callvault account list`, or use a fresh database)"
            )
            return
        account = create_demo_account(s, seed=seed)
        report = load_demo_traffic(s, account, days=days, seed=seed, now=system_clock())
        base = s.settings.base_url
        info = {
            "base_url": base,
            "account_id": str(account.account_id),
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "username": account.admin_username,
            "password": account.password,
            "extension": account.admin_extension,
            "jwt": account.jwt,
        }
        if as_json:
            typer.echo(orjson.dumps(info).decode())
            return
        console.print(
            f"demo account [bold]{account.account_id}[/bold]: "
            f"{report.created} call records over {days} days"
        )
        console.print(f"  base URL:       {base}")
        console.print(f"  client id:      {account.client_id}")
        console.print(f"  client secret:  {account.client_secret}")
        console.print(
            f"  admin login:    username {account.admin_username}  password {account.password}"
        )
        console.print(f"  JWT credential: {account.jwt}", soft_wrap=True)
        console.print(
            "  try: curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=password "
            f"--data-urlencode username={account.admin_username} -d password={account.password} "
            f"{base}/restapi/oauth/token"
        )

"""``callvault demo``: an account, users, an app and N days of traffic, then login details."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from callvault.cli.common import BaseUrl, DatabaseUrl, console, services_for
from callvault.services.clock import system_clock
from callvault.services.demo import create_demo_account, load_demo_traffic
from callvault.storage.migrate import upgrade

SaveOpt = Annotated[
    Path | None,
    typer.Option(
        help="Also write the login details to this JSON file (mode 600); a later "
        "--if-empty run prints them again."
    ),
]


def demo(
    days: Annotated[int, typer.Option(help="Days of call history to generate.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the database already has data.")
    ] = False,
    save: SaveOpt = None,
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
) -> None:
    """Create a demo account with realistic call history and print how to log in."""
    with services_for(database_url, base_url) as s:
        upgrade(s.db.engine)
        if if_empty and s.accounts.list_accounts():
            if not as_json:
                console.print("demo: the database already has data; leaving it as it is.")
            if save is not None and save.is_file():
                _print_login(orjson.loads(save.read_bytes()), as_json)
            elif not as_json:
                console.print(
                    "  (`callvault app create` makes a new client, `callvault user add` a login)"
                )
            return
        account = create_demo_account(s, seed=seed)
        report = load_demo_traffic(s, account, days=days, seed=seed, now=system_clock())
        info = {
            "base_url": s.settings.base_url,
            "account_id": str(account.account_id),
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "username": account.admin_username,
            "password": account.password,
            "extension": account.admin_extension,
            "jwt": account.jwt,
            "webhook_url": f"{s.settings.base_url.rstrip('/')}/api/v1/webhooks/ringcentral/"
            f"{account.account_id}",
            "webhook_verification_token": s.accounts.issue_webhook_token(
                account.account_id, "ringcentral"
            ),
        }
        if save is not None:
            save.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
            save.chmod(0o600)
        if not as_json:
            console.print(
                f"demo account [bold]{account.account_id}[/bold]: {report.records} call records "
                f"from {report.calls} simulated calls over {days} days"
            )
        _print_login(info, as_json)


def _print_login(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(info).decode())
        return
    labels = (
        ("base URL", "base_url"),
        ("client id", "client_id"),
        ("client secret", "client_secret"),
        ("username", "username"),
        ("password", "password"),
        ("JWT credential", "jwt"),
        ("webhook URL", "webhook_url"),
        ("webhook token", "webhook_verification_token"),
    )
    for label, key in labels:
        if key in info:
            console.print(f"  {label + ':':<16}{info[key]}", soft_wrap=True)
    console.print(
        f"  try:  curl -s -u {info['client_id']}:{info['client_secret']} "
        f"-d grant_type=password --data-urlencode 'username={info['username']}' "
        f"-d password={info['password']} {info['base_url']}/restapi/oauth/token",
        soft_wrap=True,
    )

"""``callvault account|extension|user|app``: administration of accounts and access."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from callvault.cli.common import AccountOpt, DatabaseUrl, console, services_for
from callvault.services.accounts import Role

accounts = typer.Typer(help="Accounts (companies).", no_args_is_help=True)
extensions = typer.Typer(help="Extensions of an account.", no_args_is_help=True)
users = typer.Typer(help="Users who log in to an extension.", no_args_is_help=True)
apps = typer.Typer(help="OAuth client apps.", no_args_is_help=True)


@accounts.command("create")
def account_create(
    name: str,
    main_number: Annotated[str | None, typer.Option(help="Company number, E.164.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account and print its id."""
    with services_for(database_url) as s:
        row = s.accounts.create_account(name, main_number)
        console.print(f"account [bold]{row.id}[/bold] created")


@accounts.command("list")
def account_list(database_url: DatabaseUrl = None) -> None:
    """List accounts."""
    with services_for(database_url) as s:
        table = Table("id", "name", "main number")
        for a in s.accounts.list_accounts():
            table.add_row(str(a.id), a.name, a.main_number or "")
        console.print(table)


@extensions.command("add")
def extension_add(
    account: AccountOpt,
    number: str,
    name: str,
    type: Annotated[str, typer.Option(help="User, Department, IvrMenu …")] = "User",
    database_url: DatabaseUrl = None,
) -> None:
    """Add an extension to an account."""
    with services_for(database_url) as s:
        row = s.accounts.add_extension(account, number, name, type)
        console.print(f"extension {row.number} has id [bold]{row.id}[/bold]")


@extensions.command("list")
def extension_list(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List an account's extensions."""
    with services_for(database_url) as s:
        table = Table("id", "number", "name", "type")
        for e in s.accounts.extensions(account):
            table.add_row(str(e.id), e.number, e.name, e.type)
        console.print(table)


@users.command("add")
def user_add(
    account: AccountOpt,
    extension: Annotated[str, typer.Option(help="Extension number the user logs in to.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    email: Annotated[str | None, typer.Option(help="Login email.")] = None,
    role: Annotated[Role, typer.Option(help="admin: company log; user: own log.")] = Role.USER,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user for an extension."""
    with services_for(database_url) as s:
        row = s.accounts.add_user(account, extension, email=email, password=password, role=role)
        console.print(f"user [bold]{row.id}[/bold] ({role.value}) on extension {extension}")


@users.command("list")
def user_list(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List an account's users."""
    with services_for(database_url) as s:
        table = Table("id", "extension id", "email", "role")
        for u in s.accounts.users(account):
            table.add_row(str(u.id), str(u.extension_id), u.email or "", u.role)
        console.print(table)


@users.command("jwt")
def user_jwt(
    user_id: Annotated[int, typer.Argument(help="User id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a JWT credential for the JWT bearer grant (printed once)."""
    with services_for(database_url) as s:
        console.print(s.accounts.issue_jwt(user_id), soft_wrap=True)


@apps.command("create")
def app_create(
    account: AccountOpt,
    name: str,
    public: Annotated[bool, typer.Option(help="No client secret (client_id only).")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Register an OAuth client app; the secret is shown once."""
    with services_for(database_url) as s:
        issued = s.accounts.create_app(account, name, public=public)
        console.print(f"client_id:     {issued.client_id}")
        if issued.client_secret:
            console.print(f"client_secret: {issued.client_secret}")


@apps.command("list")
def app_list(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List an account's apps."""
    with services_for(database_url) as s:
        table = Table("client id", "name", "grants", "scopes")
        for a in s.accounts.apps(account):
            table.add_row(a.client_id, a.name, " ".join(a.grants), " ".join(a.scopes))
        console.print(table)

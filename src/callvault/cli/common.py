"""Options and helpers every command shares: settings from env or flags, and error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from callvault.errors import CallvaultError
from callvault.services.container import Services
from callvault.settings import Settings

console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CALLVAULT_DATABASE_URL",
        help="Database URL (sqlite:///file.db or postgresql://user@host/db).",
        show_default=False,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="CALLVAULT_BASE_URL",
        help="Public base URL used in API responses.",
        show_default=False,
    ),
]
AccountOpt = Annotated[int, typer.Option("--account", "-a", help="Account id.")]


def make_settings(database_url: str | None = None, base_url: str | None = None) -> Settings:
    overrides: dict[str, object] = {}
    if database_url:
        overrides["database_url"] = database_url
    if base_url:
        overrides["base_url"] = base_url
    return Settings(**overrides)  # type: ignore[arg-type]


@contextmanager
def services_for(database_url: str | None, base_url: str | None = None) -> Iterator[Services]:
    """Services on the configured database; domain errors become a red message and exit 1."""
    services = Services.build(make_settings(database_url, base_url))
    try:
        yield services
    except CallvaultError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[red]error{where}:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        services.close()

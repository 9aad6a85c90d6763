"""``callvault db``: schema migrations."""

from __future__ import annotations

import typer

from callvault.cli.common import DatabaseUrl, console, make_settings
from callvault.storage.engine import make_engine
from callvault.storage.migrate import current_revision, upgrade

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(database_url: DatabaseUrl = None) -> None:
    """Create or migrate the schema to the newest revision."""
    settings = make_settings(database_url)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        console.print(f"database at revision [bold]{current_revision(engine)}[/bold]")
    finally:
        engine.dispose()


@app.command("current")
def current_cmd(database_url: DatabaseUrl = None) -> None:
    """Show the schema revision the database is at."""
    engine = make_engine(make_settings(database_url).database_url)
    try:
        console.print(current_revision(engine) or "(empty database)")
    finally:
        engine.dispose()

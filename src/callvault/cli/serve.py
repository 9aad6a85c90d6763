"""``callvault serve``: run the HTTP server."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from callvault.api.app import create_app
from callvault.cli.common import BaseUrl, DatabaseUrl, console, make_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the APIs (the RingCentral-compatible Call Log API and the native API)."""
    settings = make_settings(database_url, base_url or f"http://{host}:{port}")
    console.print(
        f"callvault serving on [bold]http://{host}:{port}[/bold] "
        f"(database: {settings.database_url})"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)

"""The ``callvault`` command line: serve, migrate, demo data, imports, and administration."""

from __future__ import annotations

import typer

from callvault.cli import (
    admin,
    apikeys,
    calls,
    db,
    demo,
    importing,
    policies,
    recordings,
    serve,
    simulate,
    webhooks,
)

app = typer.Typer(
    help="callvault: a self-hosted call-history server with a RingCentral-compatible API.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("simulate")(simulate.simulate)
app.add_typer(db.app, name="db")
app.add_typer(importing.app, name="import")
app.add_typer(admin.accounts, name="account")
app.add_typer(admin.extensions, name="extension")
app.add_typer(admin.users, name="user")
app.add_typer(admin.apps, name="app")
app.add_typer(calls.app, name="calls")
app.add_typer(recordings.app, name="recordings")
app.add_typer(webhooks.app, name="webhook")
app.add_typer(policies.app, name="policy")
app.add_typer(apikeys.app, name="apikey")


def main() -> None:
    app()

"""The administration commands: accounts, extensions, users, apps, JWT credentials, schema."""

from __future__ import annotations

import re

import httpx
from typer.testing import CliRunner

from callvault.cli import app
from callvault.services.container import Services


def _run(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    return result.output


def test_set_up_an_account_from_the_command_line_and_log_in(
    database_url: str, services: Services, http: httpx.Client
) -> None:
    assert "revision" in _run(database_url, "db", "upgrade")
    out = _run(database_url, "account", "create", "Acme", "--main-number", "+16505559876")
    account = re.search(r"account (\d+) created", out)
    assert account is not None
    acc = account.group(1)
    _run(database_url, "extension", "add", "--account", acc, "201", "Zed Admin")
    _run(
        database_url,
        "user",
        "add",
        "--account",
        acc,
        "--extension",
        "201",
        "--password",
        "long-enough-1",
        "--role",
        "admin",
        "--email",
        "zed@acme.test",
    )
    listed = _run(database_url, "user", "list", "--account", acc)
    assert "zed@acme.test" in listed and "admin" in listed
    creds = _run(database_url, "app", "create", "--account", acc, "Acme CRM")
    client_id = re.search(r"client_id:\s+(\S+)", creds)
    secret = re.search(r"client_secret:\s+(\S+)", creds)
    assert client_id is not None and secret is not None
    token = http.post(
        "/restapi/oauth/token",
        auth=(client_id.group(1), secret.group(1)),
        data={"grant_type": "password", "username": "zed@acme.test", "password": "long-enough-1"},
    )
    assert token.status_code == 200, token.text
    user_id = services.accounts.users(int(acc))[0].id
    jwt_out = _run(database_url, "user", "jwt", str(user_id))
    assertion = jwt_out.strip().split()[-1]
    jwt_login = http.post(
        "/restapi/oauth/token",
        auth=(client_id.group(1), secret.group(1)),
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    assert jwt_login.status_code == 200, jwt_login.text


def test_errors_are_one_clear_line(database_url: str, services: Services) -> None:
    result = CliRunner().invoke(
        app, ["extension", "add", "--account", "1", "12x", "Bad", "--database-url", database_url]
    )
    assert result.exit_code == 1
    assert "1-8 digits" in result.output and "Traceback" not in result.output

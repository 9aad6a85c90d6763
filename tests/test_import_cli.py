"""``callvault import ringcentral``: list responses, bare arrays and NDJSON, streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callvault.cli import app
from callvault.services.container import Services
from tests.builders import make_account, rc_record


@pytest.mark.parametrize("shape", ["list-response", "array", "ndjson"])
def test_import_file_shapes(
    services: Services, database_url: str, tmp_path: Path, shape: str
) -> None:
    acc = make_account(services)
    ext = acc.extensions["102"]
    records = [rc_record(f"F{i}", extension_id=ext) for i in range(5)]
    records.append({"id": "BAD", "direction": "Inbound"})  # no startTime, type, action
    path = tmp_path / "export.json"
    if shape == "list-response":
        path.write_text(json.dumps({"uri": "x", "records": records, "paging": {"perPage": 100}}))
    elif shape == "array":
        path.write_text(json.dumps(records))
    else:
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    runner = CliRunner()
    args = [
        "import",
        "ringcentral",
        "--account",
        str(acc.account_id),
        str(path),
        "--database-url",
        database_url,
        "--batch-size",
        "2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output  # one record was rejected
    assert "5 created" in result.output
    assert "record #5" in result.output and "startTime" in result.output
    assert services.calls.count(acc.account_id) == 5
    again = runner.invoke(app, args)
    assert "0 created, 0 updated, 5 unchanged" in again.output

"""PortSIP CDR JSON → call records: webhook and REST shapes, every enum and key spelling,
file shapes streamed, errors naming the field, and ``callvault import portsip``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from callvault.cli import app
from callvault.domain.enums import Direction, Disconnector, LegType, Result
from callvault.domain.targets import EndReason, Rerouting, TargetDirection, targets_of
from callvault.importers.portsip_files import iter_file_items
from callvault.importers.portsip_json import records_from
from callvault.importers.ringcentral_json import RecordError
from callvault.services.container import Services
from tests.builders import make_account
from tests.helpers import assert_call_log
from tests.portsip_support import FILES, Tenant, load_fixture_calls, make_tenant

EXTS = {"101": 9001, "102": 9002, "103": 9003}


def resolve(ext_id: str | None, number: str | None) -> int | None:
    return EXTS.get(number or "")


def _webhook() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FILES / "call_cdr_queue.json").read_text())
    return body


def test_call_cdr_becomes_one_record_per_extension() -> None:
    records = records_from(_webhook(), resolve) or []
    assert [r.extension_id for r in records] == [9002, 9003]
    for r in records:
        assert r.session_id == "905112233445566778"
        assert r.direction is Direction.INBOUND
        assert [leg.to_party.extension_number for leg in r.legs if leg.to_party] == [
            "5000",
            "8000",
            "102",
            "103",
        ]
    ben, cy = records
    assert ben.result is Result.MISSED and cy.result is Result.ACCEPTED
    # Each target is listed once in the company view, by the record of its extension.
    company = [t.callee for r in records for t in targets_of(r) if t.in_company_log]
    assert sorted(company) == ["102", "103", "5000", "8000"]
    assert [t.callee for t in targets_of(ben) if t.in_owner_log] == ["102"]


def test_targets_keep_what_the_webhook_said() -> None:
    (record, *_) = records_from(_webhook(), resolve) or []
    ivr, queue, ben, cy = targets_of(record)
    assert ivr.end_reason is EndReason.REFERRED and ivr.destination == "sip:5000@10.20.0.5:5080"
    assert ivr.caller_domain == "203.0.113.7" and ivr.callee_domain == "acme.example"
    assert ben.answered is None and ben.talk_seconds == 0 and ben.service_number == "8000"
    assert cy.talk_seconds == 95 and cy.cost == 0.12
    # The call's "callee hung up" belongs to the target that held the call at the end.
    assert cy.end_reason is EndReason.CALLEE_HUNG_UP
    assert {t.direction for t in (ivr, queue, ben, cy)} == {TargetDirection.INBOUND}
    assert {t.did for t in (ivr, cy)} == {"16505550100"} and cy.trunk == "sbc-east"


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("ext", TargetDirection.INTERNAL),
        ("internal", TargetDirection.INTERNAL),
        ("EXTENSION_CALL", TargetDirection.INTERNAL),
        ("in", TargetDirection.INBOUND),
        ("inbound", TargetDirection.INBOUND),
        ("INBOUND_CALL", TargetDirection.INBOUND),
        ("in2out", TargetDirection.INBOUND_OUTBOUND),
        ("inbound_outbound", TargetDirection.INBOUND_OUTBOUND),
        ("INBOUND_OUTBOUND_CALL", TargetDirection.INBOUND_OUTBOUND),
        ("out", TargetDirection.OUTBOUND),
        ("outbound", TargetDirection.OUTBOUND),
        ("OUTBOUND_CALL", TargetDirection.OUTBOUND),
    ],
)
def test_every_direction_spelling(direction: str, expected: TargetDirection) -> None:
    caller, callee = {
        TargetDirection.INTERNAL: ("101", "102"),
        TargetDirection.INBOUND: ("14155550100", "102"),
        TargetDirection.INBOUND_OUTBOUND: ("14155550100", "14155550111"),
        TargetDirection.OUTBOUND: ("102", "14155550111"),
    }[expected]
    rest = {"caller": caller, "callee": callee, "started_at": "2026-03-02T09:00:00Z"}
    (record, *_) = records_from({**rest, "direction": direction}, resolve) or []
    assert targets_of(record)[0].direction is expected


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("CALLER_DISCONNECTED", EndReason.CALLER_HUNG_UP),
        ("CALLER_DISCONNECT", EndReason.CALLER_HUNG_UP),
        ("caller_disconnected", EndReason.CALLER_HUNG_UP),
        ("callee_disconnect", EndReason.CALLEE_HUNG_UP),
        ("CALLEE_DISCONNECTED", EndReason.CALLEE_HUNG_UP),
        ("blind_transfer_complete", EndReason.BLIND_TRANSFER),
        ("BLIND_TRANSFER_COMPLETED", EndReason.BLIND_TRANSFER),
        ("attended_transfer_complete", EndReason.ATTENDED_TRANSFER),
        ("CONSULT_TRANSFER_COMPLETED", EndReason.ATTENDED_TRANSFER),
        ("replaced", EndReason.REPLACED),
        ("REFERRED", EndReason.REFERRED),
        ("redirected", EndReason.REDIRECTED),
        ("None", None),
        ("", None),
    ],
)
def test_every_end_reason_spelling(spelling: str, expected: EndReason | None) -> None:
    rest = {
        "caller": "14155550100",
        "callee": "102",
        "direction": "INBOUND_CALL",
        "started_at": "2026-03-02T09:00:00Z",
        "answered_at": "2026-03-02T09:00:02Z",
        "ended_at": "2026-03-02T09:01:00Z",
    }
    for key in ("end_reason", "ended_reason"):
        (record, *_) = records_from({**rest, key: spelling}, resolve) or []
        assert targets_of(record)[0].end_reason is expected, key


def test_cancelled_and_reroute_reasons() -> None:
    rest = {
        "caller": "14155550100",
        "callee": "102",
        "direction": "in",
        "started_at": "2026-03-02T09:00:00Z",
        "answered_at": "",
        "end_reason": "cancelled",
        "reroute_reason": "forwarding_busy",
    }
    (record, *_) = records_from(rest, resolve) or []
    (target,) = targets_of(record)
    assert target.end_reason is EndReason.CANCELLED
    assert target.rerouted_by is Rerouting.FORWARDING_BUSY
    assert record.legs[0].cdr.disconnected_by is Disconnector.CALLER


def test_webhook_key_spellings() -> None:
    body = {
        "event_type": "call_cdr",
        "session_id": "77",
        "direction": "out",
        "caller": "sip:102@acme.example",
        "ended_reason": "caller_disconnect",
        "did_cid": "16505550100",
        "start_time": 1772442000,
        "call_targets": [
            {
                "callee": "sip:14155550111@198.51.100.20;transport=udp",
                "destiantion": "sip:14155550111@198.51.100.20",
                "start_time": "1772442000000",
                "answered_time": 1772442003,
                "ended_time": "1772442033",
                "talk_duration": "30",
                "status_code": "0",
                "trunk_name": "sbc-west",
                "cost": "0.05",
            }
        ],
    }
    (record,) = records_from(body, resolve) or []
    (t,) = targets_of(record)
    assert (t.caller, t.caller_domain, t.callee, t.callee_domain) == (
        "102",
        "acme.example",
        "14155550111",
        "198.51.100.20",
    )
    assert t.destination == "sip:14155550111@198.51.100.20" and t.trunk == "sbc-west"
    assert t.started.timestamp() == 1772442000 and t.talk_seconds == 30
    assert t.did == "16505550100" and t.cost == 0.05
    assert t.end_reason is EndReason.CALLER_HUNG_UP
    assert record.legs[0].leg_type is LegType.SIP_TO_PSTN_METERED


def test_events_without_a_final_cdr_are_skipped() -> None:
    for event in ("call_start", "call_update_info", "cdr_target_ringing", "cdr_target_end"):
        assert records_from({"event_type": event, "session_id": "1"}, resolve) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_at": None}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"direction": "sideways"}, "direction"),
        ({"direction": None}, "direction"),
        ({"status_code": "busy"}, "status_code"),
        ({"cost": "cheap"}, "cost"),
        ({"ended_at": "2026-03-02T08:00:00Z"}, "ended_at"),
        ({"caller": None, "callee": None}, "caller"),
        ({"trunk": {"name": "x"}}, "trunk"),
    ],
)
def test_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    rest = {
        "caller": "14155550100",
        "callee": "102",
        "direction": "in",
        "started_at": "2026-03-02T09:00:00Z",
        **change,
    }
    with pytest.raises(RecordError) as info:
        records_from({k: v for k, v in rest.items() if v is not None}, resolve)
    assert info.value.field == field


def test_errors_in_targets_name_their_position() -> None:
    body = _webhook()
    del body["call_targets"][2]["start_time"]
    with pytest.raises(RecordError) as info:
        records_from(body, resolve)
    assert info.value.field == "call_targets[2].start_time"


REST_ITEM = {"id": "1", "caller": "101", "callee": "102", "direction": "EXTENSION_CALL"}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"count": 2, "items": [REST_ITEM, REST_ITEM]}),
        json.dumps({"count": 2, "items": [REST_ITEM, REST_ITEM]}, indent=2),
        json.dumps([REST_ITEM, REST_ITEM]),
        json.dumps(REST_ITEM) + "\n" + json.dumps(REST_ITEM) + "\n",
        json.dumps({"items": REST_ITEM}) + "\n" + json.dumps({"items": [REST_ITEM]}),
        json.dumps({"items": REST_ITEM}, indent=1) + json.dumps({})[:0] + "\n\n",
    ],
)
def test_file_shapes(text: str) -> None:
    items = list(iter_file_items(io.BytesIO(text.encode())))
    assert items and all(i == REST_ITEM for i in items)


def test_a_pretty_printed_webhook_body_is_one_item() -> None:
    with (FILES / "call_cdr_queue.json").open("rb") as fh:
        (item,) = list(iter_file_items(fh))
    assert item == _webhook()


# -- through the write path and the API ------------------------------------------------------


def test_rest_records_round_trip(
    services: Services, http: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    tenant: Tenant = make_tenant(services, http)
    source = json.loads((FILES / "rest_calllogs.json").read_text())
    path = tmp_path / "calllogs.json"
    path.write_text(json.dumps(source))
    args = ["import", "portsip", "--account", str(tenant.acc.account_id), str(path)]
    result = CliRunner().invoke(app, [*args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged, 0 rejected" in result.output
    params = {"orderby": "started_at asc"}
    served = http.get("/api/calllogs", params=params, headers=tenant.auth()).json()["items"]
    assert len(served) == 3
    for want, got in zip(source["items"], served, strict=True):
        for key, value in want.items():
            if key in ("id", "cost", "billed_account"):
                continue  # callvault's own ids; billing is on the detail shape
            if key.endswith("_at") and value:
                assert got[key][:19] == value[:19], key
            elif value == "" and key in ("end_reason", "reroute_reason", "outbound_caller_id"):
                assert key not in got
            elif key == "end_reason":  # the sample's spelling comes back as the REST one
                assert got[key] == {"CALLER_DISCONNECT": "CALLER_DISCONNECTED"}.get(value, value)
            else:
                assert got[key] == value, key
    again = CliRunner().invoke(app, [*args, "--database-url", database_url])
    assert "0 created, 0 updated, 3 unchanged" in again.output


def test_cli_reports_rejects_and_skips(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    acc = make_account(services)
    bad = {"caller": "101", "callee": "102", "direction": "ext"}  # no start time
    path = tmp_path / "mixed.ndjson"
    lines = [*(FILES / "webhook_events.ndjson").read_text().splitlines(), json.dumps(bad)]
    path.write_text("\n".join(lines) + "\n")
    args = ["import", "portsip", "--account", str(acc.account_id), str(path)]
    result = CliRunner().invoke(app, [*args, "--database-url", database_url, "--batch-size", "1"])
    assert result.exit_code == 1, result.output
    assert "3 created" in result.output and "1 rejected" in result.output
    assert "2 skipped" in result.output
    assert "record #4" in result.output and "started_at" in result.output
    assert services.calls.count(acc.account_id) == 3


def test_imported_calls_are_valid_ringcentral_records(
    services: Services, http: httpx.Client
) -> None:
    """The same stored calls serve the RingCentral face: strict to its published schema."""
    tenant = make_tenant(services, http)
    load_fixture_calls(services, tenant.acc)
    params = {"view": "Detailed", "dateFrom": "2026-03-01T00:00:00Z", "perPage": "100"}
    r = http.get("/restapi/v1.0/account/~/call-log", params=params, headers=tenant.acc.auth("101"))
    body = assert_call_log(r)
    # Two records per call with two extensions on it, one for calls with one or none.
    assert len(body["records"]) == 9

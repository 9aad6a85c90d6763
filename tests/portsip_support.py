"""Shared by the PortSIP face's tests: login, the fixture calls, strict contract checks against
portsip-cdr-openapi.yaml, and golden files."""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from callvault.importers.portsip_json import records_from
from callvault.importers.ringcentral_json import parse_record
from callvault.services.container import Services
from callvault.services.imports import import_portsip_file
from tests.builders import PASSWORD, TestAccount, make_account, rc_record
from tests.openapi import strict_response_schema, validate_against

PORTSIP_CLIENT_ID = "9d806019-75b2-4b3d-bb8b-f5a3a412cc0a"
FILES = Path(__file__).parent / "files" / "portsip"
GOLDEN = Path(__file__).parent / "golden" / "portsip"
SPEC = "portsip-cdr-openapi.yaml"
FIXTURE_FILES = ("call_cdr_queue.json", "webhook_events.ndjson", "rest_calllogs.json")

# Reroute reasons v22.3.0 added to every CDR endpoint (CDR reference §7.3, from PortSIP's REST
# change log); the OpenAPI file predates them and lists only TRANSFER and OVERFLOW.
V22_3_REROUTE_REASONS = (
    "CAPACITY_BLOCKED",
    "QUEUE_EXIT",
    "QUEUE_ABANDONED",
    "REDIRECT",
    "FORWARDING_UNCONDITIONAL",
    "FORWARDING_BUSY",
    "FORWARDING_NO_ANSWER",
    "FORWARDING_NOT_REACHABLE",
    "FORWARDING_EXCEPTION",
    "FORWARDING_LUNCH",
    "FORWARDING_BUSINESS_TRIP",
    "FORWARDING_AWAY",
    "FORWARDING_NIGHT_MODE",
)
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_TIME_FIELDS = ("started_at", "rang_at", "answered_at", "ended_at")


@dataclass
class Tenant:
    """A test account whose users logged in through PortSIP's token endpoint."""

    acc: TestAccount
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def auth(self, ext: str = "101") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[ext]['access_token']}"}


def portsip_login(http: httpx.Client, acc: TestAccount, ext: str) -> dict[str, Any]:
    r = http.post(
        "/api/login/oauth/token",
        data={
            "grant_type": "password",
            "username": ext,
            "password": PASSWORD,
            "domain": str(acc.account_id),
            "scope": "all",
            "client_id": PORTSIP_CLIENT_ID,
        },
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def make_tenant(services: Services, http: httpx.Client) -> Tenant:
    acc = make_account(services, http)
    tenant = Tenant(acc)
    for ext in ("101", "102", "103"):
        tenant.tokens[ext] = portsip_login(http, acc, ext)
    return tenant


def load_fixture_calls(services: Services, acc: TestAccount) -> None:
    """The PortSIP fixture files, plus a RingCentral-shaped missed call to 102 (a record
    with legs and no CDR facts, as another face would store it)."""
    for name in FIXTURE_FILES:
        report, _ = import_portsip_file(services, acc.account_id, FILES / name)
        assert not report.problems, report.problems
    missed = rc_record(
        "RC-MISSED-1",
        extension_id=acc.extensions["102"],
        start=datetime(2026, 3, 4, 8, 0, 0, 250_000, tzinfo=UTC),
        result="Missed",
        from_number="+14155550123",
        to_number="+16505550102",
        duration_ms=20_000,
        sessionId="77001",
        telephonySessionId="s-rc-missed-1",
    )
    report = services.ingest.ingest(acc.account_id, [parse_record(missed)])
    assert report.created == 1, report


def _with_release_notes(schema: Any) -> Any:
    if isinstance(schema, dict):
        props = schema.get("properties", {})
        reroute = props.get("reroute_reason")
        if isinstance(reroute, dict) and "enum" in reroute:
            reroute["enum"] = [*reroute["enum"], *V22_3_REROUTE_REASONS]
        for value in schema.values():
            _with_release_notes(value)
    elif isinstance(schema, list):
        for value in schema:
            _with_release_notes(value)
    return schema


def _check_times(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _TIME_FIELDS:
                assert item == "" or TIME.match(item), f"{key}={item!r}"
            else:
                _check_times(item)
    elif isinstance(value, list):
        for item in value:
            _check_times(item)


def assert_portsip(body: Any, path: str, *, method: str = "get", status: str = "200") -> Any:
    """``body`` matches the published response schema strictly (plus the v22.3 reroute
    reasons), and every time is RFC 3339 UTC with milliseconds, or ``""``."""
    schema = _with_release_notes(copy.deepcopy(strict_response_schema(SPEC, path, method, status)))
    validate_against(body, schema, f"{method.upper()} {path} {status}")
    _check_times(body)
    assert "null" not in json.dumps(body), body
    return body


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A PortSIP error body: the 4XX ``ErrorResponse`` schema, this status and code."""
    assert response.status_code == status, (str(response.request.url), response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    validate_against(body, strict_response_schema(SPEC, "/cdrs", "get", "4XX"), f"error {status}")
    assert body["errors"][0]["code"] == code, body
    return body


def assert_golden(name: str, body: Any) -> None:
    """Compare with ``tests/golden/portsip/<name>.json``; CALLVAULT_UPDATE_GOLDEN=1 rewrites."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("CALLVAULT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.is_file(), f"{path} is missing; run with CALLVAULT_UPDATE_GOLDEN=1"
    expected = json.loads(path.read_text())
    assert body == expected, f"{name}: response differs from {path}:\n{text}"


def by_callee(items: list[dict[str, Any]], callee: str) -> dict[str, Any]:
    found = [i for i in items if i["callee"] == callee]
    assert len(found) == 1, (callee, items)
    return found[0]


# -- finished calls as PortSIP's ``call_cdr`` webhook sends them ------------------------------

CDR_BASE = 1772442000  # 2026-03-02T09:00:00Z


def call_cdr(
    session: str,
    *,
    start: int,
    callee: str = "102",
    answered: bool = True,
    status_code: int = 0,
) -> dict[str, Any]:
    """A finished inbound call to ``callee`` with one target: in the company view and in the
    callee's own."""
    return {
        "event_type": "call_cdr",
        "session_id": session,
        "direction": "in",
        "caller": "14155550100",
        "callee": callee,
        "start_time": str(start),
        "ended_time": str(start + 30),
        "call_targets": [
            {
                "caller": "14155550100",
                "callee": callee,
                "start_time": str(start),
                "answered_time": str(start + 5) if answered else "0",
                "ended_time": str(start + 30),
                "status_code": status_code,
                "end_reason": "callee_disconnected" if answered else "cancelled",
            }
        ],
    }


def store_cdrs(services: Services, tenant: Tenant, *bodies: Any) -> None:
    """Ingest ``call_cdr`` bodies into the tenant's account; every record must be stored."""
    resolve = services.accounts.resolver(tenant.acc.account_id)
    records = [r for body in bodies for r in records_from(body, resolve) or []]
    report = services.ingest.ingest(tenant.acc.account_id, records)
    assert not report.problems, report.problems
    assert report.created + report.updated + report.unchanged == len(records), report

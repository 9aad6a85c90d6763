"""The PortSIP CDR face over HTTP: every endpoint against a golden file and the published
schema, on GET and POST, with the fixture calls (webhook, REST and RingCentral-shaped)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callvault.services.container import Services
from tests.portsip_support import (
    Tenant,
    assert_error,
    assert_golden,
    assert_portsip,
    by_callee,
    load_fixture_calls,
    make_tenant,
)


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    t = make_tenant(services, http)
    load_fixture_calls(services, t.acc)
    return t


def _get(http: httpx.Client, tenant: Tenant, path: str, ext: str = "101", **params: Any) -> Any:
    r = http.get(path, params=params, headers=tenant.auth(ext))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def test_cdrs_list(http: httpx.Client, tenant: Tenant) -> None:
    body = assert_portsip(_get(http, tenant, "/api/cdrs"), "/cdrs")
    # One item per call target: 4 (IVR, queue, two agents) + 1 + 1 + 3 REST + 1 RingCentral.
    assert body["count"] == len(body["items"]) == 10
    assert len({i["id"] for i in body["items"]}) == 10
    starts = [i["started_at"] for i in body["items"]]
    assert starts == sorted(starts, reverse=True)
    assert_golden("cdrs_list", body)


def test_calllogs_list_filtered_and_ordered(http: httpx.Client, tenant: Tenant) -> None:
    body = _get(
        http,
        tenant,
        "/api/calllogs",
        filter="started_at ge '2026-03-03T00:00:00Z' and started_at lt '2026-03-04T00:00:00Z'",
        orderby="started_at asc",
    )
    assert_portsip(body, "/calllogs")
    assert [i["callee"] for i in body["items"]] == ["101", "103", "16505550999"]
    # The two targets of the transferred call share their session.
    assert body["items"][0]["session_id"] == body["items"][1]["session_id"]
    assert_golden("calllogs_list_filtered", body)


def test_calllogs_session_groups_targets(http: httpx.Client, tenant: Tenant) -> None:
    body = _get(http, tenant, "/api/calllogs", filter="session_id eq '905112233445566778'")
    assert_portsip(body, "/calllogs")
    assert sorted(i["callee"] for i in body["items"]) == ["102", "103", "5000", "8000"]
    assert_golden("calllogs_session", body)


def test_cdr_detail(http: httpx.Client, tenant: Tenant) -> None:
    items = _get(http, tenant, "/api/cdrs", filter="session_id eq '905112233445567001'")["items"]
    target = by_callee(items, "103")
    body = assert_portsip(_get(http, tenant, f"/api/cdrs/{target['id']}"), "/cdrs/{id}")
    # An array wrapper around one item without id, with the billing fields.
    assert isinstance(body["items"], list) and len(body["items"]) == 1
    assert "id" not in body["items"][0]
    assert body["items"][0]["cost"] == 0.35
    assert_golden("cdr_detail", body)


def test_calllog_detail(http: httpx.Client, tenant: Tenant) -> None:
    items = _get(http, tenant, "/api/calllogs", filter="callee eq '103'")["items"]
    target = by_callee([i for i in items if i["session_id"] == "905112233445566778"], "103")
    body = assert_portsip(_get(http, tenant, f"/api/calllogs/{target['id']}"), "/calllogs/{id}")
    assert body["id"] == target["id"] and body["session_id"] == "905112233445566778"
    assert body["service_number"] == "8000"
    assert_golden("calllog_detail", body)


def test_user_cdrs_are_own(http: httpx.Client, tenant: Tenant) -> None:
    body = assert_portsip(_get(http, tenant, "/api/user/cdrs", ext="102"), "/user/cdrs")
    # 102 rang in the queue, was called by 101, called out, and missed a call.
    assert sorted((i["caller"], i["callee"]) for i in body["items"]) == sorted(
        [
            ("101", "102"),
            ("102", "14155550199"),
            ("14155550142", "102"),
            ("+14155550123", "+16505550102"),
        ]
    )
    assert_golden("user_cdrs_list", body)
    mine = _get(http, tenant, "/api/user/cdrs", ext="101")["items"]
    assert sorted(i["callee"] for i in mine) == ["101", "102"]


def test_user_cdr_detail(http: httpx.Client, tenant: Tenant) -> None:
    items = _get(http, tenant, "/api/user/cdrs", ext="102", filter="direction eq 'OUTBOUND_CALL'")
    (target,) = items["items"]
    body = _get(http, tenant, f"/api/user/cdrs/{target['id']}", ext="102")
    assert_portsip(body, "/user/cdrs/{id}")
    # An object wrapper, without id or duration.
    assert isinstance(body["items"], dict)
    assert "id" not in body["items"] and "duration" not in body["items"]
    assert body["items"]["status_code"] == 486
    assert_golden("user_cdr_detail", body)
    # Another user's CDR is not among 103's own.
    r = http.get(f"/api/user/cdrs/{target['id']}", headers=tenant.auth("103"))
    assert_error(r, 404, "NOT_FOUND")


def test_post_takes_options_from_the_url(http: httpx.Client, tenant: Tenant) -> None:
    params = {
        "$filter": "direction eq 'INBOUND_CALL' and answered_at ne ''",
        "$orderby": "duration desc, started_at asc",
        "$top": "2",
        "$skip": "1",
        "$count": "true",
    }
    r = http.post("/api/cdrs", params=params, headers=tenant.auth())
    assert r.status_code == 200, r.text
    body = assert_portsip(r.json(), "/cdrs")
    assert body["count"] == 5
    assert [i["duration"] for i in body["items"]] == [95, 38]
    assert_golden("cdrs_post_paged", body)
    for path in ("/api/calllogs", "/api/user/cdrs"):
        r = http.post(path, params={"top": "1"}, headers=tenant.auth())
        assert r.status_code == 200 and len(r.json()["items"]) == 1
    target = body["items"][0]["id"]
    for path in (f"/api/cdrs/{target}", f"/api/calllogs/{target}"):
        assert http.post(path, headers=tenant.auth()).status_code == 200


def test_search(http: httpx.Client, tenant: Tenant) -> None:
    body = _get(http, tenant, "/api/cdrs", search="rosa or 14155550199")
    assert_portsip(body, "/cdrs")
    assert body["count"] == 5
    both = _get(http, tenant, "/api/cdrs", search="rosa 103", filter="duration gt 0")
    assert [(i["caller"], i["callee"]) for i in both["items"]] == [("14155550142", "103")]


def test_enum_spellings_are_the_rest_ones(http: httpx.Client, tenant: Tenant) -> None:
    items = _get(http, tenant, "/api/cdrs")["items"]
    assert {i["direction"] for i in items} == {
        "INBOUND_CALL",
        "OUTBOUND_CALL",
        "EXTENSION_CALL",
        "INBOUND_OUTBOUND_CALL",
    }
    assert {i.get("end_reason", "") for i in items} == {
        "",
        "REFERRED",
        "CALLEE_DISCONNECTED",
        "CALLER_DISCONNECTED",
        "BLIND_TRANSFER_COMPLETED",
    }
    assert {i.get("reroute_reason", "") for i in items} == {"", "TRANSFER", "FORWARDING_NO_ANSWER"}


def test_paging_limits(http: httpx.Client, tenant: Tenant) -> None:
    page = _get(http, tenant, "/api/cdrs", top="3", skip="9")
    assert page["count"] == 10 and len(page["items"]) == 1
    assert _get(http, tenant, "/api/cdrs", skip="50")["items"] == []
    for params in ({"top": "0"}, {"top": "101"}, {"skip": "-1"}, {"top": "ten"}):
        r = http.get("/api/cdrs", params=params, headers=tenant.auth())
        body = assert_error(r, 400, "VALIDATE_FAILED")
        assert body["errors"][0]["detail"]["parameter"] in params
    r = http.get("/api/cdrs", params={"count": "maybe"}, headers=tenant.auth())
    assert_error(r, 400, "VALIDATE_FAILED")
    r = http.get(
        "/api/cdrs", params={"filter": "caller eq '1'", "$filter": "x"}, headers=tenant.auth()
    )
    assert_error(r, 400, "VALIDATE_FAILED")


def test_unknown_id_is_404(http: httpx.Client, tenant: Tenant) -> None:
    for path in ("/api/cdrs/NOPE", "/api/calllogs/NOPE", "/api/user/cdrs/NOPE"):
        assert_error(http.get(path, headers=tenant.auth()), 404, "NOT_FOUND")


def test_error_body(http: httpx.Client, tenant: Tenant) -> None:
    params = {"filter": "caller eq '101' and started_at gt"}
    body = assert_error(
        http.get("/api/cdrs", params=params, headers=tenant.auth()), 400, "VALIDATE_FAILED"
    )
    assert_golden("error_filter", body)

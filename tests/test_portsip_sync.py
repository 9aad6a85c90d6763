"""The user's CDR delta sync: tokens, CREATED / UPDATED / DELETED in commit order, paging
through long diffs, and 403 for a token that cannot be continued (CDR reference §9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from callvault.services import targets as target_service
from callvault.services.container import Services
from callvault.storage.calls import CallStore
from tests.portsip_support import (
    CDR_BASE,
    Tenant,
    assert_error,
    assert_golden,
    assert_portsip,
    call_cdr,
    make_tenant,
    store_cdrs,
)

START = "/api/user/cdrs/sync_tokens"
BASE = CDR_BASE


def _start(http: httpx.Client, tenant: Tenant, ext: str = "102", **params: str) -> str:
    r = http.post(START, params=params, headers=tenant.auth(ext))
    assert r.status_code == 201, r.text
    body = assert_portsip(r.json(), "/user/cdrs/sync_tokens", method="post", status="201")
    token: str = body["token"]
    return token


def _diff(http: httpx.Client, tenant: Tenant, token: str, ext: str = "102") -> dict[str, Any]:
    r = http.post(f"{START}/{token}/diff", headers=tenant.auth(ext))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = assert_portsip(
        r.json(), "/user/cdrs/sync_tokens/{token}/diff", method="post"
    )
    return body


def _kinds(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (c["change_type"], c["items"][0]["callee"] if c["items"] else "") for c in body["items"]
    ]


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    return make_tenant(services, http)


def test_created_updated_deleted(services: Services, http: httpx.Client, tenant: Tenant) -> None:
    token = _start(http, tenant)
    first = _diff(http, tenant, token)
    assert first["items"] == [] and first["token"]

    store_cdrs(
        services, tenant, call_cdr("S1", start=BASE), call_cdr("S2", start=BASE + 60, callee="103")
    )
    created = _diff(http, tenant, first["token"])
    assert _kinds(created) == [("CREATED", "102")]  # 103's call is not 102's
    item = created["items"][0]["items"][0]
    assert set(item) == {
        "caller",
        "callee",
        "started_at",
        "answered_at",
        "ended_at",
        "did_cid",
        "trunk",
        "status_code",
    }
    assert item["answered_at"] == "2026-03-02T09:00:05.000Z"
    cdr_id = created["items"][0]["id"]
    assert_golden("user_cdrs_sync_diff", {**created, "token": "<opaque>"})

    store_cdrs(services, tenant, call_cdr("S1", start=BASE, answered=False))
    updated = _diff(http, tenant, created["token"])
    assert _kinds(updated) == [("UPDATED", "102")]
    assert updated["items"][0]["id"] == cdr_id
    assert updated["items"][0]["items"][0]["answered_at"] == ""
    # Sending the same record again changes nothing.
    store_cdrs(services, tenant, call_cdr("S1", start=BASE, answered=False))
    assert _diff(http, tenant, updated["token"])["items"] == []

    ext = tenant.acc.extensions["102"]
    services.calls.delete_before(tenant.acc.account_id, ext, datetime(2026, 4, 1, tzinfo=UTC))
    deleted = _diff(http, tenant, updated["token"])
    assert deleted["items"] == [{"id": cdr_id, "change_type": "DELETED", "items": []}]
    assert _diff(http, tenant, deleted["token"])["items"] == []


def test_date_from_lists_everything_since(
    services: Services, http: httpx.Client, tenant: Tenant
) -> None:
    store_cdrs(
        services,
        tenant,
        call_cdr("OLD", start=BASE - 86_400),
        call_cdr("NEW", start=BASE),
        call_cdr("NEWER", start=BASE + 600),
    )
    token = _start(http, tenant, date_from="2026-03-02T00:00:00Z")
    body = _diff(http, tenant, token)
    assert [c["change_type"] for c in body["items"]] == ["CREATED", "CREATED"]
    starts = sorted(c["items"][0]["started_at"] for c in body["items"])
    assert starts == ["2026-03-02T09:00:00.000Z", "2026-03-02T09:10:00.000Z"]
    # A call created and deleted between two syncs was never seen: it is not reported.
    store_cdrs(services, tenant, call_cdr("BRIEF", start=BASE + 900))
    ext = tenant.acc.extensions["102"]
    services.calls.delete_before(tenant.acc.account_id, ext, datetime(2026, 4, 1, tzinfo=UTC))
    after = _diff(http, tenant, body["token"])
    assert [c["change_type"] for c in after["items"]] == ["DELETED", "DELETED"]


def test_a_target_dropped_by_an_update_is_deleted(
    services: Services, http: httpx.Client, tenant: Tenant
) -> None:
    two = call_cdr("S9", start=BASE)
    two["call_targets"].append({**two["call_targets"][0], "start_time": str(BASE + 10)})
    store_cdrs(services, tenant, two)
    token = _start(http, tenant, date_from="2026-03-01")
    body = _diff(http, tenant, token)
    assert len(body["items"]) == 2
    store_cdrs(services, tenant, call_cdr("S9", start=BASE))
    after = _diff(http, tenant, body["token"])
    assert [c["change_type"] for c in after["items"]] == ["DELETED"]


def test_long_diffs_continue_from_the_returned_token(
    services: Services, http: httpx.Client, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(target_service, "DIFF_LIMIT", 3)
    store_cdrs(services, tenant, *(call_cdr(f"P{n}", start=BASE + n * 60) for n in range(8)))
    token, seen = _start(http, tenant, date_from="2026-03-01"), []
    for _ in range(5):
        body = _diff(http, tenant, token)
        seen += [c["id"] for c in body["items"]]
        token = body["token"]
    assert len(seen) == len(set(seen)) == 8


def test_step_two_on_get_and_without_diff(
    services: Services, http: httpx.Client, tenant: Tenant
) -> None:
    store_cdrs(services, tenant, call_cdr("G1", start=BASE))
    token = _start(http, tenant, date_from="2026-03-01")
    for method, path in (("GET", f"{START}/{token}/diff"), ("POST", f"{START}/{token}")):
        r = http.request(method, path, headers=tenant.auth("102"))
        assert r.status_code == 200, r.text
        assert [c["change_type"] for c in r.json()["items"]] == ["CREATED"]


def test_unusable_tokens_get_403(
    services: Services, http: httpx.Client, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _start(http, tenant)
    payload, _, mac = token.partition(".")
    for bad in ("nope", f"{payload}.{'A' * len(mac)}", f"{payload[:-2]}AA.{mac}", "a.b"):
        r = http.post(f"{START}/{bad}/diff", headers=tenant.auth("102"))
        assert_error(r, 403, "FORBIDDEN")
    # Another user's token.
    assert_error(http.post(f"{START}/{token}/diff", headers=tenant.auth("103")), 403, "FORBIDDEN")
    # A token not used for longer than the server keeps them.
    monkeypatch.setattr(target_service, "TOKEN_TTL", timedelta(0))
    assert_error(http.post(f"{START}/{token}/diff", headers=tenant.auth("102")), 403, "FORBIDDEN")
    monkeypatch.undo()
    # A call log reset forgets every token of the account.
    fresh = _start(http, tenant)
    with services.db.write() as conn:
        CallStore.purge_account(conn, tenant.acc.account_id)
    r = http.post(f"{START}/{fresh}/diff", headers=tenant.auth("102"))
    body = assert_error(r, 403, "FORBIDDEN")
    assert "new sync token" in body["errors"][0]["message"]


def test_bad_date_from(http: httpx.Client, tenant: Tenant) -> None:
    r = http.post(START, params={"date_from": "last tuesday"}, headers=tenant.auth("102"))
    assert_error(r, 400, "VALIDATE_FAILED")
    assert _start(http, tenant, date_from="2026-03-02T10:00:00+02:00")

"""PortSIP list items are rendered once and reused while their target row is unchanged: a
changed call shows at once, and each response shape keeps its own items."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callvault.api.rendered import RenderedItems
from callvault.importers.portsip_json import records_from
from callvault.services.container import Services
from tests.portsip_support import Tenant, make_tenant

BASE = 1772442000  # 2026-03-02T09:00:00Z


def _call(session: str, *, start: int, answered: bool = True, callee: str = "102") -> Any:
    """A finished inbound call to ``callee`` as PortSIP's ``call_cdr`` webhook sends it."""
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
                "status_code": 0 if answered else 487,
                "end_reason": "callee_disconnected" if answered else "cancelled",
            }
        ],
    }


def _store(services: Services, tenant: Tenant, *bodies: Any) -> None:
    resolve = services.accounts.resolver(tenant.acc.account_id)
    records = [r for body in bodies for r in records_from(body, resolve) or []]
    report = services.ingest.ingest(tenant.acc.account_id, records)
    assert not report.problems, report.problems


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    t = make_tenant(services, http)
    _store(services, t, *(_call(f"S{i}", start=BASE + 60 * i) for i in range(3)))
    return t


def _items(http: httpx.Client, tenant: Tenant, path: str = "/api/cdrs") -> list[dict[str, Any]]:
    r = http.get(path, headers=tenant.auth())
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_an_unchanged_list_is_served_from_kept_items(
    app: FastAPI, http: httpx.Client, tenant: Tenant
) -> None:
    cache: RenderedItems = app.state.rendered_items
    first = _items(http, tenant)
    assert len(first) == 3
    misses = cache.misses
    assert _items(http, tenant) == first
    assert cache.misses == misses


def test_a_changed_call_shows_in_the_next_list(
    services: Services, http: httpx.Client, tenant: Tenant
) -> None:
    before = {i["started_at"]: i for i in _items(http, tenant)}
    # The phone system re-sends S1, now unanswered: same target, new content.
    _store(services, tenant, _call("S1", start=BASE + 60, answered=False))
    after = {i["started_at"]: i for i in _items(http, tenant)}
    changed = [k for k in after if after[k] != before[k]]
    assert len(changed) == 1
    item = after[changed[0]]
    assert item["status_code"] == 487
    assert "answered_at" not in item or item["answered_at"] == ""


def test_each_shape_keeps_its_own_items(http: httpx.Client, tenant: Tenant) -> None:
    cdrs = _items(http, tenant, "/api/cdrs")
    logs = _items(http, tenant, "/api/calllogs")
    assert all("session_id" not in i for i in cdrs)
    assert all("session_id" in i for i in logs)
    assert [i["id"] for i in cdrs] == [i["id"] for i in logs]

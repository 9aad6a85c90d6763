"""PortSIP list items are rendered once and reused while their target row is unchanged: a
changed call shows at once, and each response shape keeps its own items."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callvault.api.rendered import RenderedItems
from callvault.services.container import Services
from tests.portsip_support import CDR_BASE, Tenant, call_cdr, make_tenant, store_cdrs

BASE = CDR_BASE


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    t = make_tenant(services, http)
    store_cdrs(services, t, *(call_cdr(f"S{i}", start=BASE + 60 * i) for i in range(3)))
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
    store_cdrs(services, tenant, call_cdr("S1", start=BASE + 60, answered=False, status_code=487))
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

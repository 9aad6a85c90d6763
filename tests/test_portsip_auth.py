"""PortSIP's token login (password and refresh grants, revoke) on callvault's OAuth sessions,
and who may read what: tenant administrators the company's CDRs, everyone their own."""

from __future__ import annotations

import httpx
import pytest

from callvault.services.container import Services
from tests.builders import PASSWORD, make_account
from tests.portsip_support import (
    PORTSIP_CLIENT_ID,
    Tenant,
    assert_error,
    load_fixture_calls,
    make_tenant,
    portsip_login,
)

TOKEN = "/api/login/oauth/token"


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    t = make_tenant(services, http)
    load_fixture_calls(services, t.acc)
    return t


def test_password_login_answers_portsip_shape(services: Services, http: httpx.Client) -> None:
    acc = make_account(services)
    body = portsip_login(http, acc, "102")
    assert set(body) == {"access_token", "expires_in", "refresh_token", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    r = http.get("/api/user/cdrs", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200 and r.json() == {"count": 0, "items": []}


@pytest.mark.parametrize("how", ["main number", "e-mail", "json body", "no client id"])
def test_other_ways_to_name_the_user(services: Services, http: httpx.Client, how: str) -> None:
    acc = make_account(services)
    form = {"grant_type": "password", "username": "101", "password": PASSWORD}
    if how == "main number":
        form["domain"] = acc.main_number
        form["client_id"] = PORTSIP_CLIENT_ID
    elif how == "e-mail":
        form["username"] = services.accounts.users(acc.account_id)[0].email or ""
    elif how == "no client id":
        form["domain"] = str(acc.account_id)
    if how == "json body":
        form["domain"] = str(acc.account_id)
        r = http.post(TOKEN, json=form)
    else:
        r = http.post(TOKEN, data=form)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"password": "wrong-password"}, "UNAUTHORIZED"),
        ({"username": "109"}, "UNAUTHORIZED"),
        ({"domain": "acme.example"}, "UNAUTHORIZED"),
        ({"client_id": "some-other-client"}, "UNAUTHORIZED"),
        ({"password": ""}, "VALIDATE_FAILED"),
        ({"grant_type": "client_credentials"}, "VALIDATE_FAILED"),
    ],
)
def test_login_failures(
    services: Services, http: httpx.Client, change: dict[str, str], code: str
) -> None:
    acc = make_account(services)
    form = {
        "grant_type": "password",
        "username": "101",
        "password": PASSWORD,
        "domain": str(acc.account_id),
        "client_id": PORTSIP_CLIENT_ID,
        **change,
    }
    body = assert_error(http.post(TOKEN, data=form), 400, code)
    if code == "UNAUTHORIZED":
        assert body["errors"][0]["message"] == "Login failed, authentication error"


def test_refresh_and_revoke(services: Services, http: httpx.Client) -> None:
    acc = make_account(services)
    first = portsip_login(http, acc, "101")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": PORTSIP_CLIENT_ID,
    }
    r = http.post(TOKEN, data=form)
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["access_token"] != first["access_token"]
    old = {"Authorization": f"Bearer {first['access_token']}"}
    new = {"Authorization": f"Bearer {second['access_token']}"}
    assert_error(http.get("/api/cdrs", headers=old), 401, "UNAUTHORIZED")
    assert http.get("/api/cdrs", headers=new).status_code == 200
    bad = assert_error(http.post(TOKEN, data={**form, "refresh_token": "nope"}), 400, "UNKNOWN")
    assert bad["errors"][0]["message"] == "unknown error"
    r = http.post("/api/login/oauth/revoke", headers=new)
    assert r.status_code == 200 and r.content == b""
    assert_error(http.get("/api/cdrs", headers=new), 401, "UNAUTHORIZED")
    assert_error(http.post("/api/login/oauth/revoke"), 401, "UNAUTHORIZED")


def test_tokens_are_required(http: httpx.Client, tenant: Tenant) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}):
        for path in ("/api/cdrs", "/api/calllogs", "/api/user/cdrs", "/api/user/cdrs/x"):
            assert_error(http.get(path, headers=headers), 401, "UNAUTHORIZED")
        r = http.post("/api/user/cdrs/sync_tokens", headers=headers)
        assert_error(r, 401, "UNAUTHORIZED")


def test_users_read_only_their_own(http: httpx.Client, tenant: Tenant) -> None:
    some_id = http.get("/api/cdrs", headers=tenant.auth("101")).json()["items"][0]["id"]
    for path in ("/api/cdrs", "/api/calllogs", f"/api/cdrs/{some_id}", f"/api/calllogs/{some_id}"):
        assert_error(http.get(path, headers=tenant.auth("102")), 403, "FORBIDDEN")
        assert_error(http.post(path, headers=tenant.auth("103")), 403, "FORBIDDEN")
        assert http.get(path, headers=tenant.auth("101")).status_code == 200
    # 103 answered the queue call and the transfer; nothing of 102's.
    own = http.get("/api/user/cdrs", headers=tenant.auth("103")).json()["items"]
    assert sorted(i["callee"] for i in own) == ["103", "103"]


def test_tenants_do_not_see_each_other(
    services: Services, http: httpx.Client, tenant: Tenant
) -> None:
    other = make_tenant(services, http)
    some_id = http.get("/api/cdrs", headers=tenant.auth()).json()["items"][0]["id"]
    assert http.get("/api/cdrs", headers=other.auth()).json() == {"count": 0, "items": []}
    assert_error(http.get(f"/api/cdrs/{some_id}", headers=other.auth()), 404, "NOT_FOUND")


def test_ringcentral_login_tokens_work_here(http: httpx.Client, tenant: Tenant) -> None:
    # One OAuth session store: a token from the RingCentral face's login reads here too.
    r = http.get("/api/cdrs", headers=tenant.acc.auth("101"))
    assert r.status_code == 200 and r.json()["count"] == 10

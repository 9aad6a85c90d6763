"""RingCentral's official Python SDK (``ringcentral``), unmodified, against the real server:
logins, refresh, logout, call logs in both views with filters, navigation, records by id and
in batch, and errors as the SDK raises them. Every JSON body is checked against the spec."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from ringcentral import SDK
from ringcentral.http.api_exception import ApiException
from ringcentral.platform.platform import Platform

from callvault.services.container import Services
from tests.builders import PASSWORD, TestAccount, rc_record
from tests.helpers import (
    ago,
    assert_call_log_body,
    assert_rc_error,
    assert_record,
    ingest,
    rc_stamp,
)
from tests.openapi import assert_rc

COMPANY = "/restapi/v1.0/account/~/call-log"
MINE = "/restapi/v1.0/account/~/extension/~/call-log"


def platform_for(acc: TestAccount, server: str) -> Platform:
    platform: Platform = SDK(acc.client_id, acc.client_secret, server).platform()
    return platform


def login(acc: TestAccount, server: str, ext: str = "101") -> Platform:
    platform = platform_for(acc, server)
    platform.login(username=f"{acc.main_number}*{ext}", password=PASSWORD)
    return platform


def user_id(services: Services, acc: TestAccount, ext: str) -> int:
    (user,) = [
        u for u in services.accounts.users(acc.account_id) if u.extension_id == acc.extensions[ext]
    ]
    return user.id


def as_dict(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json_dict()
    return body


def api_error(exc: pytest.ExceptionInfo[ApiException]) -> httpx.Response:
    """The SDK's error response, re-wrapped for the shared error assertions."""
    raw = exc.value.api_response().response()
    request = httpx.Request(raw.request.method or "GET", raw.request.url or "")
    return httpx.Response(
        raw.status_code, headers=dict(raw.headers), content=raw.content, request=request
    )


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["records"]]


def seed(http: httpx.Client, acc: TestAccount) -> list[dict[str, Any]]:
    """Nine calls, newest first in this list: 102 has six, 103 two, the company one."""
    e = acc.extensions
    records = [
        rc_record(
            f"S{n}",
            extension_id=e["102"] if n < 6 else (e["103"] if n < 8 else None),
            start=ago(hours=n + 1),
            direction="Inbound" if n % 2 == 0 else "Outbound",
            from_number="+14155550101" if n % 3 else "+12053320032",
            type="Fax" if n == 4 else "Voice",
            legs=n != 4,
        )
        for n in range(9)
    ]
    ingest(http, acc, records)
    return records


# -- logins -----------------------------------------------------------------------------------


def test_password_login_with_extension_in_username(account: TestAccount, server: str) -> None:
    platform = platform_for(account, server)
    response = platform.login(username=f"{account.main_number}*101", password=PASSWORD)
    token = assert_rc(as_dict(response), "TokenInfo")
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    assert token["refresh_token_expires_in"] == 604800
    assert token["owner_id"] == str(account.extensions["101"])
    assert "ReadCallLog" in token["scope"].split()
    assert platform.logged_in() and platform.auth().access_token() == token["access_token"]
    assert_call_log_body(as_dict(platform.get(COMPANY)))


def test_password_login_with_extension_argument(account: TestAccount, server: str) -> None:
    platform = platform_for(account, server)
    response = platform.login(username=account.main_number, extension="102", password=PASSWORD)
    assert assert_rc(as_dict(response), "TokenInfo")["owner_id"] == str(account.extensions["102"])
    body = as_dict(platform.get(MINE))
    assert (
        body["uri"]
        .split("?")[0]
        .endswith(f"/account/{account.account_id}/extension/{account.extensions['102']}/call-log")
    )
    # Without an extension the company number logs in the main administrator.
    admin = platform_for(account, server)
    response = admin.login(username=account.main_number, password=PASSWORD)
    assert as_dict(response)["owner_id"] == str(account.extensions["101"])


def test_jwt_login(services: Services, account: TestAccount, server: str) -> None:
    credential = services.accounts.issue_jwt(user_id(services, account, "103"))
    platform = platform_for(account, server)
    token = assert_rc(as_dict(platform.login(jwt=credential)), "TokenInfo")
    assert token["owner_id"] == str(account.extensions["103"])
    assert "refresh_token" in token
    assert_call_log_body(as_dict(platform.get(MINE)))
    # A second login with the same credential opens a second, independent session.
    again = platform_for(account, server)
    again.login(jwt=credential)
    assert again.auth().access_token() != platform.auth().access_token()
    assert_call_log_body(as_dict(platform.get(MINE)))
    with pytest.raises(ApiException) as exc:
        platform_for(account, server).login(jwt=credential[:-4] + "AAAA")
    body = api_error(exc).json()
    assert body["error"] == "invalid_grant" and body["errors"][0]["errorCode"] == "OAU-144"


def test_refresh_rotates_tokens(http: httpx.Client, account: TestAccount, server: str) -> None:
    platform = login(account, server)
    old_access, old_refresh = platform.auth().access_token(), platform.auth().refresh_token()
    response = platform.refresh()
    token = assert_rc(as_dict(response), "TokenInfo")
    assert token["access_token"] != old_access and token["refresh_token"] != old_refresh
    assert platform.auth().access_token() == token["access_token"]
    r = http.get(COMPANY, headers={"Authorization": f"Bearer {old_access}"})
    assert_rc_error(r, 401, "OAU-213")
    assert_call_log_body(as_dict(platform.get(COMPANY)))
    # A second refresh keeps going from the rotated token.
    platform.refresh()
    r = http.get(COMPANY, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 401
    assert_call_log_body(as_dict(platform.get(COMPANY)))


def test_logout_revokes_the_session(http: httpx.Client, account: TestAccount, server: str) -> None:
    platform = login(account, server, "102")
    access, refresh = platform.auth().access_token(), platform.auth().refresh_token()
    assert_call_log_body(as_dict(platform.get(MINE)))
    response = platform.logout()
    assert response.response().status_code == 200 and response.body() == b""
    assert platform.auth().access_token() == ""
    r = http.get(MINE, headers={"Authorization": f"Bearer {access}"})
    assert_rc_error(r, 401, "OAU-213")
    r = http.post(
        "/restapi/oauth/token",
        auth=(account.client_id, account.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": refresh},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # Other sessions of the same user are untouched.
    assert http.get(MINE, headers=account.auth("102")).status_code == 200


def test_login_errors(account: TestAccount, server: str) -> None:
    with pytest.raises(ApiException) as exc:
        platform_for(account, server).login(
            username=f"{account.main_number}*101", password="wrong password"
        )
    r = api_error(exc)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant" and r.json()["errors"][0]["errorCode"] == "OAU-140"
    bad_secret = TestAccount(
        account.account_id, account.main_number, account.client_id, "not-the-secret", {}
    )
    with pytest.raises(ApiException) as exc:
        login(bad_secret, server)
    assert api_error(exc).status_code == 401
    assert api_error(exc).json()["error"] == "invalid_client"


# -- call logs --------------------------------------------------------------------------------


def test_company_log_views_and_filters(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    records = seed(http, account)
    platform = login(account, server)
    wide = {"dateFrom": rc_stamp(ago(days=1))}
    everything = [r["id"] for r in records]

    simple = assert_call_log_body(as_dict(platform.get(COMPANY, {**wide})))
    assert ids(simple) == everything
    assert all("legs" not in r and r["uri"].endswith("?view=Simple") for r in simple["records"])
    detailed = assert_call_log_body(as_dict(platform.get(COMPANY, {**wide, "view": "Detailed"})))
    assert ids(detailed) == everything
    assert all(r["uri"].endswith("?view=Detailed") for r in detailed["records"])
    assert all("lastModifiedTime" in r and "legs" in r for r in detailed["records"])
    assert detailed["records"][0]["extension"]["id"] == account.extensions["102"]

    # The SDK sends "+02:00" unencoded, and repeats array parameters.
    cut = ago(hours=4, minutes=30)
    local = (cut + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"direction": "Outbound"}, ["S1", "S3", "S5", "S7"]),
        ({"direction": ["Inbound", "Outbound"]}, everything),
        ({"type": "Fax"}, ["S4"]),
        ({"type": ["Voice"], "direction": ["Inbound"]}, ["S0", "S2", "S6", "S8"]),
        ({"dateFrom": local}, ["S0", "S1", "S2", "S3"]),
        ({"dateFrom": rc_stamp(ago(hours=6.5)), "dateTo": local}, ["S4", "S5"]),
        ({"phoneNumber": "12053320032"}, ["S0", "S3", "S6"]),
        ({"extensionNumber": "103"}, ["S6", "S7"]),
        ({"extensionNumber": "103", "view": "Detailed", "perPage": 1}, ["S6"]),
    ]
    for params, expected in cases:
        body = assert_call_log_body(as_dict(platform.get(COMPANY, {**wide, **params})))
        assert ids(body) == expected, params


def test_following_navigation_through_every_page(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    records = seed(http, account)
    platform = login(account, server)
    params = {"dateFrom": rc_stamp(ago(days=1)), "view": "Detailed", "perPage": 2}
    body = as_dict(platform.get(COMPANY, params))
    seen: list[dict[str, Any]] = []
    pages = 0
    while True:
        assert_call_log_body(body)
        pages += 1
        assert body["paging"]["page"] == pages and body["paging"]["perPage"] == 2
        seen.extend(body["records"])
        nxt = body["navigation"].get("nextPage")
        if nxt is None:
            break
        body = as_dict(platform.get(nxt["uri"]))  # verbatim
    assert pages == 5
    got = [r["id"] for r in seen]
    assert len(got) == len(set(got))
    assert got == [r["id"] for r in records]
    starts = [r["startTime"] for r in seen]
    assert starts == sorted(starts, reverse=True)
    # Back to the start through previousPage.
    while "previousPage" in body["navigation"]:
        body = as_dict(platform.get(body["navigation"]["previousPage"]["uri"]))
        pages -= 1
        assert body["paging"]["page"] == pages
    assert ids(body) == ["S0", "S1"]


def test_extension_log(http: httpx.Client, account: TestAccount, server: str) -> None:
    seed(http, account)
    platform = login(account, server, "102")
    wide = {"dateFrom": rc_stamp(ago(days=1))}
    body = assert_call_log_body(as_dict(platform.get(MINE, wide)))
    assert ids(body) == ["S0", "S1", "S2", "S3", "S4", "S5"]
    owner = (
        f"{server}/restapi/v1.0/account/{account.account_id}/extension/{account.extensions['102']}"
    )
    assert body["records"][0]["uri"] == f"{owner}/call-log/S0?view=Simple"
    pages = []
    body = as_dict(platform.get(MINE, {**wide, "view": "Detailed", "perPage": 4}))
    while True:
        pages.append(ids(assert_call_log_body(body)))
        if "nextPage" not in body["navigation"]:
            break
        body = as_dict(platform.get(body["navigation"]["nextPage"]["uri"]))
    assert pages == [["S0", "S1", "S2", "S3"], ["S4", "S5"]]
    body = assert_call_log_body(as_dict(platform.get(MINE, {**wide, "direction": "Inbound"})))
    assert ids(body) == ["S0", "S2", "S4"]


def test_records_by_id_and_batch(http: httpx.Client, account: TestAccount, server: str) -> None:
    seed(http, account)
    platform = login(account, server)
    one = assert_record(as_dict(platform.get(f"{COMPANY}/S3", {"view": "Detailed"})))
    assert one["id"] == "S3" and one["legs"][0]["master"] is True
    response = platform.get(f"{COMPANY}/S2,NOPE,S7")
    assert response.response().status_code == 207
    parts = response.multipart()
    assert [p.response().status_code for p in parts] == [200, 404, 200]
    assert [p.ok() for p in parts] == [True, False, True]
    s2, missing, s7 = (p.json_dict() for p in parts)
    assert assert_record(s2)["id"] == "S2" and assert_record(s7)["id"] == "S7"
    assert_rc({"errors": missing["errors"]}, "ApiErrorResponseModel")
    assert missing["errors"][0]["errorCode"] == "CMN-102"
    # The SDK's JSON objects work on parts too.
    assert parts[0].json().id == "S2"
    # The user's own log in batch: another extension's record is not found there.
    user = login(account, server, "102")
    parts = user.get(f"{MINE}/S0,S6").multipart()
    assert [p.response().status_code for p in parts] == [200, 404]


def test_errors_as_the_sdk_raises_them(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    seed(http, account)
    user = login(account, server, "102")
    admin = login(account, server)
    other = f"/restapi/v1.0/account/~/extension/{account.extensions['103']}/call-log"
    cases: list[tuple[Platform, str, dict[str, Any] | None, int, str, str]] = [
        (user, COMPANY, None, 403, "CMN-408", "ApiErrorResponseModel"),
        (user, other, None, 403, "CMN-404", "ApiErrorResponseModel"),
        (admin, f"{COMPANY}/NOPE", None, 404, "CMN-102", "ApiErrorResponseModel"),
        (admin, "/restapi/v1.0/account/1/call-log", None, 404, "CMN-102", "ApiErrorResponseModel"),
        (admin, COMPANY, {"direction": "Up"}, 400, "CMN-101", "ParameterizedErrorResponseModel"),
        (admin, COMPANY, {"perPage": 0}, 400, "CMN-101", "ParameterizedErrorResponseModel"),
        (
            admin,
            COMPANY,
            {"sessionId": "1", "extensionNumber": "102"},
            400,
            "CLG-110",
            "ParameterizedErrorResponseModel",
        ),
        (admin, f"{COMPANY}/{','.join(['x'] * 51)}", None, 400, "CMN-106", "ApiErrorResponseModel"),
    ]
    for platform, url, params, status, code, model in cases:
        with pytest.raises(ApiException) as exc:
            platform.get(url, params)
        assert f"HTTP {status}" in str(exc.value)
        assert_rc_error(api_error(exc), status, code, model)


def test_expired_session_is_refreshed_by_the_sdk(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    """The SDK refreshes on its own when it believes the access token expired."""
    seed(http, account)
    platform = login(account, server)
    before = platform.auth().access_token()
    platform.auth().set_data({"expire_time": 0})
    body = assert_call_log_body(as_dict(platform.get(COMPANY)))
    assert ids(body) == ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"]
    assert platform.auth().access_token() != before
    r = http.get(COMPANY, headers={"Authorization": f"Bearer {before}"})
    assert r.status_code == 401

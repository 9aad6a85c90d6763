"""The OAuth endpoints as RingCentral answers them (§11): token responses, error bodies,
refresh rotation with its grace window, revocation, expiry, and the Auth/Heavy rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml

from callvault.services.accounts import DEFAULT_SCOPES
from callvault.services.auth import REFRESH_GRACE_MS
from callvault.services.container import Services
from tests.builders import PASSWORD, TestAccount, make_account
from tests.helpers import assert_call_log, assert_rc_error
from tests.openapi import assert_rc, reference_file

TOKEN = "/restapi/oauth/token"
REVOKE = "/restapi/oauth/revoke"
CALL_LOG = "/restapi/v1.0/account/~/call-log"
MY_LOG = "/restapi/v1.0/account/~/extension/~/call-log"


def _oauth_error_codes() -> list[str]:
    with reference_file("ringcentral-calllog-openapi.yaml").open() as fh:
        spec = yaml.safe_load(fh)
    schema = spec["components"]["responses"]["OauthInvalidRequest"]["content"]
    codes: list[str] = schema["application/json"]["schema"]["allOf"][0]["properties"]["error"][
        "enum"
    ]
    return codes


OAUTH_ERRORS = _oauth_error_codes()


def password_form(acc: TestAccount, ext: str = "101", **extra: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": f"{acc.main_number}*{ext}",
        "password": PASSWORD,
        **extra,
    }


def token(http: httpx.Client, acc: TestAccount, data: dict[str, str]) -> httpx.Response:
    return http.post(TOKEN, data=data, auth=(acc.client_id, acc.client_secret))


def issued(response: httpx.Response) -> dict[str, Any]:
    """A 200 ``TokenInfo``, strictly per the spec."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = assert_rc(response.json(), "TokenInfo")
    return body


def assert_oauth_error(
    response: httpx.Response, status: int, error: str, code: str, parameter: str | None = None
) -> dict[str, Any]:
    """OAuth's ``error``/``error_description`` plus RingCentral's ``errors[]``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description", "errors"}, body
    assert body["error"] in OAUTH_ERRORS and body["error"] == error, body
    assert_rc({"errors": body["errors"]}, "ParameterizedErrorResponseModel")
    assert body["errors"][0]["errorCode"] == code, body
    assert body["error_description"] == body["errors"][0]["message"]
    if parameter is not None:
        assert body["errors"][0]["parameterName"] == parameter, body
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def works(http: httpx.Client, access_token: str) -> bool:
    """Whether the access token still opens the caller's own call log."""
    r = http.get(MY_LOG, headers=bearer(access_token))
    if r.status_code == 401:
        assert_rc_error(r, 401, "OAU-213")
        return False
    assert_call_log(r)
    return True


# -- token responses --------------------------------------------------------------------------


def test_token_info(http: httpx.Client, services: Services, account: TestAccount) -> None:
    body = issued(token(http, account, password_form(account, "102")))
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 604800
    assert body["scope"].split() == list(DEFAULT_SCOPES)
    assert body["owner_id"] == str(account.extensions["102"])
    for key in ("access_token", "refresh_token", "session_id", "endpoint_id"):
        assert isinstance(body[key], str) and len(body[key]) >= 16, key
    assert body["access_token"] != body["refresh_token"]
    assert works(http, body["access_token"])
    # Two logins are two sessions.
    again = issued(token(http, account, password_form(account, "102")))
    assert again["session_id"] != body["session_id"]
    assert again["endpoint_id"] != body["endpoint_id"]

    # Requested lifetimes, clamped to 600-3600 s and at most 30 days; endpoint_id echoed.
    cases = [
        ({"access_token_ttl": "600", "refresh_token_ttl": "7200"}, 600, 7200),
        ({"access_token_ttl": "60"}, 600, 604800),
        ({"access_token_ttl": "99999", "refresh_token_ttl": "99999999"}, 3600, 2_592_000),
    ]
    for extra, access_ttl, refresh_ttl in cases:
        body = issued(token(http, account, password_form(account, endpoint_id="ep-1", **extra)))
        assert (body["expires_in"], body["refresh_token_expires_in"]) == (access_ttl, refresh_ttl)
        assert body["endpoint_id"] == "ep-1"

    # A narrower scope is granted as asked, and enforced.
    body = issued(token(http, account, password_form(account, scope="ReadCallLog")))
    assert body["scope"] == "ReadCallLog"
    assert http.get(CALL_LOG, headers=bearer(body["access_token"])).status_code == 200
    r = http.delete(MY_LOG, headers=bearer(body["access_token"]))
    assert_rc_error(r, 403, "CMN-401")

    # The JWT bearer grant answers the same shape.
    (user,) = [
        u
        for u in services.accounts.users(account.account_id)
        if u.extension_id == account.extensions["103"]
    ]
    jwt_form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": services.accounts.issue_jwt(user.id),
    }
    body = issued(token(http, account, jwt_form))
    assert body["owner_id"] == str(account.extensions["103"])
    # An email address is a username too.
    email = services.accounts.users(account.account_id)[0].email
    assert email is not None
    body = issued(
        token(http, account, {"grant_type": "password", "username": email, "password": PASSWORD})
    )
    assert body["owner_id"] == str(services.accounts.users(account.account_id)[0].extension_id)


# -- token errors -----------------------------------------------------------------------------


def test_client_authentication_errors(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    form = password_form(account)
    r = http.post(TOKEN, data=form)
    assert_oauth_error(r, 401, "invalid_client", "OAU-123")
    r = http.post(TOKEN, data={**form, "client_id": account.client_id})
    assert_oauth_error(r, 401, "invalid_client", "OAU-123")
    r = http.post(TOKEN, data=form, auth=(account.client_id, "wrong-secret"))
    assert_oauth_error(r, 401, "invalid_client", "OAU-146")
    r = http.post(TOKEN, data=form, auth=("no-such-client", account.client_secret))
    assert_oauth_error(r, 401, "invalid_client", "OAU-146")
    r = http.post(TOKEN, data=form, headers={"Authorization": "Basic %%%not-base64"})
    assert_oauth_error(r, 401, "invalid_client", "OAU-123")
    # A public app names itself in the body and has no secret.
    public = services.accounts.create_app(account.account_id, "spa", public=True)
    body = issued(http.post(TOKEN, data={**form, "client_id": public.client_id}))
    assert works(http, body["access_token"])
    # An app without the password grant.
    jwt_only = services.accounts.create_app(
        account.account_id, "jwt only", grants=("urn:ietf:params:oauth:grant-type:jwt-bearer",)
    )
    r = http.post(TOKEN, data=form, auth=(jwt_only.client_id, jwt_only.client_secret or ""))
    assert_oauth_error(r, 400, "unauthorized_client", "OAU-251")


def test_grant_errors(http: httpx.Client, services: Services, account: TestAccount) -> None:
    other = make_account(services)
    bad_credentials = [
        password_form(account, password="wrong password"),
        password_form(account, "999"),
        {**password_form(account), "username": "+19995550000*101"},
        {**password_form(account), "username": "nobody@example.test"},
        # Another account's user, through this account's app.
        {**password_form(account), "username": f"{other.main_number}*101"},
    ]
    for form in bad_credentials:
        body = assert_oauth_error(token(http, account, form), 400, "invalid_grant", "OAU-140")
        assert body["error_description"] == "Invalid resource owner credentials"

    for grant in ("authorization_code", "client_credentials", "nonsense"):
        r = token(http, account, {"grant_type": grant, "code": "x", "redirect_uri": "http://x"})
        assert_oauth_error(r, 400, "unsupported_grant_type", "OAU-250")

    missing = [
        ({"username": "x", "password": "y"}, "grant_type"),
        ({"grant_type": "password", "password": PASSWORD}, "username"),
        ({"grant_type": "password", "username": f"{account.main_number}*101"}, "password"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
        (password_form(account, access_token_ttl="soon"), "access_token_ttl"),
        (password_form(account, refresh_token_ttl="-1"), "refresh_token_ttl"),
    ]
    for form, parameter in missing:
        r = token(http, account, form)
        assert_oauth_error(r, 400, "invalid_request", "OAU-101", parameter)

    r = token(http, account, password_form(account, scope="ReadCallLog Superpowers"))
    body = r.json()
    assert r.status_code == 400 and body["errors"][0]["parameterName"] == "scope"
    assert "Superpowers" in body["error_description"]

    jwt_form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x.y.z"}
    assert_oauth_error(token(http, account, jwt_form), 400, "invalid_grant", "OAU-144")

    # Not a form.
    r = http.post(
        TOKEN, json=password_form(account), auth=(account.client_id, account.client_secret)
    )
    assert r.status_code == 415
    assert r.json()["error"] == "invalid_request"


# -- refresh ----------------------------------------------------------------------------------


@pytest.fixture
def clock(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[timedelta]]:
    """Shift the OAuth service's clock: append to (or edit) the returned list's offset."""
    offset = [timedelta(0)]
    monkeypatch.setattr(services.oauth, "clock", lambda: datetime.now(UTC) + offset[0])
    yield offset


def refresh(http: httpx.Client, acc: TestAccount, refresh_token: str) -> httpx.Response:
    return token(http, acc, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_refresh_rotation_and_grace_window(
    http: httpx.Client, services: Services, account: TestAccount, clock: list[timedelta]
) -> None:
    first = issued(token(http, account, password_form(account, "102")))
    second = issued(refresh(http, account, first["refresh_token"]))
    assert second["owner_id"] == first["owner_id"]
    assert second["session_id"] == first["session_id"]
    assert second["scope"] == first["scope"]
    assert second["refresh_token"] != first["refresh_token"]
    assert not works(http, first["access_token"])
    assert works(http, second["access_token"])

    # A client that lost the refresh response may retry with the old refresh token at once.
    retried = issued(refresh(http, account, first["refresh_token"]))
    assert works(http, retried["access_token"])
    assert not works(http, second["access_token"])

    # Past the grace window only the newest refresh token works.
    clock[0] = timedelta(milliseconds=REFRESH_GRACE_MS + 1000)
    for stale in (first["refresh_token"], second["refresh_token"]):
        assert_oauth_error(refresh(http, account, stale), 400, "invalid_grant", "OAU-211")
    latest = issued(refresh(http, account, retried["refresh_token"]))
    assert works(http, latest["access_token"])

    # Refresh tokens belong to their app and are not access tokens.
    other_app = services.accounts.create_app(account.account_id, "other")
    r = http.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": latest["refresh_token"]},
        auth=(other_app.client_id, other_app.client_secret or ""),
    )
    assert_oauth_error(r, 400, "invalid_grant", "OAU-211")
    r = refresh(http, account, latest["access_token"])
    assert_oauth_error(r, 400, "invalid_grant", "OAU-211")
    assert works(http, latest["access_token"])


def test_refresh_token_expiry(
    http: httpx.Client, account: TestAccount, clock: list[timedelta]
) -> None:
    body = issued(token(http, account, password_form(account, refresh_token_ttl="5")))
    assert body["refresh_token_expires_in"] == 5
    clock[0] = timedelta(seconds=10)
    assert_oauth_error(
        refresh(http, account, body["refresh_token"]), 400, "invalid_grant", "OAU-211"
    )


def test_access_token_expiry(
    http: httpx.Client, account: TestAccount, clock: list[timedelta]
) -> None:
    body = issued(token(http, account, password_form(account, access_token_ttl="600")))
    assert works(http, body["access_token"])
    clock[0] = timedelta(seconds=601)
    r = http.get(MY_LOG, headers=bearer(body["access_token"]))
    error = assert_rc_error(r, 401, "OAU-128")
    assert error["errorCode"] == "TokenExpired"
    # Refreshing brings the session back.
    renewed = issued(refresh(http, account, body["refresh_token"]))
    assert works(http, renewed["access_token"])


# -- revoke -----------------------------------------------------------------------------------


def test_revoke_kills_the_whole_session(http: httpx.Client, account: TestAccount) -> None:
    auth = (account.client_id, account.client_secret)
    for which in ("access_token", "refresh_token"):
        body = issued(token(http, account, password_form(account, "103")))
        r = http.post(REVOKE, data={"token": body[which]}, auth=auth)
        assert r.status_code == 200 and r.content == b"", which
        assert not works(http, body["access_token"]), which
        r = refresh(http, account, body["refresh_token"])
        assert_oauth_error(r, 400, "invalid_grant", "OAU-211")
    # The query-string form, without a body.
    body = issued(token(http, account, password_form(account, "103")))
    r = http.post(REVOKE, params={"token": body["access_token"]}, auth=auth)
    assert r.status_code == 200 and not works(http, body["access_token"])
    # A refreshed session is revoked through its rotated tokens too.
    body = issued(token(http, account, password_form(account, "103")))
    rotated = issued(refresh(http, account, body["refresh_token"]))
    assert http.post(REVOKE, data={"token": rotated["refresh_token"]}, auth=auth).is_success
    assert not works(http, rotated["access_token"])
    # Unknown tokens are ignored; a missing token or client is an error.
    assert http.post(REVOKE, data={"token": "nope"}, auth=auth).status_code == 200
    r = http.post(REVOKE, data={}, auth=auth)
    assert_oauth_error(r, 400, "invalid_request", "OAU-101", "token")
    r = http.post(REVOKE, data={"token": account.tokens["101"]})
    assert_oauth_error(r, 401, "invalid_client", "OAU-123")
    # Other sessions live on.
    assert works(http, account.tokens["103"]) and works(http, account.tokens["101"])


def test_apps_cannot_touch_each_others_sessions(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    body = issued(token(http, account, password_form(account, "102")))
    other = make_account(services)
    for acc in (other, account):
        stranger = services.accounts.create_app(acc.account_id, "stranger")
        auth = (stranger.client_id, stranger.client_secret or "")
        for which in ("access_token", "refresh_token"):
            assert http.post(REVOKE, data={"token": body[which]}, auth=auth).status_code == 200
        r = http.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            auth=auth,
        )
        assert_oauth_error(r, 400, "invalid_grant", "OAU-211")
        # Another account's app cannot log in this account's users either.
        r = http.post(TOKEN, data=password_form(account), auth=auth)
        if acc is other:
            assert_oauth_error(r, 400, "invalid_grant", "OAU-140")
    assert works(http, body["access_token"])
    assert issued(refresh(http, account, body["refresh_token"]))


# -- rate limits (RingCentral's own profile) --------------------------------------------------


def rate_headers(r: httpx.Response) -> tuple[str, str, str, str]:
    h = r.headers
    return (
        h["X-Rate-Limit-Group"],
        h["X-Rate-Limit-Limit"],
        h["X-Rate-Limit-Remaining"],
        h["X-Rate-Limit-Window"],
    )


def test_auth_group_rate_limit(
    limited_server: str, services: Services, account: TestAccount
) -> None:
    with httpx.Client(base_url=limited_server, timeout=30) as http:
        form = password_form(account, password="wrong password")
        for n in range(5):
            r = token(http, account, form)
            assert_oauth_error(r, 400, "invalid_grant", "OAU-140")
            assert rate_headers(r) == ("auth", "5", str(4 - n), "60")
        r = token(http, account, form)
        assert_rc_error(r, 429, "CMN-301")
        assert r.headers["Retry-After"] == "60"
        assert rate_headers(r) == ("auth", "5", "0", "60")
        # The penalty holds even for a request that would succeed, and for revoke.
        r = token(http, account, password_form(account))
        assert_rc_error(r, 429, "CMN-301")
        r = http.post(REVOKE, data={"token": "x"}, auth=(account.client_id, account.client_secret))
        assert_rc_error(r, 429, "CMN-301")
        # Another app is counted on its own.
        app = services.accounts.create_app(account.account_id, "second")
        r = http.post(
            TOKEN, data=password_form(account), auth=(app.client_id, app.client_secret or "")
        )
        assert issued(r) and rate_headers(r)[0] == "auth"


def test_heavy_group_rate_limit(limited_server: str, account: TestAccount) -> None:
    with httpx.Client(base_url=limited_server, timeout=30) as http:
        for n in range(10):
            r = http.get(MY_LOG, headers=account.auth("102"))
            assert_call_log(r)
            assert rate_headers(r) == ("heavy", "10", str(9 - n), "60")
        r = http.get(MY_LOG, headers=account.auth("102"))
        assert_rc_error(r, 429, "CMN-301")
        assert r.json()["message"] == "Request rate exceeded"
        assert r.headers["Retry-After"] == "60"
        assert rate_headers(r)[:3] == ("heavy", "10", "0")
        # Any heavy endpoint is refused now, while other users are counted on their own.
        assert http.get(f"{MY_LOG}/x", headers=account.auth("102")).status_code == 429
        r = http.get(MY_LOG, headers=account.auth("103"))
        assert_call_log(r)
        assert rate_headers(r)[:3] == ("heavy", "10", "9")
        # Requests without a valid token are not counted against anyone.
        assert http.get(MY_LOG).status_code == 401

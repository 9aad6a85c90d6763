"""The OneUptime-style read API over HTTP: every endpoint of the four models against a golden
file (ids normalised), headers and permissions, paging as enforced, read-only writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from callvault.services.container import Services
from tests.builders import TestAccount, make_account
from tests.oneuptime_support import (
    ITEM,
    LOG,
    POLICY,
    RULE,
    Calls,
    api_key,
    assert_golden,
    headers,
    make_calls,
    normalise,
)

LOG_COLUMNS = [
    "_id",
    "projectId",
    "incomingCallPolicyId",
    "callerPhoneNumber",
    "routingPhoneNumber",
    "callProviderCallId",
    "status",
    "statusMessage",
    "callDurationInSeconds",
    "callCostInUSDCents",
    "incomingCallCostInUSDCents",
    "outgoingCallCostInUSDCents",
    "startedAt",
    "endedAt",
    "answeredByUserId",
    "currentEscalationRuleOrder",
    "repeatCount",
    "createdAt",
    "updatedAt",
]
ITEM_COLUMNS = [
    "_id",
    "projectId",
    "incomingCallLogId",
    "incomingCallPolicyEscalationRuleId",
    "userId",
    "userPhoneNumber",
    "status",
    "statusMessage",
    "dialDurationInSeconds",
    "callCostInUSDCents",
    "startedAt",
    "endedAt",
    "isAnswered",
    "createdAt",
]
POLICY_COLUMNS = [
    "_id",
    "projectId",
    "name",
    "description",
    "slug",
    "routingPhoneNumber",
    "routingPhoneNumbers",
    "callProviderPhoneNumberId",
    "greetingMessage",
    "noAnswerMessage",
    "noOneAvailableMessage",
    "isEnabled",
    "repeatPolicyIfNoOneAnswers",
    "repeatPolicyIfNoOneAnswersTimes",
    "createdAt",
    "deletedAt",
]
RULE_COLUMNS = [
    "_id",
    "projectId",
    "incomingCallPolicyId",
    "name",
    "order",
    "escalateAfterSeconds",
    "onCallDutyPolicyScheduleId",
    "userId",
]


def _all(columns: list[str]) -> dict[str, bool]:
    return dict.fromkeys(columns, True)


@pytest.fixture
def calls(services: Services, account: TestAccount) -> Calls:
    return make_calls(services, account)


def _post(http: httpx.Client, path: str, calls: Calls, body: Any = None, **kw: Any) -> Any:
    r = http.post(path, json=body or {}, headers=headers(calls.key, calls.acc), **kw)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


# -- golden files, one per endpoint -------------------------------------------------------------


def test_log_get_list(http: httpx.Client, calls: Calls) -> None:
    body = {
        "select": {
            **_all(LOG_COLUMNS),
            "incomingCallPolicy": {"name": True, "routingPhoneNumber": True},
            "answeredByUser": {"name": True},
        },
        "sort": {"startedAt": "DESC"},
    }
    got = _post(http, f"{LOG}/get-list", calls, body)
    assert (got["count"], got["limit"], got["skip"], len(got["data"])) == (4, 10, 0, 4)
    assert_golden("log_get_list", normalise(got, calls.acc))


def test_log_get_list_by_get_with_query_string_paging(http: httpx.Client, calls: Calls) -> None:
    body = {"select": {"status": True, "startedAt": True}, "sort": {"startedAt": "ASC"}}
    r = http.request(
        "GET",
        f"{LOG}/get-list",
        params={"limit": "2", "skip": "1"},
        json={**body, "limit": 50, "skip": 0},  # the query string wins
        headers=headers(calls.key),
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["count"], got["limit"], got["skip"]) == (4, 2, 1)
    assert_golden("log_get_list_paged", normalise(got, calls.acc))


def test_log_count(http: httpx.Client, calls: Calls) -> None:
    got = _post(http, f"{LOG}/count", calls, {"query": {"status": ["Completed", "CallerHungUp"]}})
    assert got == {"count": 3}
    assert_golden("log_count", got)


def test_log_get_item(http: httpx.Client, calls: Calls) -> None:
    body = {"select": {**_all(LOG_COLUMNS), "incomingCallPolicy": {"name": True}}}
    got = _post(http, f"{LOG}/{calls.log_ids[1]}/get-item", calls, body)
    assert got["_id"] == calls.log_ids[1]
    assert_golden("log_get_item", normalise(got, calls.acc))
    by_get = http.request(
        "GET", f"{LOG}/{calls.log_ids[1]}/get-item", json=body, headers=headers(calls.key)
    )
    assert by_get.json() == got


def test_item_get_list(http: httpx.Client, calls: Calls) -> None:
    body = {
        "select": {
            **_all(ITEM_COLUMNS),
            "user": {"name": True},
            "incomingCallPolicyEscalationRule": {"name": True, "order": True},
        },
        "query": {"incomingCallLogId": calls.log_ids[1]},
        "sort": {"startedAt": "ASC"},
    }
    got = _post(http, f"{ITEM}/get-list", calls, body)
    assert [i["status"] for i in got["data"]] == ["NoAnswer", "Busy", "Connected"]
    assert_golden("item_get_list", normalise(got, calls.acc))


def test_item_count_and_get_item(http: httpx.Client, calls: Calls) -> None:
    assert _post(http, f"{ITEM}/count", calls, {}) == {"count": 9}
    answered = _post(http, f"{ITEM}/count", calls, {"query": {"isAnswered": True}})
    assert answered == {"count": 2}
    assert_golden("item_count", answered)
    first = _post(
        http,
        f"{ITEM}/get-list",
        calls,
        {"query": {"incomingCallLogId": calls.log_ids[0]}, "select": {"_id": True}},
    )
    item_id = first["data"][0]["_id"]
    got = _post(
        http,
        f"{ITEM}/{item_id}/get-item",
        calls,
        {"select": {**_all(ITEM_COLUMNS), "incomingCallLog": {"status": True}}},
    )
    assert_golden("item_get_item", normalise(got, calls.acc))


def test_policy_endpoints(http: httpx.Client, calls: Calls) -> None:
    body = {"select": _all(POLICY_COLUMNS)}
    listed = _post(http, f"{POLICY}/get-list", calls, body)
    assert listed["count"] == 1
    assert_golden("policy_get_list", normalise(listed, calls.acc))
    item = _post(http, f"{POLICY}/{calls.hot.policy_id}/get-item", calls, body)
    assert item == listed["data"][0]
    assert_golden("policy_get_item", normalise(item, calls.acc))
    counted = _post(http, f"{POLICY}/count", calls, {"query": {"isEnabled": True}})
    assert counted == {"count": 1}
    assert_golden("policy_count", counted)


def test_rule_endpoints(http: httpx.Client, calls: Calls) -> None:
    body = {
        "select": {
            **_all(RULE_COLUMNS),
            "user": {"name": True},
            "onCallDutyPolicySchedule": {"name": True},
            "incomingCallPolicy": {"name": True},
        },
        "sort": {"order": "ASC"},
    }
    listed = _post(http, f"{RULE}/get-list", calls, body)
    assert [r["order"] for r in listed["data"]] == [1, 2, 3]
    assert listed["data"][0]["onCallDutyPolicySchedule"] is None
    assert listed["data"][1]["onCallDutyPolicySchedule"]["name"] == "Primary On-Call"
    assert_golden("rule_get_list", normalise(listed, calls.acc))
    item = _post(
        http, f"{RULE}/{calls.hot.rule_ids[1]}/get-item", calls, {"select": _all(RULE_COLUMNS)}
    )
    assert_golden("rule_get_item", normalise(item, calls.acc))
    counted = _post(http, f"{RULE}/count", calls, {"query": {"userId": {"_type": "NotNull"}}})
    assert counted == {"count": 2}
    assert_golden("rule_count", counted)


# -- select, envelope and serialization -----------------------------------------------------------


def test_without_select_only_ids_come_back(http: httpx.Client, calls: Calls) -> None:
    got = _post(http, f"{LOG}/get-list", calls, {})
    assert got["data"] and all(list(d) == ["_id"] for d in got["data"])
    # The default order is createdAt DESC: the last call first.
    assert [d["_id"] for d in got["data"]] == calls.log_ids[::-1]


def test_missing_item_is_an_empty_object(http: httpx.Client, calls: Calls) -> None:
    missing = "550e8400-e29b-41d4-a716-446655440000"
    assert _post(http, f"{LOG}/{missing}/get-item", calls, {"select": {"status": True}}) == {}


def test_csv_output(http: httpx.Client, calls: Calls) -> None:
    r = http.post(
        f"{LOG}/get-list?output-type=csv",
        json={"select": {"status": True, "callerPhoneNumber": True}, "sort": {"startedAt": "ASC"}},
        headers=headers(calls.key),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().split("\n")
    assert lines[0] == "_id,status,callerPhoneNumber"
    assert [line.split(",")[1:] for line in lines[1:]] == [
        ["Completed", "+14155550123"],
        ["Completed", "+14155550123"],
        ["CallerHungUp", "+14155550123"],
        ["NoAnswer", "+16175550199"],
    ]


# -- paging ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "body", "expected"),
    [
        ({}, {}, (10, 0)),
        ({}, {"limit": 2, "skip": 1}, (2, 1)),  # body values are applied and echoed
        ({"limit": "3"}, {"limit": 1}, (3, 0)),
        ({"limit": "0"}, {}, (10, 0)),  # parseInt(...) || 10
        ({"limit": "abc", "skip": "x"}, {}, (10, 0)),
        ({"limit": "2.9"}, {}, (2, 0)),
        ({}, {"limit": 100}, (100, 0)),
        ({"skip": "3"}, {}, (10, 3)),
        ({"skip": "9"}, {}, (10, 9)),  # past the end: no rows, the count still says 4
    ],
)
def test_paging_as_enforced(
    http: httpx.Client,
    calls: Calls,
    params: dict[str, str],
    body: dict[str, Any],
    expected: tuple[int, int],
) -> None:
    got = _post(http, f"{LOG}/get-list", calls, body, params=params)
    assert (got["limit"], got["skip"]) == expected
    assert got["count"] == 4
    assert len(got["data"]) == max(0, min(expected[0], 4 - expected[1]))


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        ({"limit": "101"}, {}, "Limit should be less than or equal to 100"),
        ({}, {"limit": 10_000}, "Limit should be less than or equal to 100"),
        ({"limit": "-1"}, {}, "positiveNumber cannot be less than 0"),
        ({}, {"skip": -5}, "positiveNumber cannot be less than 0"),
    ],
)
def test_paging_errors(
    http: httpx.Client, calls: Calls, params: dict[str, str], body: dict[str, Any], message: str
) -> None:
    r = http.post(f"{LOG}/get-list", params=params, json=body, headers=headers(calls.key))
    assert (r.status_code, r.json()) == (400, {"error": message})


# -- who may read ----------------------------------------------------------------------------


def test_missing_and_bad_api_keys(http: httpx.Client, services: Services, calls: Calls) -> None:
    r = http.post(f"{LOG}/get-list", json={})
    assert r.status_code == 401
    assert r.json() == {
        "error": "Authenticated user or a valid API key is needed to read record of "
        "Incoming Call Log."
    }
    for bad in ("not-a-key", "", "550e8400-e29b-41d4-a716-446655440000"):
        r = http.post(f"{LOG}/get-list", json={}, headers={"ApiKey": bad})
        assert (r.status_code, r.json()) == (400, {"error": "Invalid API Key"}), bad
    expired = services.api_keys.create(
        calls.acc.account_id, "old", ("Viewer",), expires_in=timedelta(seconds=-1)
    )
    r = http.post(f"{LOG}/get-list", json={}, headers={"apikey": expired.key})
    assert (r.status_code, r.json()) == (400, {"error": "Invalid API Key"})
    # Header names are case-insensitive; ProjectID is overridden by the key's project.
    r = http.post(f"{LOG}/count", json={}, headers={"APIKEY": calls.key.upper(), "ProjectID": "1"})
    assert r.json() == {"count": 4}


def test_permissions(http: httpx.Client, services: Services, calls: Calls) -> None:
    acc = calls.acc
    policies_only = api_key(services, acc, "ReadProjectIncomingCallPolicy")
    r = http.post(f"{LOG}/get-list", json={}, headers=headers(policies_only))
    assert r.status_code == 422
    assert r.json() == {
        "error": "You do not have permissions to read Incoming Call Log. You need one of these "
        "permissions: Project Owner, Project Admin, Project Member, Viewer, "
        "Read Incoming Call Log"
    }
    assert http.post(f"{POLICY}/count", json={}, headers=headers(policies_only)).json() == {
        "count": 1
    }
    logs_only = api_key(services, acc, "ReadProjectIncomingCallLog")
    ok = http.post(f"{LOG}/count", json={}, headers=headers(logs_only))
    assert ok.json() == {"count": 4}
    # Selecting the related policy needs the right to read policies too.
    r = http.post(
        f"{LOG}/get-list",
        json={"select": {"incomingCallPolicy": {"name": True}}},
        headers=headers(logs_only),
    )
    assert r.status_code == 422 and "read Incoming Call Policy" in r.json()["error"]
    nothing = api_key(services, acc, "SomethingElse")
    r = http.post(f"{ITEM}/count", json={}, headers=headers(nothing))
    assert r.status_code == 422 and "Read Incoming Call Log Item" in r.json()["error"]


def test_another_accounts_key_sees_nothing(
    http: httpx.Client, services: Services, calls: Calls
) -> None:
    other = make_account(services)
    key = api_key(services, other)
    assert http.post(f"{LOG}/count", json={}, headers=headers(key, calls.acc)).json() == {
        "count": 0
    }
    r = http.post(
        f"{LOG}/{calls.log_ids[0]}/get-item",
        json={"select": {"status": True}},
        headers=headers(key),
    )
    assert (r.status_code, r.json()) == (200, {})


@pytest.mark.parametrize(
    ("method", "suffix", "action"),
    [
        ("POST", "", "create"),
        ("PUT", "/{id}", "update"),
        ("POST", "/{id}/update-item", "update"),
        ("GET", "/{id}/update-item", "update"),
        ("DELETE", "/{id}", "delete"),
        ("POST", "/{id}/delete-item", "delete"),
    ],
)
@pytest.mark.parametrize(
    ("path", "title"),
    [
        (LOG, "Incoming Call Log"),
        (ITEM, "Incoming Call Log Item"),
        (POLICY, "Incoming Call Policy"),
        (RULE, "Incoming Call Policy Escalation Rule"),
    ],
)
def test_writes_are_not_allowed(
    http: httpx.Client,
    calls: Calls,
    method: str,
    suffix: str,
    action: str,
    path: str,
    title: str,
) -> None:
    url = path + suffix.replace("{id}", calls.log_ids[0])
    r = http.request(
        method, url, json={"data": {"status": "Completed"}}, headers=headers(calls.key)
    )
    assert (r.status_code, r.json()) == (422, {"error": f"{action} on {title} is not allowed."})
    assert http.post(f"{LOG}/count", json={}, headers=headers(calls.key)).json() == {"count": 4}


def test_unknown_route_is_page_not_found(http: httpx.Client, calls: Calls) -> None:
    r = http.get(f"{LOG}/nothing/here", headers=headers(calls.key))
    assert r.status_code == 404
    assert r.json() == {"message": f"Page not found - {r.request.url}"}

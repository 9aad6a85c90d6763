"""The OneUptime query grammar over HTTP: every operator and value form against the stored
calls, and malformed requests, each a 4xx naming the reason."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callvault.services.container import Services
from tests.builders import TestAccount
from tests.oneuptime_support import ITEM, LOG, POLICY, RULE, Calls, headers, make_calls

# The stored calls (see ``calls``): answered at 09:30 (68 s); escalated twice then answered at
# 10:30 (65 s); the caller hangs up at 11:30 (30 s); nobody answers at 12:30 (another caller).
H0930, H1030, H1130, H1230 = (f"2026-08-12T{h}:30:00.000Z" for h in ("09", "10", "11", "12"))


def _statuses(http: httpx.Client, calls: Calls, path: str, query: dict[str, Any]) -> list[str]:
    r = http.post(
        f"{path}/get-list",
        json={"query": query, "select": {"status": True}, "sort": {"startedAt": "ASC"}},
        headers=headers(calls.key),
    )
    assert r.status_code == 200, r.text
    count = http.post(f"{path}/count", json={"query": query}, headers=headers(calls.key))
    statuses = [d["status"] for d in r.json()["data"]]
    assert count.json() == {"count": len(statuses)} == {"count": r.json()["count"]}
    return statuses


ANSWERED = ["Completed", "Completed"]


@pytest.fixture
def calls(services: Services, account: TestAccount) -> Calls:
    return make_calls(services, account)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "Completed"}, ANSWERED),
        ({"status": ["NoAnswer", "CallerHungUp"]}, ["CallerHungUp", "NoAnswer"]),
        ({"status": {"_type": "EqualTo", "value": "NoAnswer"}}, ["NoAnswer"]),
        ({"status": {"_type": "NotEqual", "value": "Completed"}}, ["CallerHungUp", "NoAnswer"]),
        ({"answeredByUserId": None}, ["CallerHungUp", "NoAnswer"]),
        ({"answeredByUserId": {"_type": "IsNull"}}, ["CallerHungUp", "NoAnswer"]),
        ({"answeredByUserId": {"_type": "NotNull", "value": None}}, ANSWERED),
        ({"statusMessage": {"_type": "IsNull"}}, ANSWERED),
        (
            {"callDurationInSeconds": {"_type": "GreaterThan", "value": 65}},
            ["Completed", "NoAnswer"],
        ),
        (
            {"callDurationInSeconds": {"_type": "GreaterThanOrEqual", "value": 65}},
            [*ANSWERED, "NoAnswer"],
        ),
        ({"callDurationInSeconds": {"_type": "LessThan", "value": 65}}, ["CallerHungUp"]),
        (
            {"callDurationInSeconds": {"_type": "LessThanOrEqual", "value": "65"}},
            ["Completed", "CallerHungUp"],
        ),
        (
            {"callCostInUSDCents": {"_type": "InBetween", "startValue": 1, "endValue": 2}},
            ["CallerHungUp", "NoAnswer"],
        ),
        ({"startedAt": {"_type": "InBetween", "startValue": H0930, "endValue": H1030}}, ANSWERED),
        ({"startedAt": {"_type": "GreaterThan", "value": H1030}}, ["CallerHungUp", "NoAnswer"]),
        (
            {"startedAt": {"_type": "GreaterThanOrEqual", "value": "2026-08-12T10:30:00Z"}},
            ["Completed", "CallerHungUp", "NoAnswer"],
        ),
        ({"startedAt": {"_type": "LessThan", "value": "2026-08-12T12:30:00+02:00"}}, ["Completed"]),
        (
            {
                "startedAt": {
                    "_type": "LessThanOrEqual",
                    "value": {"_type": "DateTime", "value": H0930},
                }
            },
            ["Completed"],
        ),
        ({"startedAt": {"_type": "DateTime", "value": H1130}}, ["CallerHungUp"]),
        # Windows counted from the hourly counts plus the partial hours at their ends.
        (
            {
                "startedAt": {
                    "_type": "InBetween",
                    "startValue": "2026-08-12T09:00:00Z",
                    "endValue": "2026-08-12T13:00:00Z",
                }
            },
            [*ANSWERED, "CallerHungUp", "NoAnswer"],
        ),
        (
            {
                "startedAt": {
                    "_type": "InBetween",
                    "startValue": "2026-08-12T09:30:00.001Z",
                    "endValue": H1230,
                }
            },
            ["Completed", "CallerHungUp", "NoAnswer"],
        ),
        ({"startedAt": {"_type": "LessThan", "value": "2026-08-12T11:00:00Z"}}, ANSWERED),
        (
            {
                "startedAt": {
                    "_type": "InBetween",
                    "startValue": "2026-08-13T00:00:00Z",
                    "endValue": "2026-08-12T00:00:00Z",
                }
            },
            [],
        ),
        ({"startedAt": H1230}, ["NoAnswer"]),
        ({"endedAt": {"_type": "GreaterThanOrNull", "value": H1130}}, ["CallerHungUp", "NoAnswer"]),
        (
            {"answeredByUserId": {"_type": "LessThanOrNull", "value": "0"}},
            ["CallerHungUp", "NoAnswer"],
        ),
        ({"callerPhoneNumber": {"_type": "Search", "value": " 0199 "}}, ["NoAnswer"]),
        (
            {"callerPhoneNumber": {"_type": "StartsWith", "value": "+1415"}},
            [*ANSWERED, "CallerHungUp"],
        ),
        (
            {"callerPhoneNumber": {"_type": "EndsWith", "value": "0123"}},
            [*ANSWERED, "CallerHungUp"],
        ),
        ({"callerPhoneNumber": {"_type": "NotContains", "value": "415"}}, ["NoAnswer"]),
        ({"callerPhoneNumber": {"_type": "Phone", "value": "+16175550199"}}, ["NoAnswer"]),
        ({"status": {"_type": "Search", "value": "COMPL"}}, ANSWERED),
        ({"status": {"_type": "Search", "value": "%"}}, []),  # no wildcard injection
        ({"status": {"_type": "Includes", "value": ["Completed", "Failed"]}}, ANSWERED),
        ({"status": {"_type": "IncludesAll", "value": ["NoAnswer"]}}, ["NoAnswer"]),
        (
            {"status": {"_type": "IncludesNone", "value": ["Completed"]}},
            ["CallerHungUp", "NoAnswer"],
        ),
        ({"status": {"_type": "Includes", "value": []}}, []),
        ({"status": {"_type": "EqualToOrNull", "value": "Completed"}}, ANSWERED),
        (
            {
                "statusMessage": {
                    "_type": "EqualToOrNull",
                    "value": ["Caller hung up before anyone answered"],
                }
            },
            [*ANSWERED, "CallerHungUp"],
        ),
        ({"repeatCount": 0, "currentEscalationRuleOrder": 3}, ["Completed", "NoAnswer"]),
        (
            {"incomingCallPolicy": {"name": {"_type": "Search", "value": "hotline"}}},
            [*ANSWERED, "CallerHungUp", "NoAnswer"],
        ),
        ({"incomingCallPolicy": {"name": "Elsewhere"}}, []),
        (
            {
                "anything": {
                    "_type": "MultiSearch",
                    "value": "hung",
                    "fields": ["status", "statusMessage"],
                }
            },
            ["CallerHungUp"],
        ),
        (
            {"status": {"_type": "MultiSearch", "value": "nobody", "fields": ["statusMessage"]}},
            ["NoAnswer"],
        ),
    ],
)
def test_log_queries(
    http: httpx.Client, calls: Calls, query: dict[str, Any], expected: list[str]
) -> None:
    assert _statuses(http, calls, LOG, query) == expected


def test_queries_on_ids_and_relations(http: httpx.Client, calls: Calls) -> None:
    acc, hot = calls.acc, calls.hot
    policy = {"_type": "ObjectID", "value": hot.policy_id}
    assert len(_statuses(http, calls, LOG, {"incomingCallPolicyId": policy})) == 4
    assert len(_statuses(http, calls, LOG, {"_id": calls.log_ids[2]})) == 1
    assert _statuses(http, calls, LOG, {"projectId": str(acc.account_id)}) != []
    by_user = {"answeredByUserId": {"_type": "ObjectID", "value": str(hot.ext("103"))}}
    assert _statuses(http, calls, LOG, by_user) == ["Completed"]
    assert _statuses(http, calls, LOG, {"answeredByUser": {"name": "Cy User"}}) == ["Completed"]
    items = {"incomingCallLog": {"status": "CallerHungUp"}}
    assert _statuses(http, calls, ITEM, items) == ["NoAnswer", "CallerHungUp"]
    assert _statuses(http, calls, ITEM, {"userId": hot.ext("102"), "status": "Busy"}) == ["Busy"]
    assert _statuses(http, calls, ITEM, {"isAnswered": "true"}) == ["Connected", "Connected"]
    group = {"onCallDutyPolicySchedule": {"name": {"_type": "StartsWith", "value": "primary"}}}
    rules = http.post(f"{RULE}/count", json={"query": group}, headers=headers(calls.key))
    assert rules.json() == {"count": 1}
    numbers = {"routingPhoneNumbers": {"_type": "Search", "value": "5550190"}}
    assert http.post(
        f"{POLICY}/count", json={"query": numbers}, headers=headers(calls.key)
    ).json() == {"count": 1}


def test_sorting(http: httpx.Client, calls: Calls) -> None:
    def order(sort: dict[str, Any]) -> list[str]:
        r = http.post(
            f"{LOG}/get-list",
            json={"sort": sort, "select": {"_id": True}},
            headers=headers(calls.key),
        )
        assert r.status_code == 200, r.text
        return [d["_id"] for d in r.json()["data"]]

    ids = calls.log_ids
    assert order({"startedAt": "ASC"}) == ids
    assert order({"startedAt": "desc"}) == ids[::-1]
    assert order({"callDurationInSeconds": "ASC"}) == [ids[2], ids[1], ids[0], ids[3]]
    # Nulls count as the largest value on both backends.
    assert order({"answeredByUserId": "DESC", "startedAt": "ASC"})[:2] == [ids[2], ids[3]]
    assert order({"status": "ASC", "startedAt": "DESC"}) == [ids[2], ids[1], ids[0], ids[3]]


MALFORMED: list[tuple[str, Any, int, str]] = [
    (LOG, {"query": []}, 400, "Query must be an object"),
    (
        LOG,
        {"query": {"nope": 1}},
        400,
        "Invalid column on IncomingCallLog - nope. Column does not exist.",
    ),
    (LOG, {"query": {"status": {"_type": "Bogus", "value": 1}}}, 400, 'unknown operator "Bogus"'),
    (LOG, {"query": {"status": {"value": "Completed"}}}, 400, 'needs a "_type"'),
    (
        LOG,
        {"query": {"callDurationInSeconds": {"_type": "GreaterThan"}}},
        400,
        "GreaterThan needs a value",
    ),
    (
        LOG,
        {"query": {"startedAt": {"_type": "InBetween", "startValue": H0930}}},
        400,
        "InBetween needs a endValue",
    ),
    (LOG, {"query": {"startedAt": "yesterday"}}, 400, '"yesterday" is not an ISO 8601 date-time'),
    (LOG, {"query": {"startedAt": True}}, 400, "expected an ISO 8601 date-time"),
    (LOG, {"query": {"callDurationInSeconds": "abc"}}, 400, "'abc' is not a number"),
    (LOG, {"query": {"callDurationInSeconds": 1e300}}, 400, "is out of range"),
    (LOG, {"query": {"incomingCallPolicyId": "123"}}, 400, '"123" is not a valid UUID'),
    (LOG, {"query": {"answeredByUserId": "abc"}}, 400, "is not a valid ID"),
    (LOG, {"query": {"status": True}}, 400, "expected a string"),
    (
        LOG,
        {"query": {"startedAt": {"_type": "Search", "value": "2026"}}},
        400,
        "Search does not apply",
    ),
    (
        LOG,
        {"query": {"status": {"_type": "Search", "value": {"x": 1}}}},
        400,
        "Search needs a text value",
    ),
    (
        LOG,
        {"query": {"status": {"_type": "Includes", "value": "Completed"}}},
        400,
        "Includes needs a list",
    ),
    (
        ITEM,
        {"query": {"isAnswered": {"_type": "GreaterThan", "value": True}}},
        400,
        "does not apply",
    ),
    (ITEM, {"query": {"isAnswered": "maybe"}}, 400, "expected true or false"),
    (
        LOG,
        {"query": {"incomingCallPolicy": {"project": {"name": "x"}}}},
        400,
        "You cannot query deep relations",
    ),
    (
        LOG,
        {"query": {"incomingCallPolicy": {"name": {"deeper": 1}}}},
        400,
        "You cannot query deep relations",
    ),
    (
        LOG,
        {"query": {"incomingCallPolicy": "Support"}},
        400,
        "a relation is queried with an object",
    ),
    (
        LOG,
        {"query": {"incomingCallPolicy": {"nope": 1}}},
        400,
        "Invalid column on IncomingCallPolicy - nope",
    ),
    (
        LOG,
        {"query": {"x": {"_type": "MultiSearch", "value": "a"}}},
        400,
        "MultiSearch needs fields",
    ),
    (
        LOG,
        {"query": {"x": {"_type": "MultiSearch", "value": "a", "fields": ["nope"]}}},
        400,
        "Invalid column on IncomingCallLog - nope",
    ),
    (
        LOG,
        {"select": {"nope": True}},
        400,
        'Invalid select clause. Cannot select on "nope". This column does not exist on '
        "IncomingCallLog. Here are the columns you can select on instead: ",
    ),
    (LOG, {"select": ["status"]}, 400, "Select must be an object"),
    (LOG, {"select": {"status": {"x": True}}}, 400, "is a column: select it with true"),
    (
        LOG,
        {"select": {"incomingCallPolicy": {"nope": True}}},
        400,
        "This column does not exist on IncomingCallPolicy",
    ),
    (
        LOG,
        {"select": {"incomingCallPolicy": {"project": {"name": True}}}},
        400,
        "You cannot select deep relations",
    ),
    (LOG, {"sort": {"startedAt": "UP"}}, 400, 'Use "ASC" or "DESC"'),
    (LOG, {"sort": {"nope": "ASC"}}, 400, "Invalid column on IncomingCallLog - nope"),
    (LOG, {"sort": {"incomingCallPolicy": "ASC"}}, 400, "Sort by a column"),
    (LOG, {"sort": ["startedAt"]}, 400, "Sort must be an object"),
    (POLICY, {"sort": {"routingPhoneNumbers": "ASC"}}, 400, "This column is a list"),
    (LOG, {"groupBy": {"status": True}}, 400, "GroupBy is currently not supported"),
    (LOG, [1, 2], 400, "Request body must be a JSON object"),
]


@pytest.mark.parametrize(("path", "body", "status", "reason"), MALFORMED)
def test_malformed_requests_are_refused_with_a_reason(
    http: httpx.Client, calls: Calls, path: str, body: Any, status: int, reason: str
) -> None:
    r = http.post(f"{path}/get-list", json=body, headers=headers(calls.key))
    assert r.status_code == status, r.text
    assert reason in r.json()["error"], r.json()


def test_malformed_json_and_ids(http: httpx.Client, calls: Calls) -> None:
    r = http.post(
        f"{LOG}/get-list",
        content=b"{not json",
        headers={**headers(calls.key), "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = http.post(f"{LOG}/abc/get-item", json={}, headers=headers(calls.key))
    assert r.status_code == 400
    assert r.json() == {
        "error": 'Invalid ID format: "abc". Expected a valid UUID '
        '(e.g., "550e8400-e29b-41d4-a716-446655440000").'
    }
    r = http.post(
        f"{LOG}/count", json={"query": {"status": {"_type": "Nope"}}}, headers=headers(calls.key)
    )
    assert r.status_code == 400 and 'unknown operator "Nope"' in r.json()["error"]

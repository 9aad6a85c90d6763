"""OneUptime get-lists reuse rendered records (api/oneuptime/rendering.py) only while nothing
they show changed: a record's own columns, its related records' columns, the select. Over HTTP
against the served app, whose cache is ``app.state.rendered_items``."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from callvault.api.rendered import RenderedItems
from callvault.domain.escalation import DialStatus
from callvault.services.container import Services
from callvault.services.escalation import DialInstruction, Provider
from callvault.storage.schema import extensions, incoming_call_logs, incoming_call_policies
from tests.builders import TestAccount
from tests.oneuptime_support import (
    CALLER,
    ITEM,
    LOG,
    POLICY,
    ROUTING,
    RULE,
    T0,
    Calls,
    api_key,
    headers,
    make_calls,
    make_hotline,
)

LOG_SELECT = {
    "status": True,
    "statusMessage": True,
    "startedAt": True,
    "endedAt": True,
    "callDurationInSeconds": True,
    "callCostInUSDCents": True,
    "answeredByUserId": True,
    "updatedAt": True,
    "incomingCallPolicy": {"name": True},
    "answeredByUser": {"name": True},
}


class Counts:
    """Hits and misses of the app's cache since the last ``take``."""

    def __init__(self, cache: RenderedItems) -> None:
        self.cache = cache
        self.hits, self.misses = cache.hits, cache.misses

    def take(self) -> tuple[int, int]:
        out = (self.cache.hits - self.hits, self.cache.misses - self.misses)
        self.hits, self.misses = self.cache.hits, self.cache.misses
        return out


@pytest.fixture
def counts(app: FastAPI) -> Counts:
    return Counts(app.state.rendered_items)


@pytest.fixture
def calls(services: Services, account: TestAccount) -> Calls:
    return make_calls(services, account)


def _list(http: httpx.Client, key: str, path: str, body: dict[str, Any]) -> bytes:
    r = http.post(f"{path}/get-list", json=body, headers=headers(key))
    assert r.status_code == 200, r.text
    return r.content


def _data(raw: bytes) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = orjson.loads(raw)["data"]
    return data


def test_a_repeated_get_list_is_served_from_the_cache(
    http: httpx.Client, calls: Calls, counts: Counts
) -> None:
    body = {"select": LOG_SELECT, "sort": {"startedAt": "ASC"}}
    first = _list(http, calls.key, LOG, body)
    assert counts.take() == (0, 4)
    again = _list(http, calls.key, LOG, body)
    assert counts.take() == (4, 0)
    assert again == first
    # A page of the same list reuses the records it shares with the first.
    paged = _list(http, calls.key, LOG, {**body, "skip": 1, "limit": 2})
    assert counts.take() == (2, 0)
    assert _data(paged) == _data(first)[1:3]


# -- a change of anything shown renders the record again ----------------------------------------


@pytest.fixture
def ringing(services: Services, account: TestAccount) -> tuple[str, DialInstruction]:
    """A call to the hotline, ringing its first rule (101), with its log id and the dial."""
    make_hotline(services, account)
    log, step = services.escalation.incoming_call(
        provider=Provider.SANDBOX,
        routing_number=ROUTING,
        caller_number=CALLER,
        provider_call_id="SB-rendered",
        at=T0,
    )
    assert isinstance(step, DialInstruction)
    return log.id, step


def _log_row(http: httpx.Client, key: str, log_id: str) -> dict[str, Any]:
    [row] = _data(_list(http, key, LOG, {"select": LOG_SELECT, "query": {"_id": log_id}}))
    return row


def test_each_step_of_a_call_shows_in_the_next_get_list(
    services: Services,
    account: TestAccount,
    http: httpx.Client,
    counts: Counts,
    ringing: tuple[str, DialInstruction],
) -> None:
    log_id, step = ringing
    key = api_key(services, account)
    esc = services.escalation
    seen = [_log_row(http, key, log_id)]
    assert seen[0]["status"] == "Initiated" and seen[0]["answeredByUser"] is None
    assert _log_row(http, key, log_id) == seen[0]
    counts.take()
    # Answered in the millisecond it was dialled: ``updatedAt`` stays, the record does not.
    esc.attempt_answered(log_id, step.item_id, at=T0)
    seen.append(_log_row(http, key, log_id))
    assert seen[-1]["updatedAt"] == seen[0]["updatedAt"]
    assert seen[-1]["status"] == "Connected"
    answerer = str(account.extensions["101"])
    assert seen[-1]["answeredByUserId"] == {"_type": "ObjectID", "value": answerer}
    assert seen[-1]["answeredByUser"]["_id"] == answerer
    end = T0 + timedelta(seconds=60)
    esc.attempt_ended(log_id, step.item_id, dial_status=DialStatus.COMPLETED, at=end)
    seen.append(_log_row(http, key, log_id))
    assert seen[-1]["status"] == "Completed"
    assert seen[-1]["endedAt"] == {"_type": "DateTime", "value": "2026-08-12T09:31:00.000Z"}
    # The provider's status callback, later, settles the call's length.
    esc.call_ended(log_id, call_duration=75, at=end + timedelta(seconds=2))
    seen.append(_log_row(http, key, log_id))
    assert seen[-1]["callDurationInSeconds"] == 75
    assert counts.take() == (0, 3)  # every version rendered anew, none reused
    assert all(a != b for a, b in itertools.pairwise(seen))


def test_a_write_that_leaves_updated_ms_alone_still_shows(
    services: Services, http: httpx.Client, calls: Calls, counts: Counts
) -> None:
    """The cache does not trust writers to stamp ``updated_ms``: the values are the version."""
    log_id = calls.log_ids[0]
    before = _log_row(http, calls.key, log_id)
    with services.db.write() as conn:
        conn.execute(
            update(incoming_call_logs)
            .where(incoming_call_logs.c.id == log_id)
            .values(status="Failed", status_message="changed behind the engine's back")
        )
    after = _log_row(http, calls.key, log_id)
    assert after["updatedAt"] == before["updatedAt"]
    assert (after["status"], after["statusMessage"]) == (
        "Failed",
        "changed behind the engine's back",
    )
    assert counts.take() == (0, 2)


def test_a_renamed_policy_shows_in_every_log_listed_with_it(
    services: Services, http: httpx.Client, calls: Calls, counts: Counts
) -> None:
    body = {"select": LOG_SELECT, "sort": {"startedAt": "ASC"}}
    names = [d["incomingCallPolicy"]["name"] for d in _data(_list(http, calls.key, LOG, body))]
    assert names == ["Support Hotline"] * 4
    services.policies.update_policy(calls.acc.account_id, calls.hot.policy_id, name="NOC Line")
    renamed = _data(_list(http, calls.key, LOG, body))
    assert [d["incomingCallPolicy"]["name"] for d in renamed] == ["NOC Line"] * 4
    # A rename behind the service's back (``updated_ms`` kept) shows as well.
    with services.db.write() as conn:
        conn.execute(
            update(incoming_call_policies)
            .where(incoming_call_policies.c.id == calls.hot.policy_id)
            .values(name="Night Line")
        )
    again = _data(_list(http, calls.key, LOG, body))
    assert [d["incomingCallPolicy"]["name"] for d in again] == ["Night Line"] * 4
    assert counts.take() == (0, 12)


def test_a_renamed_user_shows_in_the_logs_they_answered(
    services: Services, http: httpx.Client, calls: Calls, counts: Counts
) -> None:
    """Users (extensions) have no version column at all."""
    answerer = calls.acc.extensions["101"]
    with services.db.write() as conn:
        conn.execute(update(extensions).where(extensions.c.id == answerer).values(name="Ada L."))
    first = _log_row(http, calls.key, calls.log_ids[0])
    assert first["answeredByUser"] == {"_id": str(answerer), "name": "Ada L."}
    with services.db.write() as conn:
        conn.execute(update(extensions).where(extensions.c.id == answerer).values(name="Ada B."))
    assert _log_row(http, calls.key, calls.log_ids[0])["answeredByUser"]["name"] == "Ada B."
    assert counts.take() == (0, 2)


# -- the select is part of what is rendered -----------------------------------------------------


def test_different_selects_do_not_share_entries(
    http: httpx.Client, calls: Calls, counts: Counts
) -> None:
    sort = {"startedAt": "ASC"}
    selects: list[dict[str, Any]] = [
        {"status": True, "startedAt": True},
        {"startedAt": True, "status": True},  # the same columns, another key order
        {"status": True},
        {"status": True, "startedAt": True, "incomingCallPolicy": True},
        {"status": True, "startedAt": True, "incomingCallPolicy": {"name": True}},
        # Records read alike (the same values in the same order), rendered differently.
        {"startedAt": True},
        {"createdAt": True},  # a log is created when it starts
        {"incomingCallPolicyId": True},
        {"incomingCallPolicy": True},
    ]
    bodies = [_list(http, calls.key, LOG, {"select": s, "sort": sort}) for s in selects]
    assert counts.take() == (0, 4 * len(selects))
    first = _data(bodies[0])[0]
    assert list(first) == ["_id", "status", "startedAt"]
    assert list(_data(bodies[1])[0]) == ["_id", "startedAt", "status"]
    assert list(_data(bodies[2])[0]) == ["_id", "status"]
    assert _data(bodies[3])[0]["incomingCallPolicy"] == {"_id": calls.hot.policy_id}
    policy = {"_id": calls.hot.policy_id, "name": "Support Hotline"}
    assert _data(bodies[4])[0]["incomingCallPolicy"] == policy
    started, created = _data(bodies[5])[0], _data(bodies[6])[0]
    assert list(started) == ["_id", "startedAt"] and list(created) == ["_id", "createdAt"]
    assert started["startedAt"] == created["createdAt"]
    policy_id = {"_type": "ObjectID", "value": calls.hot.policy_id}
    assert _data(bodies[7])[0] == {"_id": first["_id"], "incomingCallPolicyId": policy_id}
    related = {"_id": calls.hot.policy_id}
    assert _data(bodies[8])[0] == {"_id": first["_id"], "incomingCallPolicy": related}
    # Each select again: its own entries, the same bytes.
    for s, body in zip(selects, bodies, strict=True):
        assert _list(http, calls.key, LOG, {"select": s, "sort": sort}) == body
    assert counts.take() == (4 * len(selects), 0)


# -- cached and uncached renderings are the same bytes ------------------------------------------

EVERYTHING: dict[str, dict[str, Any]] = {
    LOG: {
        **dict.fromkeys(
            [
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
                "deletedAt",
            ],
            True,
        ),
        "project": {"name": True},
        "incomingCallPolicy": {"name": True, "routingPhoneNumbers": True},
        "answeredByUser": {"name": True},
    },
    ITEM: {
        **dict.fromkeys(
            [
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
            ],
            True,
        ),
        "incomingCallLog": {"status": True, "startedAt": True},
        "incomingCallPolicyEscalationRule": {"name": True, "order": True},
        "user": {"name": True},
    },
    POLICY: {
        **dict.fromkeys(
            [
                "name",
                "slug",
                "routingPhoneNumber",
                "routingPhoneNumbers",
                "callProviderPhoneNumberId",
                "phoneNumberPurchasedAt",
                "greetingMessage",
                "isEnabled",
                "repeatPolicyIfNoOneAnswersTimes",
                "createdAt",
            ],
            True,
        ),
        "project": True,
    },
    RULE: {
        **dict.fromkeys(
            ["incomingCallPolicyId", "name", "order", "escalateAfterSeconds", "userId"], True
        ),
        "incomingCallPolicy": {"name": True, "routingPhoneNumber": True},
        "user": {"name": True},
        "onCallDutyPolicySchedule": {"name": True},
    },
}


@pytest.mark.parametrize("path", list(EVERYTHING))
def test_cached_responses_equal_the_uncached_rendering(
    app: FastAPI,
    http: httpx.Client,
    calls: Calls,
    counts: Counts,
    path: str,
) -> None:
    sort = {"createdAt": "ASC"}
    narrow = {"select": {"status" if path in (LOG, ITEM) else "name": True}, "sort": sort}
    full = {"select": EVERYTHING[path], "sort": sort, "limit": 20}
    _list(http, calls.key, path, narrow)  # entries of another select come first
    counts.take()
    cached = [_list(http, calls.key, path, full) for _ in range(2)]  # rendered, then reused
    hits, misses = counts.take()
    kept = app.state.rendered_items
    app.state.rendered_items = RenderedItems(0)  # nothing kept: every record rendered
    try:
        uncached = _list(http, calls.key, path, full)
    finally:
        app.state.rendered_items = kept
    assert cached[0] == uncached and cached[1] == uncached
    assert hits == misses == len(_data(uncached)) > 0

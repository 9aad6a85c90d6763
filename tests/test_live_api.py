"""Live calls over HTTP: events in (native and RingCentral webhook), active calls and records
out, the journal surviving a restart, and regeneration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from callvault.services.container import Services
from callvault.services.live import LiveCallService, regenerate
from tests.builders import TestAccount
from tests.openapi import assert_rc
from tests.traces import TRACES, build_events, load

WIDE = {"dateFrom": "2020-01-01T00:00:00Z", "view": "Detailed"}


def _trace_events(acc: TestAccount, name: str, shift: timedelta) -> list[dict[str, Any]]:
    trace = load(TRACES / f"{name}.yaml")
    ids = {"ann": acc.extensions["101"], "bob": acc.extensions["102"]}
    events = build_events(trace, ids)
    for e in events:
        e["time"] = (datetime.fromisoformat(e["time"]) + shift).isoformat()
    return events


def test_events_make_records_and_duplicates_change_nothing(
    http: httpx.Client, account: TestAccount
) -> None:
    events = _trace_events(account, "extension_to_extension", timedelta(0))
    r = http.post("/api/v1/events", json=events[:-1], headers=account.auth())
    assert r.status_code == 200, r.text
    assert r.json()["callsFinished"] == 0
    active = http.get("/restapi/v1.0/account/~/active-calls", headers=account.auth())
    body = assert_rc(active.json(), "CallLogResponse")
    assert [rec["result"] for rec in body["records"]] == ["In Progress", "In Progress"]
    r = http.post("/api/v1/events", json=events, headers=account.auth())
    assert r.json() == {
        "accepted": 1,
        "duplicates": len(events) - 1,
        "callsFinished": 1,
        "rejected": 0,
        "errors": [],
    }
    log = http.get("/restapi/v1.0/account/~/call-log", params=WIDE, headers=account.auth())
    records = assert_rc(log.json(), "CallLogResponse")["records"]
    assert sorted((r["direction"], r["result"]) for r in records) == [
        ("Inbound", "Accepted"),
        ("Outbound", "Call connected"),
    ]
    # The finished call lingers in active calls with its final result.
    mine = http.get("/restapi/v1.0/account/~/extension/~/active-calls", headers=account.auth())
    assert [r["result"] for r in assert_rc(mine.json(), "CallLogResponse")["records"]] == [
        "Call connected"
    ]


def test_bad_events_are_reported_and_good_ones_kept(
    http: httpx.Client, account: TestAccount
) -> None:
    events = _trace_events(account, "extension_to_extension", timedelta(days=-1))
    bad = dict(events[1], sequence="two")
    no_party = {k: v for k, v in events[2].items() if k != "party"}
    r = http.post("/api/v1/events", json=[events[0], bad, no_party], headers=account.auth())
    assert r.status_code == 207
    assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [(1, "sequence"), (2, "party")]
    assert r.json()["accepted"] == 1
    user = http.post("/api/v1/events", json=events, headers=account.auth("102"))
    assert user.status_code == 403


def test_ringcentral_webhook_handshake_token_and_notifications(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    url = f"/api/v1/webhooks/ringcentral/{account.account_id}"
    hello = http.post(
        url, headers={"Validation-Token": "abc123", "Content-Type": "application/json"}
    )
    assert hello.status_code == 200 and hello.headers["Validation-Token"] == "abc123"
    assert len(hello.content) == 0
    token = services.accounts.issue_webhook_token(account.account_id, "ringcentral")
    t0 = datetime.now(UTC) - timedelta(minutes=5)

    def note(
        seq: int, party: str, direction: str, code: str, at: int, ext: str | None
    ) -> dict[str, Any]:
        p: dict[str, Any] = {
            "id": party,
            "direction": direction,
            "status": {"code": code},
            "from": {"phoneNumber": "+14155550199"},
            "to": {"phoneNumber": "+16505550100", "name": "Main"},
        }
        if ext:
            p["extensionId"] = ext
            p["accountId"] = "rc-acc"
        return {
            "uuid": f"u{seq}",
            "event": "/restapi/v1.0/account/1/telephony/sessions",
            "timestamp": t0.isoformat(),
            "subscriptionId": "sub",
            "ownerId": "1",
            "body": {
                "sequence": seq,
                "sessionId": "4291",
                "telephonySessionId": "s-rc1",
                "eventTime": (t0 + timedelta(seconds=at)).isoformat().replace("+00:00", "Z"),
                "origin": {"type": "Call"},
                "parties": [p],
            },
        }

    flow = [
        note(2, "p-1", "Outbound", "Setup", 0, None),
        note(3, "p-2", "Inbound", "Proceeding", 1, "777001"),
        note(4, "p-2", "Inbound", "Answered", 6, "777001"),
        note(5, "p-2", "Inbound", "Disconnected", 40, "777001"),
        note(6, "p-1", "Outbound", "Disconnected", 41, None),
    ]
    denied = http.post(url, json=flow[0], headers={"Verification-Token": "wrong"})
    assert denied.status_code == 401
    for n in flow + flow[:2]:  # redelivered notifications are duplicates
        r = http.post(
            url,
            content=orjson.dumps(n),
            headers={"Verification-Token": token, "Content-Type": "application/json"},
        )
        assert r.status_code == 200, r.text
    exts = {e.number: e for e in services.accounts.extensions(account.account_id)}
    created = [e for e in exts.values() if e.name != "" and e.id not in account.extensions.values()]
    assert len(created) == 1  # RingCentral extension 777001 became a callvault extension
    log = http.get("/restapi/v1.0/account/~/call-log", params=WIDE, headers=account.auth())
    records = assert_rc(log.json(), "CallLogResponse")["records"]
    assert [(r["result"], r["sessionId"], r["extension"]["id"]) for r in records] == [
        ("Accepted", "4291", created[0].id)
    ]


def test_restart_rebuilds_calls_in_progress_and_regenerate_is_idempotent(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    events = _trace_events(account, "extension_to_extension", timedelta(hours=-2))
    http.post("/api/v1/events", json=events[:5], headers=account.auth())
    # A new process: the live state comes back from the journal.
    restarted = LiveCallService(services.db, services.ingest)
    active = restarted.active(account.account_id)
    assert len(active) == 2 and {r.result.value for r in active if r.result} == {"In Progress"}
    report = restarted.accept(account.account_id, [])
    assert report.accepted == 0
    from callvault.importers.native_events import parse_event

    resolve = services.accounts.resolver(account.account_id)
    restarted.accept(account.account_id, [parse_event(e, resolve) for e in events[5:]])
    assert services.calls.count(account.account_id) == 2
    again = regenerate(restarted, account_id=account.account_id)
    assert (again.calls, again.records_created, again.records_updated, again.records_unchanged) == (
        1,
        0,
        0,
        2,
    )


def test_stream_sends_call_changes_of_the_own_account_only(
    server: str, http: httpx.Client, account: TestAccount, services: Services
) -> None:
    from tests.builders import make_account

    other = make_account(services, http)
    events = _trace_events(account, "extension_to_extension", timedelta(minutes=-30))
    with (
        httpx.Client(base_url=server, timeout=10) as watcher,
        watcher.stream("GET", "/api/v1/stream", headers=account.auth()) as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        # Another account's call must not show up in this stream.
        foreign = _trace_events(other, "extension_to_extension", timedelta(minutes=-20))
        for e in foreign:
            e["sessionId"] = "s-other-account"
            e["id"] = "other-" + e["id"]
        http.post("/api/v1/events", json=foreign, headers=other.auth())
        http.post("/api/v1/events", json=events, headers=account.auth())
        kinds = []
        for line in lines:
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
            if line.startswith("data: "):
                data = orjson.loads(line.removeprefix("data: "))
                assert data["sessions"] == ["s-ext2ext"]
                if data["type"] == "call.finished":
                    break
        assert kinds[-1] == "call.finished"
    denied = http.get("/api/v1/stream", headers=account.auth("102"))
    assert denied.status_code == 403


def test_unknown_paths_answer_in_the_shape_of_their_face(http: httpx.Client) -> None:
    rc = http.get("/restapi/v1.0/account/~/no-such-thing")
    assert rc.status_code == 404 and rc.json()["errors"][0]["errorCode"] == "CMN-120"
    native = http.get("/api/v1/no-such-thing")
    assert native.status_code == 404 and native.json()["error"]["code"] == "not-found"
    wrong_method = http.put("/restapi/v1.0/account/~/call-log")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["errorCode"] == "CMN-202"

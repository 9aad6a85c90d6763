"""``POST /api/v1/calls``: JSON arrays and NDJSON, idempotence, partial batches reported per
record, the native error shape for bad bodies (never a 500), old enum spellings, and access."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from tests.builders import TestAccount, rc_record
from tests.helpers import ago, assert_call_log, assert_record

CALLS = "/api/v1/calls"
LOG = "/restapi/v1.0/account/~/call-log"
WIDE = {"dateFrom": "2000-01-01T00:00:00Z", "view": "Detailed"}


def post(
    http: httpx.Client,
    acc: TestAccount,
    body: Any,
    *,
    content_type: str = "application/json",
    ext: str = "101",
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {**acc.auth(ext), "Content-Type": content_type}
    return http.post(CALLS, content=raw, headers=headers)


def report(
    r: httpx.Response, status: int, created: int = 0, updated: int = 0, unchanged: int = 0
) -> list[dict[str, Any]]:
    """Check an ingest report's status and counts; return its errors."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"created", "updated", "unchanged", "rejected", "errors"}, body
    assert (body["created"], body["updated"], body["unchanged"]) == (created, updated, unchanged)
    assert body["rejected"] == len(body["errors"])
    errors: list[dict[str, Any]] = body["errors"]
    for error in errors:
        assert set(error) <= {"index", "field", "reason", "id"}, error
        assert isinstance(error["index"], int) and error["field"] and error["reason"], error
    assert [e["index"] for e in errors] == sorted(e["index"] for e in errors)
    return errors


def native_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"], body
    error: dict[str, Any] = body["error"]
    assert set(error) <= {"code", "message", "field"} and {"code", "message"} <= set(error)
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, body
    return error


def stored(http: httpx.Client, acc: TestAccount) -> dict[str, dict[str, Any]]:
    """Every record of the account's company log (Detailed), by id."""
    body = assert_call_log(http.get(LOG, params=WIDE, headers=acc.auth()))
    return {r["id"]: r for r in body["records"]}


# -- formats ----------------------------------------------------------------------------------


def test_json_array_object_and_ndjson(http: httpx.Client, account: TestAccount) -> None:
    e = account.extensions
    r1, r2, r3, r4, r5 = (
        rc_record(f"F{n}", extension_id=e["102"], start=ago(hours=n)) for n in range(1, 6)
    )
    report(post(http, account, [r1, r2]), 200, created=2)
    # One object on its own is one record.
    report(post(http, account, r3), 200, created=1)
    # NDJSON with its content type, blank lines and CRLF line ends; r1 again is unchanged.
    ndjson = b"\r\n".join([orjson.dumps(r4), b"", orjson.dumps(r1), b""])
    report(post(http, account, ndjson, content_type="application/x-ndjson"), 200, 1, 0, 1)
    # NDJSON sent as application/json is recognised too.
    ndjson = b"\n".join([orjson.dumps(r5), orjson.dumps(r2)])
    report(post(http, account, ndjson), 200, created=1, unchanged=1)
    # An array sent with the NDJSON content type is still an array.
    report(post(http, account, [r1, r2], content_type="application/x-ndjson"), 200, unchanged=2)
    # A pretty-printed array.
    pretty = orjson.dumps([r3], option=orjson.OPT_INDENT_2)
    report(post(http, account, pretty), 200, unchanged=1)
    got = stored(http, account)
    assert sorted(got) == ["F1", "F2", "F3", "F4", "F5"]
    for record in got.values():
        assert_record(record)
        assert record["extension"]["id"] == e["102"]


def test_ndjson_with_bad_lines(http: httpx.Client, account: TestAccount) -> None:
    good = [rc_record(f"N{n}", start=ago(hours=n)) for n in (1, 2)]
    body = b"\n".join([orjson.dumps(good[0]), b"{not json", orjson.dumps(good[1]), b"[1,"])
    errors = report(post(http, account, body, content_type="application/x-ndjson"), 207, 2)
    assert [(e["index"], e["field"]) for e in errors] == [(1, "record"), (3, "record")]
    assert "line 2" in errors[0]["reason"] and "line 4" in errors[1]["reason"]
    assert sorted(stored(http, account)) == ["N1", "N2"]


# -- idempotence and updates ------------------------------------------------------------------


def test_idempotent_and_updates(http: httpx.Client, account: TestAccount) -> None:
    record = rc_record("IDEM", extension_id=account.extensions["102"], start=ago(hours=2))
    report(post(http, account, [record]), 200, created=1)
    first = stored(http, account)["IDEM"]
    time.sleep(0.01)
    report(post(http, account, [record]), 200, unchanged=1)
    # Key order and spelling variants do not make a record different.
    shuffled = dict(reversed(list(record.items())))
    shuffled["direction"] = "inbound"
    report(post(http, account, [shuffled]), 200, unchanged=1)
    assert stored(http, account)["IDEM"] == first
    # What the API returns, sent back, is the same record.
    report(post(http, account, [first]), 200, unchanged=1)

    changed = {**record, "result": "Missed", "durationMs": 0}
    changed["legs"] = [{**record["legs"][0], "result": "Missed", "durationMs": 0}]
    report(post(http, account, [changed]), 200, updated=1)
    after = stored(http, account)["IDEM"]
    assert after["result"] == "Missed" and after["duration"] == 0
    assert after["legs"][0]["result"] == "Missed"
    assert after["lastModifiedTime"] > first["lastModifiedTime"]
    assert after["startTime"] == first["startTime"]
    # The same record twice in one batch is stored once.
    report(post(http, account, [changed, changed]), 200, unchanged=2)
    assert list(stored(http, account)) == ["IDEM"]


# -- partial batches --------------------------------------------------------------------------


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


def test_partial_batch_reports_each_bad_record(http: httpx.Client, account: TestAccount) -> None:
    e = account.extensions
    good = rc_record("GOOD1", extension_id=e["102"], start=ago(hours=1))
    bad_leg = rc_record("BAD2", extension_id=e["102"], start=ago(hours=2))
    bad_leg["legs"][0]["legType"] = "Teleport"
    second_leg = rc_record("BAD6", start=ago(hours=6))
    second_leg["legs"].append({**second_leg["legs"][0], "extension": {"id": 42}})
    batch: list[Any] = [
        good,
        _without(rc_record("BAD1", start=ago(hours=1)), "startTime"),
        bad_leg,
        rc_record("BAD3", extension_id=123456789, start=ago(hours=3)),
        rc_record("BAD4", direction="Sideways", start=ago(hours=4)),
        "not a record",
        rc_record("BAD5", start=ago(hours=5), extension={"id": "abc"}),
        second_leg,
        rc_record("BAD7", start=ago(hours=7), durationMs=-1),
        rc_record("BAD8", start=ago(hours=8), startTime="2024-01-01T10:00:00"),
        {**rc_record("BAD9", start=ago(hours=9)), "from": "+14155550101"},
        rc_record("GOOD2", extension_id=e["103"], start=ago(hours=10)),
    ]
    errors = report(post(http, account, batch), 207, created=2)
    got = [(x["index"], x["field"], x.get("id")) for x in errors]
    assert got == [
        (1, "startTime", "BAD1"),
        (2, "legs[0].legType", "BAD2"),
        (3, "extension.id", "BAD3"),
        (4, "direction", "BAD4"),
        (5, "record", None),
        (6, "extension.id", "BAD5"),
        (7, "legs[1].extension.id", "BAD6"),
        (8, "durationMs", "BAD7"),
        (9, "startTime", "BAD8"),
        (10, "from", "BAD9"),
    ]
    reasons = {x["index"]: x["reason"] for x in errors}
    assert reasons[1] == "is required"
    assert "Teleport" in reasons[2] and "Accept" in reasons[2]
    assert "not in this account" in reasons[3]
    assert "timezone" in reasons[9]
    assert sorted(stored(http, account)) == ["GOOD1", "GOOD2"]


def test_values_the_store_cannot_hold_are_rejected(
    http: httpx.Client, account: TestAccount
) -> None:
    """Ids must be addressable in a URL path, and nothing may exceed what either database
    holds; each such record is reported by field instead of failing the batch."""
    long_session = _without(rc_record("LONGTSI", start=ago(hours=1)), "sessionId")
    long_session["telephonySessionId"] = "s-" + "f" * 100
    batch = [
        rc_record("a,b"),
        rc_record("a/b"),
        rc_record(""),
        rc_record("x" * 65),
        rc_record("Y1", sessionId="s" * 65),
        rc_record("Y2", sessionId="a\u0000b"),
        rc_record("Y3", telephonySessionId="s-" + "f" * 200),
        rc_record("Y4", from_number="+1" + "5" * 40),
        rc_record("Y5", metadataCategories=["a,b"]),
        rc_record("Y6", durationMs=1e30),
        rc_record("Y7", startTime="9999-12-31T23:59:59-01:00"),
        long_session,
    ]
    errors = report(post(http, account, batch), 207, created=1)
    assert [(x["index"], x["field"]) for x in errors] == [
        (0, "id"),
        (1, "id"),
        (2, "id"),
        (3, "id"),
        (4, "sessionId"),
        (5, "sessionId"),
        (6, "telephonySessionId"),
        (7, "from.phoneNumber"),
        (8, "metadataCategories"),
        (9, "durationMs"),
        (10, "startTime"),
    ]
    (record,) = stored(http, account).values()
    assert record["id"] == "LONGTSI" and record["telephonySessionId"] == "s-" + "f" * 100
    assert 0 < len(record["sessionId"]) <= 64


def test_all_bad_is_422(http: httpx.Client, account: TestAccount) -> None:
    batch = [_without(rc_record("X1"), "direction"), rc_record("X2", type="SMS")]
    errors = report(post(http, account, batch), 422)
    assert [(x["index"], x["field"]) for x in errors] == [(0, "direction"), (1, "type")]
    assert stored(http, account) == {}


# -- bodies that are not records: 400/413/422, never a 500 ------------------------------------


def test_malformed_bodies(http: httpx.Client, account: TestAccount) -> None:
    error = native_error(post(http, account, b"[{"), 400, "invalid-json")
    assert error["field"] == "body"
    for body in (b"", b"   ", b"42", b'"text"', b"null", b"true"):
        native_error(post(http, account, body), 400)
    native_error(post(http, account, b"\xff\xfe[]"), 400)
    native_error(post(http, account, b"[" * 5000 + b"]" * 5000), 400)
    native_error(post(http, account, [{}] * 10_001), 413, "batch-too-large")


NASTY: list[Any] = [
    None,
    [],
    {},
    {"startTime": 5},
    {"legs": {}},
    {"legs": [None]},
    {"legs": [{"legType": "Accept"}]},
    {"extension": {"id": 1e30}},
    {"extension": {"id": 2**63}},
    {"extension": {"id": True}},
    {"durationMs": 1e30},
    {"durationMs": 2**64 - 1},
    {"durationMs": "12"},
    {"duration": 1.5},
    {"startTime": "0001-01-01T00:00:00+01:00"},
    {"startTime": "9999-12-31T23:59:59-01:00"},
    {"startTime": "2024-02-30T00:00:00Z"},
    {"id": ""},
    {"id": "a,b"},
    {"id": "a/b"},
    {"id": "a b"},
    {"id": "x" * 65},
    {"id": "nul\u0000id"},
    {"sessionId": "s" * 65},
    {"sessionId": "nul\u0000"},
    {"telephonySessionId": "s-" + "f" * 200},
    {"from": {"phoneNumber": "+1" + "5" * 60}},
    {"to": {"phoneNumber": "1" * 40}},
    {"metadataCategories": ["c" * 300, "d" * 300]},
    {"metadataCategories": ["nul\u0000"]},
    {"metadataCategories": "sales"},
    {"recording": {"type": "Automatic"}},
    {"message": {"id": "1"}},
    {"billing": {"costIncluded": "free"}},
    {"cdr": {"sipStatusCode": "ok"}},
    {"cdr": {"disconnectedBy": "nobody"}},
    {"finished": "maybe"},
]


def test_hostile_records_are_reported_never_500(http: httpx.Client, account: TestAccount) -> None:
    failures = []
    for n, patch in enumerate(NASTY):
        good = rc_record(f"OK{n}", start=ago(hours=1))
        bad = {**rc_record(f"HOSTILE{n}", start=ago(hours=2)), **patch} if patch else patch
        r = post(http, account, [good, bad])
        body = r.json() if r.status_code in (200, 207) else None
        if body is None or (r.status_code == 207 and body["errors"][0]["index"] != 1):
            failures.append((patch, r.status_code, r.text[:200]))
    assert failures == []
    # Whatever was accepted is served as valid RingCentral JSON.
    got = stored(http, account)
    assert {f"OK{n}" for n in range(len(NASTY))} <= set(got)
    for record in got.values():
        assert_record(record)


# -- enum spellings ---------------------------------------------------------------------------


def test_old_enum_spellings_in_current_ones_out(http: httpx.Client, account: TestAccount) -> None:
    record = rc_record(
        "OLD1",
        extension_id=account.extensions["102"],
        start=ago(hours=1),
        direction="inbound",
        type="VOICE",
        transport="voip",
        action="411 Info",
        result="ResultEmpty",
        reason="line Busy",
        internalType="longDistance",
        recording={"id": "77", "type": "on_demand"},
        delegationType="queue_forwarding",
    )
    record["legs"][0].update(
        legType="sip_forwarding", result="Call Connected", reason="DescNoE911Address"
    )
    other = rc_record("OLD2", start=ago(hours=2), result="Poor Line Quality", type="Fax")
    third = rc_record("OLD3", start=ago(hours=3), result="No fax machine", action="CallOut-CallMe")
    report(post(http, account, [record, other, third]), 200, created=3)
    got = stored(http, account)
    old1 = got["OLD1"]
    assert (old1["direction"], old1["type"], old1["transport"]) == ("Inbound", "Voice", "VoIP")
    assert (old1["action"], old1["result"], old1["reason"]) == ("Unknown", "Unknown", "Line Busy")
    assert old1["internalType"] == "LongDistance"
    assert old1["recording"]["type"] == "OnDemand"
    assert old1["delegationType"] == "QueueForwarding"
    leg = old1["legs"][0]
    assert (leg["legType"], leg["result"]) == ("SipForwarding", "Call connected")
    assert leg["reason"] == "Emergency Address not defined"
    assert got["OLD2"]["result"] == "Fax Poor Line"
    assert got["OLD3"]["result"] == "Fax Not Sent"
    assert got["OLD3"]["action"] == "CallOut-CallMe"
    # The list filters take the current spellings.
    body = assert_call_log(
        http.get(LOG, params={**WIDE, "transport": "VoIP"}, headers=account.auth())
    )
    assert [r["id"] for r in body["records"]] == ["OLD1"]


# -- access -----------------------------------------------------------------------------------


def test_only_admins_may_ingest(http: httpx.Client, account: TestAccount) -> None:
    record = [rc_record("ACL1")]
    native_error(post(http, account, record, ext="102"), 403, "permission-denied")
    native_error(http.post(CALLS, json=record), 401, "auth-required")
    r = http.post(CALLS, json=record, headers={"Authorization": "Bearer nope"})
    native_error(r, 401, "auth-failed")
    r = http.post(CALLS, json=record, headers={"Authorization": f"Basic {account.tokens['101']}"})
    native_error(r, 401, "auth-required")
    assert stored(http, account) == {}
    r = http.post(CALLS, json=record, headers={"Authorization": f"bearer {account.tokens['101']}"})
    report(r, 200, created=1)

"""Call-log sync and extract-sync (reference §8) against the real server on the test database:
FSync then ISync with the official SDK, frames and their extension, statusGroup=Missed, the
250-record limits, token misuse and expiry, extract-sync paging, and ISync while writers ingest
concurrently. Every response body is validated strictly against the published schema."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ringcentral.http.api_exception import ApiException
from sqlalchemy import select

from callvault.domain.calls import CallRecord
from callvault.domain.enums import Direction, Result
from callvault.domain.outcome import is_missed
from callvault.domain.query import SyncFilter
from callvault.services import ingest as ingest_module
from callvault.services.container import Services
from callvault.services.ingest import IngestService
from callvault.services.sync import SyncService, decode_token, encode_token
from callvault.storage.calls import CallStore, missed_clause
from callvault.storage.schema import calls
from tests.builders import TestAccount, make_account, rc_record
from tests.helpers import TIMESTAMP, ago, assert_rc_error, assert_record, ingest, rc_stamp
from tests.openapi import assert_rc
from tests.test_sdk import api_error, as_dict, login

API = "/restapi/v1.0/account/~"
COMPANY = f"{API}/call-log-sync"
MINE = f"{API}/extension/~/call-log-sync"
EXTRACT = f"{API}/call-log-extract-sync"
PARAM_MODEL = "ParameterizedErrorResponseModel"
LIMIT_MESSAGE = "Parameter [syncToken] is invalid [max sync record number limit is exceeded]"
EXPIRED_MESSAGE = "Parameter [syncToken] is invalid [Sync token expired, call log was reset]"


def assert_sync(body: Any, sync_type: str, schema: str = "CallLogSyncResponse") -> dict[str, Any]:
    checked: dict[str, Any] = assert_rc(body, schema)
    for record in checked["records"]:
        assert_record(record)
    info = checked["syncInfo"]
    assert info["syncType"] == sync_type
    assert TIMESTAMP.match(info["syncTime"]), info
    assert info["syncToken"]
    return checked


def get_sync(
    http: httpx.Client,
    acc: TestAccount,
    params: dict[str, Any],
    *,
    path: str = COMPANY,
    ext: str = "101",
) -> dict[str, Any]:
    r = http.get(path, params=params, headers=acc.auth(ext))
    assert r.status_code == 200, r.text
    sync_type = str(params.get("syncType", "FSync"))
    schema = "CallLogExtractSyncResponse" if path == EXTRACT else "CallLogSyncResponse"
    return assert_sync(r.json(), sync_type, schema)


def isync(
    http: httpx.Client,
    acc: TestAccount,
    token: str,
    *,
    path: str = COMPANY,
    ext: str = "101",
    **p: Any,
) -> dict[str, Any]:
    return get_sync(http, acc, {"syncType": "ISync", "syncToken": token, **p}, path=path, ext=ext)


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["records"]]


def token_of(body: dict[str, Any]) -> str:
    token: str = body["syncInfo"]["syncToken"]
    return token


def call(
    record_id: str,
    *,
    extension_id: int | None = None,
    start: datetime | None = None,
    direction: Direction = Direction.INBOUND,
    result: Result | None = Result.ACCEPTED,
) -> CallRecord:
    return CallRecord(
        id=record_id,
        session_id=str(abs(hash(record_id)) % 10**9),
        direction=direction,
        start_time=start or ago(minutes=5),
        duration_ms=30_000,
        result=result,
        extension_id=extension_id,
    )


def seed(http: httpx.Client, acc: TestAccount, count: int, prefix: str = "R") -> list[str]:
    """``count`` calls an hour apart, newest first (R0 an hour ago), owned by 102, 103, none."""
    owners = [acc.extensions["102"], acc.extensions["103"], None]
    records = [
        rc_record(f"{prefix}{n}", extension_id=owners[n % 3], start=ago(hours=n + 1))
        for n in range(count)
    ]
    ingest(http, acc, records)
    return [r["id"] for r in records]


# -- FSync / ISync ----------------------------------------------------------------------------


def test_sdk_fsync_then_isync_sees_new_changed_and_deleted_records_once(
    http: httpx.Client, account: TestAccount, server: str
) -> None:
    seeded = seed(http, account, 6)
    platform = login(account, server)
    body = assert_sync(as_dict(platform.get(COMPANY, {"recordCount": 250})), "FSync")
    assert ids(body) == seeded
    assert body["uri"].endswith(f"/account/{account.account_id}/call-log-sync?recordCount=250")
    token = token_of(body)

    def next_sync(**params: Any) -> dict[str, Any]:
        nonlocal token
        query = {"syncType": "ISync", "syncToken": token, **params}
        got = assert_sync(as_dict(platform.get(COMPANY, query)), "ISync")
        token = token_of(got)
        return got

    assert ids(next_sync()) == []
    # Two new calls and a corrected one.
    n1 = rc_record("N1", start=ago(minutes=10))
    ingest(
        http,
        account,
        [
            n1,
            rc_record("N2", extension_id=account.extensions["103"], start=ago(minutes=20)),
            rc_record(
                "R2", extension_id=account.extensions["103"], start=ago(hours=3), result="Busy"
            ),
        ],
    )
    body = next_sync()
    assert ids(body) == ["N1", "N2", "R2"]  # newest first
    assert body["records"][2]["result"] == "Busy"
    # Sending the same record again changes nothing, so nothing is reported.
    ingest(http, account, [n1])
    assert ids(next_sync()) == []
    # 102 deletes its log: reported once, with deleted: true, when showDeleted is asked for.
    user = login(account, server, "102")
    user.delete(f"{API}/extension/~/call-log", query_params={"dateTo": rc_stamp(ago(seconds=1))})
    body = next_sync(showDeleted="true")
    assert sorted(ids(body)) == ["R0", "R3"]
    assert all(r["deleted"] is True for r in body["records"])
    assert ids(next_sync(showDeleted="true")) == []
    assert ids(next_sync()) == []


def test_sync_started_before_the_first_write_sees_it(
    services: Services, http: httpx.Client, account: TestAccount
) -> None:
    """The account's change counter is created by its first write; numbering starts above 0
    (not at the writer's placeholder), so a token issued before still sees that write."""
    token = token_of(get_sync(http, account, {"recordCount": 5}))
    services.ingest.ingest(account.account_id, [call("FIRST"), call("SECOND")])
    services.ingest.ingest(account.account_id, [call("THIRD")])
    assert sorted(ids(isync(http, account, token))) == ["FIRST", "SECOND", "THIRD"]
    with services.db.read() as conn:
        numbers = conn.execute(
            select(calls.c.change_seq).where(calls.c.account_id == account.account_id)
        ).scalars()
        assert sorted(numbers) == [1, 1, 2]


def test_deletions_are_reported_only_when_show_deleted(
    http: httpx.Client, account: TestAccount
) -> None:
    seed(http, account, 3)
    plain = token_of(get_sync(http, account, {"recordCount": 10}, path=MINE, ext="102"))
    # showDeleted on FSync is kept in the token for the ISyncs that follow.
    keep = token_of(
        get_sync(http, account, {"recordCount": 10, "showDeleted": "true"}, path=MINE, ext="102")
    )
    r = http.delete(
        f"{API}/extension/~/call-log",
        params={"dateTo": rc_stamp(ago(seconds=1))},
        headers=account.auth("102"),
    )
    assert r.status_code == 204
    assert ids(isync(http, account, plain, path=MINE, ext="102")) == []
    body = isync(http, account, keep, path=MINE, ext="102")
    assert ids(body) == ["R0"] and body["records"][0]["deleted"] is True
    assert (
        "?view=Simple" in body["records"][0]["uri"] and "/extension/" in body["records"][0]["uri"]
    )


def test_extension_sync_follows_only_its_own_log(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account, 6)
    body = get_sync(http, account, {"recordCount": 250, "view": "Detailed"}, path=MINE, ext="102")
    assert ids(body) == ["R0", "R3"]
    own = f"/account/{account.account_id}/extension/{account.extensions['102']}/call-log/"
    assert all(own in r["uri"] and "legs" in r for r in body["records"])
    token = token_of(body)
    ingest(http, account, [rc_record("X1", extension_id=account.extensions["103"])])
    body = isync(http, account, token, path=MINE, ext="102")
    assert ids(body) == []
    ingest(http, account, [rc_record("X2", extension_id=account.extensions["102"])])
    # The view comes from the token (Detailed) unless the ISync asks for another one.
    body = isync(http, account, token_of(body), path=MINE, ext="102")
    assert ids(body) == ["X2"] and "legs" in body["records"][0]
    # An admin may sync another extension's log, by id.
    other = f"{API}/extension/{account.extensions['103']}/call-log-sync"
    assert ids(get_sync(http, account, {"recordCount": 5}, path=other)) == ["X1", "R1", "R4"]


def test_frame_is_cut_by_record_count_and_extended_by_isync(
    http: httpx.Client, account: TestAccount
) -> None:
    seeded = seed(http, account, 10)
    body = get_sync(http, account, {"recordCount": 4})
    assert ids(body) == seeded[:4]
    token = token_of(body)
    # A change below the frame is not the client's business...
    ingest(http, account, [rc_record("R8", start=ago(hours=9), result="Missed")])
    body = isync(http, account, token)
    assert ids(body) == []
    # ...until the frame is extended over it: older records come after the new ones.
    ingest(http, account, [rc_record("N1", start=ago(minutes=1))])
    body = isync(http, account, token_of(body), recordCount=3)
    assert ids(body) == ["N1", "R4", "R5", "R6"]
    body = isync(http, account, token_of(body), recordCount=10)
    assert ids(body) == ["R7", "R8", "R9"]
    assert body["records"][1]["result"] == "Missed"
    body = isync(http, account, token_of(body), recordCount=10)
    assert ids(body) == []
    # The frame now covers all history: a late record for an old call is a change.
    ingest(http, account, [rc_record("OLD", start=ago(days=20))])
    assert ids(isync(http, account, token_of(body))) == ["OLD"]


def test_date_from_bounds_the_frame_and_extends_it(
    http: httpx.Client, account: TestAccount
) -> None:
    seeded = seed(http, account, 8)
    body = get_sync(http, account, {"recordCount": 250, "dateFrom": rc_stamp(ago(hours=3.5))})
    assert ids(body) == seeded[:3]
    # A record older than dateFrom is outside the frame.
    ingest(http, account, [rc_record("R5", start=ago(hours=6), result="Busy")])
    body = isync(http, account, token_of(body))
    assert ids(body) == []
    body = isync(http, account, token_of(body), dateFrom=rc_stamp(ago(hours=6.5)))
    assert ids(body) == ["R3", "R4", "R5"]
    body = isync(http, account, token_of(body), recordCount=1)
    assert ids(body) == ["R6"]


def test_new_records_take_priority_over_frame_extension(
    http: httpx.Client, account: TestAccount
) -> None:
    seed(http, account, 5)
    token = token_of(get_sync(http, account, {"recordCount": 1}))
    fresh = [rc_record(f"N{n:03d}", start=ago(seconds=n + 1)) for n in range(248)]
    ingest(http, account, fresh)
    body = isync(http, account, token, recordCount=5)
    assert len(body["records"]) == 250
    assert ids(body)[:248] == [r["id"] for r in fresh]
    assert ids(body)[248:] == ["R1", "R2"]
    # The frame moved only as far as the records returned.
    assert ids(isync(http, account, token_of(body), recordCount=5)) == ["R3", "R4"]


def test_status_group_missed(http: httpx.Client, account: TestAccount) -> None:
    cases = [
        ("M1", "Inbound", "Missed"),
        ("M2", "Inbound", "Voicemail"),
        ("A1", "Inbound", "Accepted"),
        ("O1", "Outbound", "No Answer"),
        ("M3", "Inbound", "Abandoned"),
        ("B1", "Inbound", "Busy"),
    ]
    ingest(
        http,
        account,
        [
            rc_record(rid, direction=d, result=res, start=ago(hours=n + 1))
            for n, (rid, d, res) in enumerate(cases)
        ],
    )
    body = get_sync(http, account, {"recordCount": 50, "statusGroup": "Missed"})
    assert ids(body) == ["M1", "M2", "M3"]
    token = token_of(body)
    everything = [rid for rid, _, _ in cases]
    assert ids(get_sync(http, account, {"recordCount": 50, "statusGroup": "All"})) == everything
    both = {"recordCount": 50, "statusGroup": ["Missed", "All"]}
    assert ids(get_sync(http, account, both)) == everything
    # ISync keeps the token's statusGroup.
    ingest(
        http,
        account,
        [
            rc_record("M4", result="Missed", start=ago(minutes=1)),
            rc_record("A2", result="Accepted", start=ago(minutes=2)),
        ],
    )
    assert ids(isync(http, account, token)) == ["M4"]


def test_missed_clause_agrees_with_the_domain_rule(services: Services) -> None:
    """The SQL filter behind statusGroup=Missed restates ``is_missed``; keep the two in step."""
    acc = make_account(services)
    records = [
        call(f"{d.value}-{r.value if r else 'none'}", direction=d, result=r)
        for d in Direction
        for r in [*Result, None]
    ]
    report = services.ingest.ingest(acc.account_id, records)
    assert report.created == len(records) and not report.problems
    with services.db.read() as conn:
        got = set(
            conn.execute(
                select(calls.c.record_id).where(
                    calls.c.account_id == acc.account_id, missed_clause()
                )
            ).scalars()
        )
    expected = {r.id for r in records if is_missed(r)}
    assert expected and got == expected


# -- limits and errors ------------------------------------------------------------------------


def test_parameter_errors(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account, 2)
    token = token_of(get_sync(http, account, {"recordCount": 5}))
    old = rc_stamp(ago(days=31))
    cases: list[tuple[str, dict[str, Any], str]] = [
        (COMPANY, {}, "recordCount"),
        (COMPANY, {"syncType": "FSync"}, "recordCount"),
        (COMPANY, {"recordCount": 251}, "recordCount"),
        (COMPANY, {"recordCount": 0}, "recordCount"),
        (COMPANY, {"recordCount": "many"}, "recordCount"),
        (COMPANY, {"recordCount": 5, "syncType": "Sometimes"}, "syncType"),
        (COMPANY, {"recordCount": 5, "statusGroup": "Lost"}, "statusGroup"),
        (COMPANY, {"recordCount": 5, "view": "Fancy"}, "view"),
        (COMPANY, {"recordCount": 5, "recordingType": "Secret"}, "recordingType"),
        (COMPANY, {"recordCount": 5, "dateFrom": "yesterday"}, "dateFrom"),
        (COMPANY, {"recordCount": 5, "dateFrom": old}, "dateFrom"),
        (COMPANY, {"syncType": "ISync"}, "syncToken"),
        (COMPANY, {"syncType": "ISync", "syncToken": token, "recordCount": 251}, "recordCount"),
        (COMPANY, {"syncType": "ISync", "syncToken": token, "dateFrom": old}, "dateFrom"),
        (
            COMPANY,
            {"syncType": "ISync", "syncToken": token, "showDeleted": "perhaps"},
            "showDeleted",
        ),
        (EXTRACT, {"recordCount": 1001}, "recordCount"),
        (EXTRACT, {"syncType": "ISync"}, "syncToken"),
    ]
    for path, params, name in cases:
        r = http.get(path, params=params, headers=account.auth())
        assert_rc_error(r, 400, "CMN-101", PARAM_MODEL, parameter=name)
    extract = token_of(get_sync(http, account, {}, path=EXTRACT))
    r = http.get(
        EXTRACT,
        params={"syncType": "ISync", "syncToken": extract, "recordCount": 5},
        headers=account.auth(),
    )
    assert_rc_error(r, 400, "CMN-101", PARAM_MODEL, parameter="recordCount")


def test_permissions(http: httpx.Client, account: TestAccount) -> None:
    for path in (COMPANY, EXTRACT):
        r = http.get(path, params={"recordCount": 5}, headers=account.auth("102"))
        assert_rc_error(r, 403, "CMN-408")
    other = f"{API}/extension/{account.extensions['103']}/call-log-sync"
    r = http.get(other, params={"recordCount": 5}, headers=account.auth("102"))
    assert_rc_error(r, 403, "CMN-404")
    r = http.get(COMPANY, params={"recordCount": 5})
    assert r.status_code == 401


def test_more_than_250_pending_changes(http: httpx.Client, account: TestAccount) -> None:
    token = token_of(get_sync(http, account, {"recordCount": 10}))
    ingest(http, account, [rc_record(f"A{n:03d}", start=ago(minutes=n + 1)) for n in range(250)])
    # Exactly 250 fit.
    body = isync(http, account, token)
    assert len(body["records"]) == 250
    token = token_of(body)
    ingest(http, account, [rc_record(f"B{n:03d}", start=ago(seconds=n + 1)) for n in range(251)])
    r = http.get(COMPANY, params={"syncType": "ISync", "syncToken": token}, headers=account.auth())
    body = assert_rc_error(r, 400, "CLG-103", PARAM_MODEL, parameter="syncToken")
    assert body["message"] == LIMIT_MESSAGE
    # The client full-syncs again and carries on.
    body = get_sync(http, account, {"recordCount": 250})
    assert len(body["records"]) == 250
    ingest(http, account, [rc_record("C1", start=ago(seconds=0.5))])
    assert ids(isync(http, account, token_of(body))) == ["C1"]


def test_sdk_sees_sync_errors(account: TestAccount, server: str) -> None:
    platform = login(account, server)
    with pytest.raises(ApiException) as exc:
        platform.get(COMPANY, {"syncType": "ISync", "syncToken": "not-a-token"})
    assert_rc_error(api_error(exc), 400, "CMN-101", PARAM_MODEL, parameter="syncToken")


def _expect_token_error(
    http: httpx.Client,
    acc: TestAccount,
    token: str,
    code: str,
    *,
    path: str = COMPANY,
    ext: str = "101",
) -> dict[str, Any]:
    r = http.get(path, params={"syncType": "ISync", "syncToken": token}, headers=acc.auth(ext))
    return assert_rc_error(r, 400, code, PARAM_MODEL, parameter="syncToken")


def test_token_misuse(services: Services, http: httpx.Client, account: TestAccount) -> None:
    seed(http, account, 3)
    company = token_of(get_sync(http, account, {"recordCount": 5}))
    mine = token_of(get_sync(http, account, {"recordCount": 5}, path=MINE, ext="102"))
    extract = token_of(get_sync(http, account, {}, path=EXTRACT))
    other_ext = f"{API}/extension/{account.extensions['103']}/call-log-sync"
    body, _, mac = company.partition(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    key = services.sync.key.get()
    payload = decode_token(key, company)
    misuse = [
        # Tampered, garbled, or signed with another key.
        (f"{flipped}.{mac}", COMPANY, "101"),
        (f"{body}.{mac[:-1]}", COMPANY, "101"),
        (f"{body}.{mac}x", COMPANY, "101"),
        (body, COMPANY, "101"),
        ("🙂.🙂", COMPANY, "101"),
        (encode_token("another server's key", payload), COMPANY, "101"),
        (encode_token(key, {"v": 1, "k": "log"}), COMPANY, "101"),
        # Another log: extension vs company, another extension, another endpoint.
        (mine, COMPANY, "101"),
        (company, MINE, "101"),
        (mine, other_ext, "101"),
        (mine, MINE, "101"),
        (extract, COMPANY, "101"),
        (company, EXTRACT, "101"),
    ]
    for token, path, ext in misuse:
        _expect_token_error(http, account, token, "CMN-101", path=path, ext=ext)
    # Another account's admin cannot use it on their own log.
    stranger = make_account(services, http)
    _expect_token_error(http, stranger, company, "CMN-101")
    # Still valid where it belongs.
    assert ids(isync(http, account, company)) == []
    assert ids(isync(http, account, mine, path=MINE, ext="102")) == []


def test_expired_tokens(services: Services, http: httpx.Client, account: TestAccount) -> None:
    seed(http, account, 3)
    key = services.sync.key
    # Not used for more than 30 days.
    month_ago = SyncService(services.db, key, clock=lambda: datetime.now(UTC) - timedelta(days=31))
    flt = SyncFilter(account_id=account.account_id)
    stale = month_ago.full_sync(flt, record_count=5, date_from=None, detailed=False).token
    body = _expect_token_error(http, account, stale, "CLG-102")
    assert body["message"] == EXPIRED_MESSAGE
    almost = SyncService(services.db, key, clock=lambda: datetime.now(UTC) - timedelta(days=29))
    fine = almost.full_sync(flt, record_count=5, date_from=None, detailed=False).token
    assert ids(isync(http, account, fine)) == []
    # A token format this version does not read.
    payload = {**decode_token(key.get(), fine), "v": 99}
    _expect_token_error(http, account, encode_token(key.get(), payload), "CLG-104")
    # The call log was reset after the token was issued.
    company = token_of(get_sync(http, account, {"recordCount": 5}))
    extract = token_of(get_sync(http, account, {}, path=EXTRACT))
    with services.db.write() as conn:
        CallStore.purge_account(conn, account.account_id)
    body = _expect_token_error(http, account, company, "CLG-101")
    assert body["message"] == EXPIRED_MESSAGE
    _expect_token_error(http, account, extract, "CLG-101", path=EXTRACT)
    body = get_sync(http, account, {"recordCount": 5})
    assert ids(body) == []
    ingest(http, account, [rc_record("AFTER")])
    assert ids(isync(http, account, token_of(body))) == ["AFTER"]


# -- extract-sync -----------------------------------------------------------------------------


def test_extract_sync_pages_through_newer_records_exist(
    services: Services, http: httpx.Client, account: TestAccount
) -> None:
    # Modified two hours ago: outside extract-sync's default window of one hour.
    old = IngestService(services.db, clock=lambda: datetime.now(UTC) - timedelta(hours=2))
    old.ingest(account.account_id, [call("OLD1"), call("OLD2")])
    ingest(http, account, [rc_record(f"E{n}", start=ago(hours=n + 1)) for n in range(3)])
    ingest(http, account, [rc_record(f"E{n}", start=ago(hours=n + 1)) for n in range(3, 7)])
    pages: list[list[str]] = []
    flags: list[bool] = []
    body = get_sync(http, account, {"recordCount": 3, "view": "Detailed"}, path=EXTRACT)
    while True:
        pages.append(ids(body))
        flags.append(body["syncInfo"]["newerRecordsExist"])
        assert all("legs" in r for r in body["records"])
        if not flags[-1]:
            break
        body = isync(http, account, token_of(body), path=EXTRACT)
    # In order of modification, each once; the uri is the company log's.
    assert [rid for page in pages for rid in page] == [f"E{n}" for n in range(7)]
    assert [len(p) for p in pages] == [3, 3, 1] and flags == [True, True, False]
    assert body["records"][0]["uri"].endswith(
        f"/account/{account.account_id}/call-log/E6?view=Detailed"
    )
    token = token_of(body)
    body = isync(http, account, token, path=EXTRACT, view="Simple")
    assert ids(body) == [] and body["syncInfo"]["newerRecordsExist"] is False
    # Changes since: a correction, a new call, and a deletion (extract reports it, flagged).
    ingest(http, account, [rc_record("E1", start=ago(hours=2), result="Busy")])
    ingest(http, account, [rc_record("E9", extension_id=account.extensions["102"])])
    r = http.delete(f"{API}/extension/~/call-log", headers=account.auth("102"))
    assert r.status_code == 204
    body = isync(http, account, token_of(body), path=EXTRACT)
    assert ids(body) == ["E1", "E9"]
    assert body["records"][1]["deleted"] is True and "legs" not in body["records"][1]
    # An explicit dateFrom reaches older modifications.
    body = get_sync(http, account, {"dateFrom": rc_stamp(ago(hours=3))}, path=EXTRACT)
    assert ids(body)[:2] == ["OLD1", "OLD2"] and len(body["records"]) == 10


def test_extract_record_count_bounds(http: httpx.Client, account: TestAccount) -> None:
    ingest(http, account, [rc_record(f"E{n:04d}", start=ago(minutes=n + 1)) for n in range(260)])
    body = get_sync(http, account, {}, path=EXTRACT)
    assert len(body["records"]) == 250 and body["syncInfo"]["newerRecordsExist"] is True
    body = isync(http, account, token_of(body), path=EXTRACT)
    assert len(body["records"]) == 10 and body["syncInfo"]["newerRecordsExist"] is False
    body = get_sync(http, account, {"recordCount": 1000}, path=EXTRACT)
    assert len(body["records"]) == 260 and body["syncInfo"]["newerRecordsExist"] is False


# -- concurrency ------------------------------------------------------------------------------


def _slow_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers commit a while after their rows got their change number: the window in which a
    watermark that does not follow commit order would move past them."""
    original: Callable[..., int] = ingest_module.stamp_pending

    def stamp(*args: Any) -> int:
        number = original(*args)
        time.sleep(random.random() * 0.01)
        return number

    monkeypatch.setattr(ingest_module, "stamp_pending", stamp)


def test_isync_sees_every_record_once_while_writers_ingest(
    services: Services, http: httpx.Client, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_commits(monkeypatch)
    ext102, ext103 = account.extensions["102"], account.extensions["103"]
    services.ingest.ingest(account.account_id, [call("PRE1", extension_id=ext102), call("PRE2")])
    written: list[CallRecord] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        rng = random.Random(w)
        try:
            for b in range(30):
                batch = [
                    call(
                        f"W{w}-{b}-{i}",
                        extension_id=rng.choice([ext102, ext103, None]),
                        start=ago(seconds=rng.randint(1, 600)),
                    )
                    for i in range(rng.randint(1, 4))
                ]
                services.ingest.ingest(account.account_id, batch)
                with lock:
                    written.extend(batch)
                time.sleep(rng.random() * 0.01)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    company = get_sync(http, account, {"recordCount": 250})
    mine = get_sync(http, account, {"recordCount": 250}, path=MINE, ext="102")
    seen_company, seen_mine = ids(company), ids(mine)
    tokens = [token_of(company), token_of(mine)]
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    rounds = 0
    while True:
        running = any(t.is_alive() for t in threads)
        company = isync(http, account, tokens[0])
        mine = isync(http, account, tokens[1], path=MINE, ext="102")
        seen_company += ids(company)
        seen_mine += ids(mine)
        tokens = [token_of(company), token_of(mine)]
        rounds += 1
        if not running:
            break
        time.sleep(0.02)
    assert not errors, errors
    all_ids = ["PRE1", "PRE2", *(r.id for r in written)]
    ids_102 = ["PRE1", *(r.id for r in written if r.extension_id == ext102)]
    assert len(seen_company) == len(set(seen_company)), "a record was delivered twice"
    assert sorted(seen_company) == sorted(all_ids)
    assert len(seen_mine) == len(set(seen_mine))
    assert sorted(seen_mine) == sorted(ids_102)
    assert rounds > 3 and len(written) > 100

"""The RingCentral Call Log API over HTTP: query parameters (§3), paging and navigation (§4),
records by id and in batch (§5), delete (§6), views (§16.1), permissions, isolation and
rate-limit headers. Every body is checked against the published schema."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from callvault.services.container import Services
from tests.builders import TestAccount, make_account, rc_record
from tests.helpers import (
    TIMESTAMP,
    ago,
    assert_call_log,
    assert_rc_error,
    assert_record,
    ingest,
    multipart_parts,
    rc_stamp,
)
from tests.openapi import assert_rc

API = "/restapi/v1.0"
COMPANY = f"{API}/account/~/call-log"
MINE = f"{API}/account/~/extension/~/call-log"
# Wide enough to hold every seeded call, including the one older than the default 24 h.
WIDE = "dateFrom=" + quote(rc_stamp(ago(days=3)))


def seed(http: httpx.Client, acc: TestAccount) -> dict[str, dict[str, Any]]:
    """Seven calls across the account's extensions; A5 is older than the default window."""
    e = acc.extensions
    records = [
        rc_record(
            "A1",
            extension_id=e["102"],
            start=ago(hours=1),
            recording={"id": "9001", "type": "Automatic"},
            billing={"costIncluded": 0.0, "costPurchased": 0.25},
            internalType="Local",
        ),
        rc_record(
            "A2",
            extension_id=e["102"],
            start=ago(hours=2),
            direction="Outbound",
            from_number="+16505550100",
            to_number="+12053320032",
            transport="VoIP",
            metadataCategories=["sales"],
        ),
        rc_record(
            "A3",
            extension_id=e["103"],
            start=ago(hours=3),
            type="Fax",
            action="Incoming Fax",
            result="Received",
            recording={"id": "9003", "type": "OnDemand"},
            legs=False,
        ),
        rc_record(
            "A4",
            extension_id=e["101"],
            start=ago(hours=4),
            result="Blocked",
            telephonySessionId="s-special",
        ),
        rc_record("A5", extension_id=e["102"], start=ago(hours=30)),
        rc_record("A6", start=ago(hours=5), direction="Outbound", legs=False),
        rc_record(
            "A7", extension_id=e["103"], start=ago(hours=6), direction="Outbound", sessionId="777"
        ),
    ]
    ingest(http, acc, records)
    return {r["id"]: r for r in records}


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["records"]]


def get_log(
    http: httpx.Client, acc: TestAccount, path: str, query: str = "", ext: str = "101"
) -> dict[str, Any]:
    url = f"{path}?{query}" if query else path
    return assert_call_log(http.get(url, headers=acc.auth(ext)))


# -- §3 query parameters ---------------------------------------------------------------------

# Newest first.
ALL = ["A1", "A2", "A3", "A4", "A6", "A7", "A5"]


def newest_first(wanted: list[str]) -> list[str]:
    return [i for i in ALL if i in wanted]


COMPANY_FILTERS: list[tuple[str, list[str]]] = [
    ("", ALL),
    ("direction=Outbound", ["A2", "A6", "A7"]),
    ("direction=Inbound", ["A1", "A3", "A4", "A5"]),
    ("direction=Inbound&direction=Outbound", ALL),
    ("direction=Inbound,Outbound", ALL),
    ("type=Fax", ["A3"]),
    ("type=Voice", ["A1", "A2", "A4", "A5", "A6", "A7"]),
    ("type=Voice&type=Fax", ALL),
    ("transport=VoIP", ["A2"]),
    ("transport=PSTN,VoIP", ALL),
    ("phoneNumber=12053320032", ["A2"]),
    ("phoneNumber=%2B12053320032", ["A2"]),
    ("extensionNumber=103", ["A3", "A7"]),
    ("extensionNumber=999", []),
    ("sessionId=777", ["A7"]),
    ("telephonySessionId=s-special", ["A4"]),
    ("recordingType=All", ["A1", "A3"]),
    ("recordingType=Automatic", ["A1"]),
    ("recordingType=OnDemand", ["A3"]),
    ("withRecording=true", ["A1", "A3"]),
    ("withRecording=TRUE", ["A1", "A3"]),
    ("withRecording=false", ALL),
    ("withRecording=true&recordingType=OnDemand", ["A3"]),
    ("showBlocked=false", ["A1", "A2", "A3", "A5", "A6", "A7"]),
    ("showBlocked=False", ["A1", "A2", "A3", "A5", "A6", "A7"]),
    ("showBlocked=TRUE", ALL),
    ("metadataCategory=sales", ["A2"]),
    ("metadataCategory=nothing", []),
    ("direction=Inbound&type=Voice&transport=PSTN&showBlocked=false", ["A1", "A5"]),
]


def test_company_log_filters(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    for query, expected in COMPANY_FILTERS:
        body = get_log(http, account, COMPANY, f"{WIDE}&{query}" if query else WIDE)
        assert ids(body) == newest_first(expected), query


def test_extension_log_filters(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    cases = [
        ("", ["A1", "A2", "A5"]),
        ("direction=Outbound", ["A2"]),
        ("transport=VoIP", ["A2"]),
        ("showBlocked=false", ["A1", "A2", "A5"]),
        ("extensionNumber=102", ["A1", "A2", "A5"]),
        ("extensionNumber=103", []),
        ("phoneNumber=14155550101", ["A1", "A5"]),
    ]
    for query, expected in cases:
        body = get_log(http, account, MINE, f"{WIDE}&{query}" if query else WIDE, ext="102")
        assert ids(body) == newest_first(expected), query
    # The admin's own log holds only the admin's calls.
    assert ids(get_log(http, account, MINE, WIDE)) == ["A4"]


def test_default_window_is_the_last_24_hours(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    body = get_log(http, account, COMPANY)
    assert ids(body) == ["A1", "A2", "A3", "A4", "A6", "A7"]
    echoed = parse_qs(urlsplit(body["uri"]).query)
    date_from, date_to = echoed["dateFrom"][0], echoed["dateTo"][0]
    # dateFrom defaults to exactly 24 h before dateTo (which defaults to now).
    assert TIMESTAMP.match(date_from) and TIMESTAMP.match(date_to)
    parsed_to = datetime.fromisoformat(date_to)
    assert parsed_to - datetime.fromisoformat(date_from) == timedelta(hours=24)
    assert abs(parsed_to - ago()) < timedelta(minutes=1)
    # dateTo alone: the window is the 24 h before it.
    body = get_log(http, account, COMPANY, "dateTo=" + quote(rc_stamp(ago(hours=26))))
    assert ids(body) == ["A5"]
    # dateFrom alone: up to now.
    body = get_log(http, account, COMPANY, "dateFrom=" + quote(rc_stamp(ago(hours=2, minutes=30))))
    assert ids(body) == ["A1", "A2"]


def _local(moment: datetime, hours: int) -> str:
    """``moment`` as wall-clock time at a UTC offset of ``hours`` (offset not appended)."""
    return (moment + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")


def test_date_offsets_in_any_encoding(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    cut = ago(hours=2, minutes=30).replace(microsecond=0)
    for raw in (
        f"{_local(cut, 2)}+02:00",  # unencoded "+", as RingCentral's SDKs send it
        f"{_local(cut, 2)}%2B02:00",
        f"{_local(cut, 2)}%2002:00",  # "+" that a form encoder turned into a space
        f"{_local(cut, -5)}-05:00",
        f"{_local(cut, 0)}Z",
        quote(rc_stamp(cut)),
    ):
        body = get_log(http, account, COMPANY, f"dateFrom={raw}")
        assert ids(body) == ["A1", "A2"], raw
        echoed = parse_qs(urlsplit(body["uri"]).query)["dateFrom"][0]
        assert echoed == rc_stamp(cut), raw
    # Windows that end in the past, with both bounds offset.
    hour = [_local(ago(hours=h + 0.5), 2) + "+02:00" for h in range(5)]
    for h in (1, 2, 3):
        body = get_log(http, account, COMPANY, f"dateFrom={hour[h]}&dateTo={hour[h - 1]}")
        assert ids(body) == [f"A{h}"], h


INVALID: list[tuple[str, str]] = [
    ("direction=Sideways", "direction"),
    ("direction=Inbound,Sideways", "direction"),
    ("type=SMS", "type"),
    ("transport=Carrier", "transport"),
    ("view=Full", "view"),
    ("view=Simple&view=Detailed", "view"),
    ("recordingType=Manual", "recordingType"),
    ("withRecording=maybe", "withRecording"),
    ("showBlocked=2", "showBlocked"),
    ("showDeleted=yes-please", "showDeleted"),
    ("dateFrom=yesterday", "dateFrom"),
    ("dateFrom=2024-01-01T00:00:00", "dateFrom"),
    ("dateFrom=2024-13-01T00:00:00Z", "dateFrom"),
    ("dateFrom=a%20b", "dateFrom"),
    ("dateFrom=0001-01-01T00:00:00%2B01:00", "dateFrom"),
    ("dateTo=9999-12-31T23:59:59-01:00", "dateTo"),
    ("dateTo=soon", "dateTo"),
    ("dateTo=0001-01-01T00:00:00Z", "dateTo"),
    ("dateFrom=2024-02-01T00:00:00Z&dateTo=2024-01-01T00:00:00Z", "dateFrom"),
    ("perPage=0", "perPage"),
    ("perPage=-5", "perPage"),
    ("perPage=ten", "perPage"),
    ("perPage=1.5", "perPage"),
    ("page=0", "page"),
    ("page=x", "page"),
    ("page=1&page=2", "page"),
    ("page=%C2%B2", "page"),
    ("page=99999999999999999999", "page"),
    ("perPage=99999999999999999999", "perPage"),
    ("sessionId=%00", "sessionId"),
    ("telephonySessionId=s-%00", "telephonySessionId"),
    ("extensionNumber=10%001", "extensionNumber"),
    ("metadataCategory=sales,%00", "metadataCategory"),
    ("phoneNumber=%0012", "phoneNumber"),
    ("extensionNumber=101&phoneNumber=12053320032", "phoneNumber"),
]


@pytest.mark.parametrize("path", [COMPANY, MINE])
def test_invalid_parameter_values(http: httpx.Client, account: TestAccount, path: str) -> None:
    for query, name in INVALID:
        r = http.get(f"{path}?{query}", headers=account.auth())
        body = assert_rc_error(r, 400, "CMN-101", "ParameterizedErrorResponseModel", parameter=name)
        assert body["errors"][0]["message"].startswith(f"Parameter [{name}] value is invalid")


def test_session_id_with_extension_number_is_clg_110(
    http: httpx.Client, account: TestAccount
) -> None:
    for path in (COMPANY, MINE):
        r = http.get(f"{path}?sessionId=777&extensionNumber=103", headers=account.auth())
        body = assert_rc_error(r, 400, "CLG-110", "ParameterizedErrorResponseModel")
        assert body["message"] == (
            "Parameter [sessionId] is not allowed for usage along with parameter [extensionNumber]"
        )
        assert body["errors"][0]["parameterName"] == "sessionId"


def test_per_page_default_max_and_clamp(http: httpx.Client, account: TestAccount) -> None:
    cases = [
        ("", 100),
        ("perPage=1", 1),
        ("perPage=250&view=Detailed", 250),
        ("perPage=1000", 1000),
        ("perPage=1001", 1000),
        ("perPage=5000", 1000),
        ("perPage=max", 1000),
        ("perPage=MAX", 1000),
    ]
    for query, expected in cases:
        body = get_log(http, account, COMPANY, query)
        assert body["paging"] == {"page": 1, "perPage": expected}, query
        for link in (body["uri"], body["navigation"]["firstPage"]["uri"]):
            assert parse_qs(urlsplit(link).query)["perPage"] == [str(expected)], query


# -- §4 paging and navigation ----------------------------------------------------------------


def _query_of(uri: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(uri).query, keep_blank_values=True)


def test_paging_and_navigation(http: httpx.Client, account: TestAccount, server: str) -> None:
    seed(http, account)
    query = f"{WIDE}&direction=Inbound&direction=Outbound&showBlocked=true&view=Detailed&perPage=3"
    pages: list[dict[str, Any]] = []
    body = get_log(http, account, COMPANY, query)
    while True:
        pages.append(body)
        nxt = body["navigation"].get("nextPage")
        if nxt is None:
            break
        # Clients follow navigation URIs verbatim.
        body = assert_call_log(http.get(nxt["uri"], headers=account.auth()))
    assert len(pages) == 3
    assert [ids(p) for p in pages] == [["A1", "A2", "A3"], ["A4", "A6", "A7"], ["A5"]]
    expected_paging = [
        {"page": 1, "perPage": 3, "pageStart": 0, "pageEnd": 2},
        {"page": 2, "perPage": 3, "pageStart": 3, "pageEnd": 5},
        {"page": 3, "perPage": 3, "pageStart": 6, "pageEnd": 6},
    ]
    assert [p["paging"] for p in pages] == expected_paging
    assert [sorted(p["navigation"]) for p in pages] == [
        ["firstPage", "nextPage"],
        ["firstPage", "nextPage", "previousPage"],
        ["firstPage", "previousPage"],
    ]
    first = pages[0]
    base = f"{server}{API}/account/{account.account_id}/call-log"
    for n, page in enumerate(pages, start=1):
        assert page["uri"].startswith(base + "?")
        links = {k: v["uri"] for k, v in page["navigation"].items()}
        links["self"] = page["uri"]
        wanted_page = {"self": n, "firstPage": 1, "nextPage": n + 1, "previousPage": n - 1}
        for name, link in links.items():
            assert link.startswith(base + "?"), link
            q = _query_of(link)
            assert q.pop("page") == [str(wanted_page[name])], (name, link)
            # Every other parameter, effective values included, is kept.
            assert q == {k: v for k, v in _query_of(first["uri"]).items() if k != "page"}
    q = _query_of(first["uri"])
    assert q["view"] == ["Detailed"] and q["perPage"] == ["3"]
    assert q["direction"] == ["Inbound,Outbound"] and q["showBlocked"] == ["true"]
    assert set(q) >= {"dateFrom", "dateTo", "page", "perPage", "view"}
    # Newest first across all pages.
    starts = [r["startTime"] for p in pages for r in p["records"]]
    assert starts == sorted(starts, reverse=True)

    # Past the end: no records, no pageStart/pageEnd, no nextPage.
    past = get_log(http, account, COMPANY, f"{query}&page=9")
    assert past["records"] == []
    assert past["paging"] == {"page": 9, "perPage": 3}
    assert sorted(past["navigation"]) == ["firstPage", "previousPage"]
    assert _query_of(past["navigation"]["previousPage"]["uri"])["page"] == ["8"]

    # Exactly one full page: firstPage only.
    single = get_log(http, account, COMPANY, f"{WIDE}&perPage=7")
    assert single["paging"] == {"page": 1, "perPage": 7, "pageStart": 0, "pageEnd": 6}
    assert list(single["navigation"]) == ["firstPage"]
    # An empty result still has paging and firstPage.
    empty = get_log(http, account, COMPANY, f"{WIDE}&type=Fax&direction=Outbound")
    assert empty["records"] == [] and empty["paging"] == {"page": 1, "perPage": 100}
    assert list(empty["navigation"]) == ["firstPage"]


def test_other_parameters_are_echoed_safely(http: httpx.Client, account: TestAccount) -> None:
    body = get_log(http, account, COMPANY, "perPage=1&tag%26x=a%26b%3Dc&phoneNumber=%2B1%20650")
    for uri in (body["uri"], body["navigation"]["firstPage"]["uri"]):
        q = _query_of(uri)
        assert q["tag&x"] == ["a&b=c"] and q["phoneNumber"] == ["+1 650"], uri
        assert "x" not in q and "b" not in q


def test_access_token_is_not_echoed(http: httpx.Client, account: TestAccount) -> None:
    token = account.tokens["101"]
    r = http.get(f"{COMPANY}?access_token={token}&perPage=1")
    body = assert_call_log(r)
    assert token not in r.text and "access_token" not in body["uri"]


# -- §16.1 views and the record's wire form --------------------------------------------------

DETAILED_ONLY = {"legs", "lastModifiedTime", "billing"}


def test_simple_and_detailed_views(http: httpx.Client, account: TestAccount, server: str) -> None:
    seed(http, account)
    acc, ext102 = account.account_id, account.extensions["102"]
    simple = get_log(http, account, MINE, f"{WIDE}&view=Simple", ext="102")
    detailed = get_log(http, account, MINE, f"{WIDE}&view=Detailed", ext="102")
    default = get_log(http, account, MINE, WIDE, ext="102")
    assert default["records"] == simple["records"]
    assert ids(simple) == ids(detailed) == ["A1", "A2", "A5"]
    for s, d in zip(simple["records"], detailed["records"], strict=True):
        assert not DETAILED_ONLY & set(s), s
        assert isinstance(s["id"], str) and isinstance(s["sessionId"], str)
        assert s["durationMs"] == 61_500 and s["duration"] == 62
        assert s["transport"] in ("PSTN", "VoIP") and d["transport"] == s["transport"]
        owner = f"{server}{API}/account/{acc}/extension/{ext102}"
        assert s["uri"] == f"{owner}/call-log/{s['id']}?view=Simple"
        assert d["uri"] == f"{owner}/call-log/{s['id']}?view=Detailed"
        assert "~" not in s["uri"] + d["uri"]
        assert {"legs", "lastModifiedTime"} <= set(d)
        assert d["extension"] == {"id": ext102, "uri": owner}
        assert isinstance(d["extension"]["id"], int)
        # Same call in both views: Simple's fields are all in Detailed with the same values.
        for key, value in s.items():
            if key not in ("uri", "extension"):
                assert d[key] == value, key
    a1 = detailed["records"][0]
    assert a1["billing"] == {"costIncluded": 0.0, "costPurchased": 0.25}
    assert a1["recording"] == {
        "id": "9001",
        "uri": f"{server}{API}/account/{acc}/recording/9001",
        "type": "Automatic",
        "contentUri": f"{server}{API}/account/{acc}/recording/9001/content",
    }
    assert a1["internalType"] == "Local"
    assert a1["legs"] == [
        {
            "type": "Voice",
            "direction": "Inbound",
            "action": "Phone Call",
            "result": "Accepted",
            "startTime": a1["startTime"],
            "duration": 62,
            "durationMs": 61_500,
            "legType": "Accept",
            "master": True,
            "from": {"phoneNumber": "+14155550101"},
            "to": {"phoneNumber": "+16505550100"},
            "extension": {"id": ext102, "uri": f"{server}{API}/account/{acc}/extension/{ext102}"},
        }
    ]
    # The company log carries the account-level record URI.
    company = get_log(http, account, COMPANY, f"{WIDE}&view=Detailed&perPage=1")
    rec = company["records"][0]
    assert rec["uri"] == f"{server}{API}/account/{acc}/call-log/A1?view=Detailed"
    assert company["uri"].startswith(f"{server}{API}/account/{acc}/call-log?")


def test_real_ids_work_like_tilde(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    acc, ext102 = account.account_id, account.extensions["102"]
    pairs = [
        (MINE, f"{API}/account/{acc}/extension/{ext102}/call-log", "102"),
        (MINE, f"{API}/account/~/extension/{ext102}/call-log", "102"),
        (COMPANY, f"{API}/account/{acc}/call-log", "101"),
    ]
    for tilde, real, ext in pairs:
        a = get_log(http, account, tilde, WIDE, ext=ext)
        b = get_log(http, account, real, WIDE, ext=ext)
        assert a["records"] == b["records"] and a["records"]
        assert "~" not in a["uri"] and urlsplit(a["uri"]).path == urlsplit(b["uri"]).path
    # A record's uri can be followed verbatim.
    listed = get_log(http, account, MINE, WIDE, ext="102")["records"][0]
    got = http.get(listed["uri"], headers=account.auth("102"))
    assert got.status_code == 200
    assert assert_record(got.json()) == listed


# -- §5 records by id and in batch -----------------------------------------------------------


def test_get_record_by_id(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    simple = assert_record(http.get(f"{COMPANY}/A1", headers=account.auth()).json())
    assert simple["id"] == "A1" and not DETAILED_ONLY & set(simple)
    assert simple["uri"].endswith(f"/account/{account.account_id}/call-log/A1?view=Simple")
    detailed = http.get(f"{COMPANY}/A1?view=Detailed", headers=account.auth())
    assert detailed.status_code == 200
    d = assert_record(detailed.json())
    assert d["legs"][0]["legType"] == "Accept" and "lastModifiedTime" in d
    assert "X-Rate-Limit-Group" in detailed.headers
    # Old records are reachable by id whatever the list window.
    assert http.get(f"{COMPANY}/A5", headers=account.auth()).status_code == 200
    mine = http.get(f"{MINE}/A2", headers=account.auth("102"))
    assert assert_record(mine.json())["uri"].endswith(
        f"/extension/{account.extensions['102']}/call-log/A2?view=Simple"
    )
    for path, ext in ((f"{COMPANY}/NOPE", "101"), (f"{MINE}/A3", "102"), (f"{MINE}/A6", "102")):
        r = http.get(path, headers=account.auth(ext))
        body = assert_rc_error(r, 404, "CMN-102", parameter="callRecordId")
        assert body["errors"][0]["message"] == "Resource for parameter [callRecordId] is not found"


def test_batch_get(http: httpx.Client, account: TestAccount, server: str) -> None:
    seed(http, account)
    r = http.get(f"{COMPANY}/A2,NOPE,A1?view=Detailed", headers=account.auth())
    assert r.status_code == 207
    assert r.headers["X-Rate-Limit-Group"] == "heavy"
    parts = multipart_parts(r)
    assert [ctype for ctype, _ in parts] == ["application/json"] * 4
    summary = parts[0][1]
    base = f"{server}{API}/account/{account.account_id}/call-log"
    assert summary == {
        "response": [
            {"href": f"{base}/A2", "status": 200, "responseDescription": "OK"},
            {"href": f"{base}/NOPE", "status": 404, "responseDescription": "Not Found"},
            {"href": f"{base}/A1", "status": 200, "responseDescription": "OK"},
        ]
    }
    a2, missing, a1 = (body for _, body in parts[1:])
    assert assert_record(a2)["id"] == "A2" and "legs" in a2
    assert assert_record(a1)["id"] == "A1" and a1["uri"] == f"{base}/A1?view=Detailed"
    assert missing["errors"][0]["errorCode"] == "CMN-102"
    assert_rc({"errors": missing["errors"]}, "ApiErrorResponseModel")
    # The extension log batch: another extension's record is a 404 part.
    r = http.get(f"{MINE}/A1,A3", headers=account.auth("102"))
    statuses = [s["status"] for s in multipart_parts(r)[0][1]["response"]]
    assert r.status_code == 207 and statuses == [200, 404]


def test_batch_limit(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    fifty = ",".join(["A1", *(f"X{n}" for n in range(49))])
    r = http.get(f"{COMPANY}/{fifty}", headers=account.auth())
    assert r.status_code == 207
    parts = multipart_parts(r)
    assert len(parts) == 51 and parts[1][1]["id"] == "A1"
    r = http.get(f"{COMPANY}/{fifty},X99", headers=account.auth())
    body = assert_rc_error(r, 400, "CMN-106", "ParameterizedErrorResponseModel")
    assert body["message"] == "Batch request is limited to 50 entries"


# -- §6 delete -------------------------------------------------------------------------------


def test_delete_extension_log_is_soft(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    cut = quote(rc_stamp(ago(hours=1, minutes=30)))
    r = http.delete(f"{MINE}?dateTo={cut}", headers=account.auth("102"))
    assert r.status_code == 204 and r.content == b""
    assert r.headers["X-Rate-Limit-Group"] == "heavy"
    assert ids(get_log(http, account, MINE, WIDE, ext="102")) == ["A1"]
    shown = get_log(http, account, MINE, f"{WIDE}&showDeleted=TRUE", ext="102")
    assert ids(shown) == ["A1", "A2", "A5"]
    assert [r.get("deleted") for r in shown["records"]] == [None, True, True]
    hidden = get_log(http, account, MINE, f"{WIDE}&showDeleted=false", ext="102")
    assert ids(hidden) == ["A1"]
    # Other extensions' calls are untouched.
    assert ids(get_log(http, account, MINE, WIDE, ext="103")) == ["A3", "A7"]
    # A user may not delete another extension's log; an admin may.
    other = f"{API}/account/~/extension/{account.extensions['103']}/call-log"
    assert_rc_error(http.delete(other, headers=account.auth("102")), 403, "CMN-404")
    assert http.delete(other, headers=account.auth()).status_code == 204
    assert ids(get_log(http, account, MINE, WIDE, ext="103")) == []
    # Without dateTo, everything up to now goes.
    assert http.delete(MINE, headers=account.auth("102")).status_code == 204
    assert ids(get_log(http, account, MINE, WIDE, ext="102")) == []
    r = http.delete(f"{MINE}?dateTo=later", headers=account.auth("102"))
    assert_rc_error(r, 400, "CMN-101", "ParameterizedErrorResponseModel", parameter="dateTo")


# -- permissions, authentication, isolation, rate-limit headers ------------------------------


def test_permissions(http: httpx.Client, account: TestAccount) -> None:
    seed(http, account)
    e = account.extensions
    body = assert_rc_error(http.get(COMPANY, headers=account.auth("102")), 403, "CMN-408")
    assert body["errorCode"] == "InsufficientPermissions"
    assert body["errors"][0]["permissionName"] == "FullCompanyCallLog"
    assert_rc_error(http.get(f"{COMPANY}/A1", headers=account.auth("102")), 403, "CMN-408")
    for path in (
        f"{API}/account/~/extension/{e['103']}/call-log",
        f"{API}/account/{account.account_id}/extension/{e['101']}/call-log",
        f"{API}/account/~/extension/{e['103']}/call-log/A3",
    ):
        body = assert_rc_error(http.get(path, headers=account.auth("102")), 403, "CMN-404")
        assert body["errorCode"] == "InsufficientPermissions"
    # The admin may read any extension's log of the account.
    admin_view = get_log(http, account, f"{API}/account/~/extension/{e['102']}/call-log", WIDE)
    assert ids(admin_view) == ["A1", "A2", "A5"]
    r = http.get(f"{API}/account/~/extension/{e['103']}/call-log/A3", headers=account.auth())
    assert assert_record(r.json())["id"] == "A3"
    for path in (
        f"{API}/account/~/extension/not-a-number/call-log",
        f"{API}/account/~/extension/123/call-log",
        f"{API}/account/~/extension/%C2%B2/call-log",
        f"{API}/account/~/extension/99999999999999999999999/call-log",
        f"{API}/account/99999999999999999999999/call-log",
        f"{API}/account/~/call-log/A%00",
        f"{API}/account/~/extension/~/call-log/%00",
    ):
        r = http.get(path, headers=account.auth())
        assert_rc_error(r, 404, "CMN-102")
    r = http.get(f"{COMPANY}/A1,A%00", headers=account.auth())
    assert [s["status"] for s in multipart_parts(r)[0][1]["response"]] == [200, 404]


def test_app_permission_is_checked(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    app = services.accounts.create_app(account.account_id, "narrow", scopes=("ReadAccounts",))
    r = http.post(
        "/restapi/oauth/token",
        auth=(app.client_id, app.client_secret or ""),
        data={
            "grant_type": "password",
            "username": f"{account.main_number}*101",
            "password": "test-password-1",
        },
    )
    token = r.json()["access_token"]
    r = http.get(COMPANY, headers={"Authorization": f"Bearer {token}"})
    body = assert_rc_error(r, 403, "CMN-401")
    assert body["errors"][0]["permissionName"] == "ReadCallLog"
    r = http.delete(MINE, headers={"Authorization": f"Bearer {token}"})
    assert assert_rc_error(r, 403, "CMN-401")["permissionName"] == "EditCallLog"


def test_authentication(http: httpx.Client, account: TestAccount) -> None:
    token = account.tokens["101"]
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"bearer {token}"},
        {"Authorization": f"BEARER {token}"},
        {"authorization": f"Bearer   {token}"},
    ):
        assert_call_log(http.get(COMPANY, headers=headers))
    assert_call_log(http.get(f"{COMPANY}?access_token={token}"))
    assert_call_log(http.get(f"{MINE}?access_token={quote(token)}"))
    for headers, url in (
        ({}, COMPANY),
        ({}, f"{MINE}/A1"),
        ({"Authorization": "Bearer garbage"}, COMPANY),
        ({"Authorization": "Bearer"}, COMPANY),
        ({"Authorization": f"Basic {token}"}, COMPANY),
        ({"Authorization": token}, COMPANY),
        ({}, f"{COMPANY}?access_token=garbage"),
        ({}, f"{COMPANY}?access_token="),
    ):
        r = http.get(url, headers=headers)
        assert r.status_code == 401, (headers, url, r.text)
        body = r.json()
        assert_rc({"errors": body["errors"]}, "ApiErrorResponseModel")
        assert body["errors"][0]["errorCode"] in ("OAU-213", "AGW-402", "CMN-405")
        assert "X-Rate-Limit-Group" not in r.headers
    r = http.delete(MINE, headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401


def test_rate_limit_headers(http: httpx.Client, account: TestAccount) -> None:
    seen = []
    for path, ext in ((COMPANY, "101"), (MINE, "101"), (f"{COMPANY}/nope", "101")):
        r = http.get(path, headers=account.auth(ext))
        assert r.headers["X-Rate-Limit-Group"] == "heavy", (path, r.headers)
        assert int(r.headers["X-Rate-Limit-Limit"]) >= 10
        assert r.headers["X-Rate-Limit-Window"] == "60"
        seen.append(int(r.headers["X-Rate-Limit-Remaining"]))
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 3
    # Refusals after authentication carry the headers too.
    for path, status in ((COMPANY, 403), (f"{COMPANY}?view=Full", 400)):
        ext = "102" if status == 403 else "101"
        r = http.get(path, headers=account.auth(ext))
        assert r.status_code == status and r.headers["X-Rate-Limit-Group"] == "heavy"


def test_accounts_are_isolated(
    http: httpx.Client, services: Services, account: TestAccount, server: str
) -> None:
    other = make_account(services, http)
    mine = rc_record("SHARED", extension_id=account.extensions["102"], start=ago(hours=1))
    theirs = rc_record(
        "SHARED", extension_id=other.extensions["102"], start=ago(hours=2), direction="Outbound"
    )
    ingest(http, account, [mine, rc_record("ONLY-A", start=ago(hours=3))])
    ingest(http, other, [theirs])
    a = get_log(http, account, COMPANY)
    b = get_log(http, other, COMPANY)
    assert ids(a) == ["SHARED", "ONLY-A"] and ids(b) == ["SHARED"]
    assert a["records"][0]["direction"] == "Inbound" and b["records"][0]["direction"] == "Outbound"
    assert f"/account/{other.account_id}/" in b["records"][0]["uri"]
    got = http.get(f"{COMPANY}/SHARED,ONLY-A", headers=other.auth())
    statuses = [s["status"] for s in multipart_parts(got)[0][1]["response"]]
    assert statuses == [200, 404]
    # Another account's ids are invisible, with its own id in the path or with ours.
    for path in (
        f"{API}/account/{other.account_id}/call-log",
        f"{API}/account/{other.account_id}/call-log/SHARED",
        f"{API}/account/{other.account_id}/extension/{other.extensions['102']}/call-log",
        f"{API}/account/~/extension/{other.extensions['102']}/call-log",
        f"{API}/account/~/extension/{other.extensions['102']}/call-log/SHARED",
    ):
        assert_rc_error(http.get(path, headers=account.auth()), 404, "CMN-102")
    r = http.delete(
        f"{API}/account/~/extension/{other.extensions['102']}/call-log", headers=account.auth()
    )
    assert_rc_error(r, 404, "CMN-102")
    assert ids(get_log(http, other, MINE, ext="102")) == ["SHARED"]
    # A user of the other account, asking with its own token, sees only its own log.
    assert ids(get_log(http, other, MINE, ext="102")) == ["SHARED"]
    assert ids(get_log(http, other, MINE, ext="103")) == []

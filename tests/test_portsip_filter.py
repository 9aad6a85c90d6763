"""PortSIP's filter grammar: what parses to what, what each filter selects in SQL (both
backends), and every malformed input answered with 400, the position and the reason."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from callvault.api.portsip.filter import FilterError, parse_filter, parse_orderby
from callvault.domain.target_query import (
    AllOf,
    AnyOf,
    Compare,
    Match,
    Negation,
    OneOf,
    Op,
    SortKey,
    TargetField,
    TextMatch,
)
from callvault.services.container import Services
from tests.portsip_support import Tenant, assert_error, load_fixture_calls, make_tenant

F = TargetField


def test_and_binds_tighter_than_or() -> None:
    got = parse_filter("caller eq '1' or callee eq '2' and trunk eq 't'")
    assert got == AnyOf(
        (
            Compare(F.CALLER, Op.EQ, "1"),
            AllOf((Compare(F.CALLEE, Op.EQ, "2"), Compare(F.TRUNK, Op.EQ, "t"))),
        )
    )


def test_parentheses_not_and_keywords_in_any_case() -> None:
    got = parse_filter("NOT (caller EQ '1' Or callee eq '2') and duration GE 10")
    assert got == AllOf(
        (
            Negation(AnyOf((Compare(F.CALLER, Op.EQ, "1"), Compare(F.CALLEE, Op.EQ, "2")))),
            Compare(F.TALK_SECONDS, Op.GE, 10),
        )
    )


def test_literals() -> None:
    assert parse_filter("caller_display_name eq 'O''Brien'") == Compare(
        F.CALLER_NAME, Op.EQ, "O'Brien"
    )
    assert parse_filter("caller eq 101") == Compare(F.CALLER, Op.EQ, "101")
    assert parse_filter("status_code eq '486'") == Compare(F.STATUS_CODE, Op.EQ, 486)
    assert parse_filter("cost lt 0.5") == Compare(F.COST, Op.LT, 0.5)
    assert parse_filter("answered_at eq null") == Compare(F.ANSWERED, Op.EQ, None)
    assert parse_filter("answered_at ne ''") == Compare(F.ANSWERED, Op.NE, None)
    assert parse_filter("trunk eq null") == Compare(F.TRUNK, Op.EQ, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-01T00:00:00Z", datetime(2022, 1, 1, tzinfo=UTC)),
        ("2022-01-01T02:00:00+02:00", datetime(2022, 1, 1, tzinfo=UTC)),
        # A "+" a form-encoded URL turned into a space.
        ("2022-01-01T02:00:00 02:00", datetime(2022, 1, 1, tzinfo=UTC)),
        ("2022-01-01T00:00:00.250Z", datetime(2022, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)),
        ("2022-01-01", datetime(2022, 1, 1, tzinfo=UTC)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_filter(f"started_at gt '{text}'") == Compare(F.STARTED, Op.GT, expected)


def test_functions() -> None:
    assert parse_filter("startswith(caller,'10')") == TextMatch(F.CALLER, Match.STARTS, "10")
    assert parse_filter("EndsWith( callee , '3' )") == TextMatch(F.CALLEE, Match.ENDS, "3")
    assert parse_filter("contains(trunk,'east') eq false") == Negation(
        TextMatch(F.TRUNK, Match.CONTAINS, "east")
    )


def test_choices_take_every_spelling() -> None:
    inbound = OneOf(F.DIRECTION, ("inbound",))
    assert parse_filter("direction eq 'INBOUND_CALL'") == inbound
    assert parse_filter("direction eq 'in'") == inbound
    assert parse_filter("direction eq 'inbound'") == inbound
    assert parse_filter("end_reason eq 'caller_disconnect'") == OneOf(
        F.END_REASON, ("caller_hung_up",)
    )
    assert parse_filter("end_reason eq 'attended_transfer_complete'") == OneOf(
        F.END_REASON, ("attended_transfer",)
    )
    assert parse_filter("end_reason eq ''") == OneOf(F.END_REASON, ("",))
    assert parse_filter("reroute_reason ne 'None'") == Negation(OneOf(F.REROUTED_BY, ("",)))
    assert parse_filter("startswith(direction,'INBOUND')") == OneOf(
        F.DIRECTION, ("inbound", "inbound_outbound")
    )


def test_orderby() -> None:
    assert parse_orderby("caller asc, started_at desc") == (
        SortKey(F.CALLER),
        SortKey(F.STARTED, descending=True),
    )
    assert parse_orderby("duration") == (SortKey(F.TALK_SECONDS),)


NESTED = "(" * 40 + "caller eq '1'" + ")" * 40
MANY = " or ".join(["caller eq '1'"] * 101)

MALFORMED = [
    ("caller eq", 10, "expected a value"),
    ("caller eq '101", 11, "not closed"),
    ("caller equals '101'", 8, "expected an operator"),
    ("calller eq '101'", 1, "unknown field 'calller'"),
    ("(caller eq '101'", 17, "')' to close"),
    ("caller eq '101')", 16, "expected 'and', 'or' or the end"),
    ("caller eq '101' and", 20, "expected a field name"),
    ("caller eq '1' caller eq '2'", 15, "expected 'and', 'or' or the end"),
    ("startswith(caller '10')", 19, "expected ','"),
    ("contains(caller)", 16, "expected ','"),
    ("startswith(started_at,'2024')", 12, "text functions need text"),
    ("startswith(caller,'1') eq maybe", 27, "expected true or false"),
    ("started_at gt 'yesterday'", 15, "not an RFC 3339 time"),
    ("started_at eq 1700000000", 15, "quote it"),
    ("status_code eq 'abc'", 16, "is a number"),
    ("status_code eq 4.5", 16, "whole number"),
    ("direction eq 'SIDEWAYS'", 14, "is not a value of direction"),
    ('caller eq "101"', 11, "single quotes"),
    ("caller eq '101' && callee eq '102'", 17, "unexpected character '&'"),
    ("caller eq true", 11, "not true or false"),
    ("answered_at gt null", 16, "only be tested for null"),
    ("not", 4, "expected a field name"),
    ("eq '101'", 1, "unknown field 'eq'"),
    ("'101' eq caller", 1, "expected a field name"),
    (NESTED, 33, "nests deeper"),
    (MANY, 1701, "more than 100 tests"),
]


@pytest.mark.parametrize(("text", "position", "reason"), MALFORMED)
def test_malformed_filter(text: str, position: int, reason: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert (info.value.position, reason in info.value.reason) == (position, True), info.value


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("caller sideways", 8, "expected asc or desc"),
        ("caller asc desc", 12, "expected ','"),
        ("caller, bogus desc", 9, "unknown field 'bogus'"),
        ("caller,", 8, "expected a field name"),
    ],
)
def test_malformed_orderby(text: str, position: int, reason: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_orderby(text)
    assert (info.value.position, reason in info.value.reason) == (position, True), info.value


# -- over HTTP, in SQL, on both backends ---------------------------------------------------------


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    t = make_tenant(services, http)
    load_fixture_calls(services, t.acc)
    return t


def test_malformed_filters_answer_400_with_position(http: httpx.Client, tenant: Tenant) -> None:
    for text, position, reason in MALFORMED:
        for key in ("filter", "$filter"):
            r = http.get("/api/cdrs", params={key: text}, headers=tenant.auth())
            body = assert_error(r, 400, "VALIDATE_FAILED")
            detail = body["errors"][0]["detail"]
            assert detail["parameter"] == "filter" and detail["position"] == position, body
            assert reason in detail["reason"], body
            assert f"position {position}" in body["errors"][0]["message"]
    r = http.get("/api/calllogs", params={"orderby": "caller sideways"}, headers=tenant.auth())
    detail = assert_error(r, 400, "VALIDATE_FAILED")["errors"][0]["detail"]
    assert detail == {"parameter": "orderby", "position": 8, "reason": detail["reason"]}


SELECTS = [
    ("caller eq '101'", {("101", "102")}),
    (
        "caller ne '14155550142' and startswith(caller,'14')",
        {("14155550177", "101"), ("14155550177", "103"), ("14155550188", "16505550999")},
    ),
    ("callee gt '8000'", set()),
    ("callee ge '8000'", {("14155550142", "8000")}),
    ("callee lt '102' and callee ge '101'", {("14155550177", "101")}),
    (
        "callee le '102' and callee ge '101'",
        {("14155550177", "101"), ("14155550142", "102"), ("101", "102")},
    ),
    (
        "endswith(callee,'02')",
        {("14155550142", "102"), ("101", "102"), ("+14155550123", "+16505550102")},
    ),
    (
        "contains(caller_display_name,'osa')",
        {
            ("14155550142", "5000"),
            ("14155550142", "8000"),
            ("14155550142", "102"),
            ("14155550142", "103"),
        },
    ),
    # Text tests are case-sensitive, as OData's are.
    ("contains(caller_display_name,'ROSA')", set()),
    (
        "started_at ge '2026-03-03' and started_at lt '2026-03-03T15:00:00Z'",
        {("14155550177", "101"), ("14155550177", "103")},
    ),
    (
        "answered_at eq '' and direction eq 'INBOUND_CALL'",
        {("14155550142", "102"), ("+14155550123", "+16505550102")},
    ),
    ("not (answered_at ne null) and direction ne 'in'", {("102", "14155550199")}),
    ("rang_at gt '2026-03-03T16:00:00Z'", {("14155550188", "16505550999")}),
    ("not (rang_at gt '2026-03-01T00:00:00Z')", {("+14155550123", "+16505550102")}),
    ("status_code eq 486 or duration gt '100'", {("102", "14155550199"), ("14155550177", "103")}),
    ("cost gt 0.2", {("14155550177", "103")}),
    ("end_reason eq 'referred'", {("14155550142", "5000"), ("14155550142", "8000")}),
    ("end_reason eq 'CONSULT_TRANSFER_COMPLETED'", set()),
    ("reroute_reason ne '' and direction ne 'INBOUND_OUTBOUND_CALL'", {("14155550177", "103")}),
    ("startswith(reroute_reason,'FORWARDING')", {("14155550188", "16505550999")}),
    ("direction eq 'ext' or direction eq 'out'", {("101", "102"), ("102", "14155550199")}),
    (
        "service_number eq '8000' and callee_domain eq 'acme.example'",
        {("14155550142", "102"), ("14155550142", "103")},
    ),
    (
        "did_cid eq '16505550103' or user_data eq 'crm=4411'",
        {("14155550188", "16505550999"), ("14155550177", "101"), ("14155550177", "103")},
    ),
    ("caller_display_name eq 'O''Brien'", set()),
    ("contains(destination,':5062')", {("14155550142", "102"), ("101", "102")}),
    ("outbound_caller_id eq '16505550102' and trunk eq 'sbc-east'", {("102", "14155550199")}),
    ("call_id eq 'Zp0dQ4mN7sWc2Rk1Hx9aLg..'", {("101", "102")}),
    (
        "billed_account ne '' or ended_at lt '2026-03-02T09:00:15Z'",
        {("14155550177", "103"), ("14155550142", "5000")},
    ),
]


@pytest.mark.parametrize(("text", "expected"), SELECTS)
def test_filter_selects(
    http: httpx.Client, tenant: Tenant, text: str, expected: set[tuple[str, str]]
) -> None:
    r = http.get("/api/cdrs", params={"filter": text}, headers=tenant.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    assert {(i["caller"], i["callee"]) for i in body["items"]} == expected
    assert body["count"] == len(expected)


def test_filter_by_id_and_session(http: httpx.Client, tenant: Tenant) -> None:
    first = http.get("/api/calllogs", params={"top": "1"}, headers=tenant.auth()).json()["items"][0]
    for text in (
        f"id eq '{first['id']}'",
        f"session_id eq '{first['session_id']}' and id eq '{first['id']}'",
    ):
        items = http.get("/api/calllogs", params={"filter": text}, headers=tenant.auth()).json()
        assert [i["id"] for i in items["items"]] == [first["id"]]


def test_orderby_over_http(http: httpx.Client, tenant: Tenant) -> None:
    params = {"orderby": "caller asc, started_at desc", "filter": "startswith(caller,'14')"}
    items = http.get("/api/cdrs", params=params, headers=tenant.auth()).json()["items"]
    keys = [(i["caller"], i["started_at"]) for i in items]
    assert keys == sorted(keys, key=lambda k: (k[0], [-ord(c) for c in k[1]]))
    # Unknown answer times sort first ascending, last descending, on both backends.
    asc = http.get("/api/cdrs", params={"orderby": "answered_at"}, headers=tenant.auth()).json()
    assert asc["items"][0]["answered_at"] == "" and asc["items"][-1]["answered_at"] != ""
    desc = http.get("/api/cdrs", params={"orderby": "answered_at desc"}, headers=tenant.auth())
    assert desc.json()["items"][-1]["answered_at"] == ""

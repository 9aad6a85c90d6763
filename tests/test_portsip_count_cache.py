"""The PortSIP list total (``count``) is kept per query and reused until the account's change
state moves: a repeated list issues no COUNT, and every kind of write (ingest, an update
that moves a target in or out of a filter, a soft delete, a purge) makes the next list count
again. Statements are watched with SQLAlchemy's ``before_cursor_execute`` event."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from callvault.api.portsip.auth import targets_of
from callvault.domain.target_query import Compare, Op, SortKey, TargetField, TargetQuery
from callvault.importers.portsip_json import records_from
from callvault.services.container import Services
from callvault.services.targets import TargetService, TotalCache
from callvault.storage.calls import CallStore
from callvault.storage.changes import ChangeState, change_state
from callvault.storage.target_reads import total_key
from tests.helpers import SqlLog, watching_sql
from tests.portsip_support import CDR_BASE, Tenant, call_cdr, make_tenant, store_cdrs

BASE = CDR_BASE
ANSWERED = "answered_at ne ''"
UNANSWERED = "answered_at eq ''"


@pytest.fixture
def sql(services: Services) -> Iterator[SqlLog]:
    with watching_sql(services.db.engine) as log:
        yield log


def _take(sql: SqlLog) -> tuple[int, int]:
    """(COUNTs over call_targets, change-state reads) since the last take."""
    counts = sql.containing("count(*)", "from call_targets")
    states = sql.containing("from call_log_sync_state")
    sql.seen.clear()
    return counts, states


def _calls(services: Services, tenant: Tenant, answered: int, unanswered: int) -> None:
    """``answered`` answered calls to 102 (sessions A0…) and ``unanswered`` missed calls to
    103 (sessions M0…), a minute apart."""
    bodies = [call_cdr(f"A{i}", start=BASE + 60 * i) for i in range(answered)]
    bodies += [
        call_cdr(f"M{i}", start=BASE + 3600 + 60 * i, callee="103", answered=False)
        for i in range(unanswered)
    ]
    store_cdrs(services, tenant, *bodies)


@pytest.fixture
def tenant(services: Services, http: httpx.Client) -> Tenant:
    """Company view: 9 targets, 6 answered (102's own) and 3 not (103's own)."""
    t = make_tenant(services, http)
    _calls(services, t, answered=6, unanswered=3)
    return t


def _count(
    http: httpx.Client, tenant: Tenant, path: str = "/api/cdrs", ext: str = "101", **params: Any
) -> int:
    """The list's ``count``; ``top`` is 2 unless given, so the page is full and the total
    has to come from a COUNT or the cache (a page that is not full tells it by itself)."""
    params.setdefault("top", "2")
    r = http.get(path, params=params, headers=tenant.auth(ext))
    assert r.status_code == 200, r.text
    total: int = r.json()["count"]
    return total


def test_a_repeated_list_is_counted_once(http: httpx.Client, tenant: Tenant, sql: SqlLog) -> None:
    assert _count(http, tenant) == 9
    assert _take(sql) == (1, 1)
    assert _count(http, tenant) == 9
    assert _take(sql) == (0, 1)  # the state is read, the COUNT is not run
    # Window and order are not part of the key: they do not change the total.
    assert _count(http, tenant, top="3", skip="4", orderby="caller asc, started_at desc") == 9
    assert _count(http, tenant, top="1", orderby="duration desc") == 9
    assert _count(http, tenant, skip="50") == 9  # an empty page past the end
    assert _count(http, tenant, **{"$orderby": "callee desc", "$count": "true"}) == 9
    assert _take(sql) == (0, 4)
    # /api/calllogs is the same view: the same total.
    assert _count(http, tenant, "/api/calllogs") == 9
    assert _take(sql) == (0, 1)


def test_a_page_that_tells_its_total_reads_no_state(
    http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    assert _count(http, tenant, top="100") == 9
    assert _count(http, tenant, skip="8") == 9  # one item after 8: the total is 9
    assert _take(sql) == (0, 0)


def test_filters_scopes_and_accounts_do_not_share_totals(
    services: Services, http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    other = make_tenant(services, http)
    _calls(services, other, answered=2, unanswered=2)
    _take(sql)
    expected = [
        ({}, 9),
        ({"filter": ANSWERED}, 6),
        ({"filter": UNANSWERED}, 3),
        ({"filter": ANSWERED, "search": "103"}, 0),
        ({"search": "103"}, 3),
        ({"path": "/api/user/cdrs", "ext": "102"}, 6),
        ({"path": "/api/user/cdrs", "ext": "103"}, 3),
        ({"path": "/api/user/cdrs", "ext": "103", "filter": UNANSWERED}, 3),
        ({"path": "/api/user/cdrs", "ext": "103", "filter": ANSWERED}, 0),
    ]
    for params, total in expected:
        assert _count(http, tenant, skip="50", **params) == total, params
        assert _take(sql)[0] == 1, params  # counted: no other query's total was used
    for params, total in expected:  # and now each has its own
        assert _count(http, tenant, skip="50", **params) == total, params
        assert _take(sql)[0] == 0, params
    assert _count(http, other, skip="50") == 4
    assert _count(http, other, skip="50", filter=ANSWERED) == 2
    assert _count(http, other, "/api/user/cdrs", ext="102", skip="50") == 2
    assert _take(sql)[0] == 3


def test_the_total_follows_an_ingest(
    services: Services, http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    assert _count(http, tenant, filter=ANSWERED) == 6
    assert _count(http, tenant, filter=ANSWERED) == 6
    assert _take(sql)[0] == 1
    store_cdrs(services, tenant, call_cdr("NEW", start=BASE + 7200))
    _take(sql)
    assert _count(http, tenant, filter=ANSWERED) == 7
    assert _count(http, tenant, filter=ANSWERED) == 7
    assert _take(sql)[0] == 1
    # Sending the same call again writes nothing: the state stays and so does the total.
    resolve = services.accounts.resolver(tenant.acc.account_id)
    again = records_from(call_cdr("NEW", start=BASE + 7200), resolve) or []
    assert services.ingest.ingest(tenant.acc.account_id, again).unchanged == 1
    _take(sql)
    assert _count(http, tenant, filter=ANSWERED) == 7
    assert _take(sql)[0] == 0


def test_the_total_follows_an_update_that_moves_a_target_out_and_back(
    services: Services, http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    assert (_count(http, tenant, filter=ANSWERED), _count(http, tenant, filter=UNANSWERED)) == (
        6,
        3,
    )
    store_cdrs(services, tenant, call_cdr("A0", start=BASE, answered=False))  # A0 leaves "answered"
    _take(sql)
    assert (_count(http, tenant, filter=ANSWERED), _count(http, tenant, filter=UNANSWERED)) == (
        5,
        4,
    )
    assert _count(http, tenant) == 9
    assert _take(sql)[0] == 3
    store_cdrs(services, tenant, call_cdr("A0", start=BASE))  # and comes back
    assert (_count(http, tenant, filter=ANSWERED), _count(http, tenant, filter=UNANSWERED)) == (
        6,
        3,
    )


def test_the_total_follows_a_soft_delete(
    services: Services, http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    assert _count(http, tenant) == 9
    assert _count(http, tenant, "/api/user/cdrs", ext="102") == 6
    assert _count(http, tenant, "/api/user/cdrs", ext="103") == 3
    _take(sql)
    ext = tenant.acc.extensions["102"]
    deleted = services.calls.delete_before(
        tenant.acc.account_id, ext, datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert deleted == 6
    assert _count(http, tenant) == 3
    assert _count(http, tenant, "/api/user/cdrs", ext="102", skip="50") == 0
    # 103's own view did not change, but the account did: counted again, still right.
    assert _count(http, tenant, "/api/user/cdrs", ext="103") == 3
    assert _take(sql)[0] == 3


def test_the_total_follows_a_purge(
    services: Services, http: httpx.Client, tenant: Tenant, sql: SqlLog
) -> None:
    account_id = tenant.acc.account_id
    assert _count(http, tenant) == 9
    with services.db.read() as conn:
        before = change_state(conn, account_id)
    with services.db.write() as conn:
        CallStore.purge_account(conn, account_id)
    with services.db.read() as conn:
        after = change_state(conn, account_id)
    # A reset moves only the epoch; that alone must retire the total.
    assert after == ChangeState(before.change_seq, before.log_epoch + 1)
    _take(sql)
    assert _count(http, tenant, skip="50") == 0
    assert _take(sql)[0] == 1
    _calls(services, tenant, answered=3, unanswered=0)
    assert _count(http, tenant) == 3


class _WriteWhileCounting(TotalCache):
    """Commits ``write`` between a reader's state read and its COUNT, once: the COUNT then
    sees a write newer than the state the total is kept under."""

    def __init__(self, write: Any) -> None:
        super().__init__()
        self.write = write

    def get(self, key: Hashable, state: ChangeState) -> int | None:
        write, self.write = self.write, None
        if write is not None:
            write()
        return super().get(key, state)


def test_a_total_counted_across_a_write_is_not_served_after_it(
    services: Services, tenant: Tenant, sql: SqlLog
) -> None:
    account_id = tenant.acc.account_id
    with services.db.read() as conn:
        before = change_state(conn, account_id)
    cache = _WriteWhileCounting(
        lambda: store_cdrs(services, tenant, call_cdr("LATE", start=BASE + 9000, callee="103"))
    )
    targets = TargetService(services.db, services.oauth.secret_key, totals=cache)
    query = TargetQuery(account_id=account_id, limit=2)
    _, total = targets.list(query)
    # Both backends read each statement from a fresh snapshot: the COUNT saw the late call.
    assert total == 10
    with services.db.read() as conn:
        after = change_state(conn, account_id)
    assert after.change_seq > before.change_seq
    key = total_key(query)
    assert cache.get(key, before) == 10  # kept under the state read before the COUNT …
    assert cache.get(key, after) is None  # … so a reader at the new state does not use it
    _take(sql)
    assert targets.list(query)[1] == 10
    assert _take(sql)[0] == 1
    assert targets.list(query)[1] == 10
    assert _take(sql)[0] == 0


def test_every_request_uses_the_process_wide_service(app: FastAPI) -> None:
    # The totals are kept by the one TargetService of the process, which the face hands out.
    request = Request({"type": "http", "app": app})
    assert targets_of(request) is targets_of(request) is app.state.services.targets
    own = TotalCache()
    services = app.state.services
    assert TargetService(services.db, services.oauth.secret_key, totals=own).totals is own


def test_the_key_leaves_out_order_and_window_but_not_value_types() -> None:
    where = Compare(TargetField.STATUS_CODE, Op.EQ, 1)
    q = TargetQuery(account_id=1, where=where)
    paged = TargetQuery(
        account_id=1, where=where, order=(SortKey(TargetField.CALLER),), offset=40, limit=20
    )
    assert total_key(q) == total_key(paged)
    for other in (
        TargetQuery(account_id=2, where=where),
        TargetQuery(account_id=1, extension_id=7, where=where),
        TargetQuery(account_id=1),
        TargetQuery(account_id=1, where=where, search=(("x",),)),
        TargetQuery(account_id=1, where=Compare(TargetField.STATUS_CODE, Op.EQ, 1.0)),
        TargetQuery(account_id=1, where=Compare(TargetField.STATUS_CODE, Op.EQ, True)),
    ):
        assert total_key(other) != total_key(q), other


def test_the_cache_keeps_the_newest_state_and_the_recently_used() -> None:
    s1, s2, reset = ChangeState(1, 0), ChangeState(2, 0), ChangeState(2, 1)
    cache = TotalCache(size=2)
    cache.put("a", s2, 20)
    cache.put("a", s1, 10)  # a slow reader's older count does not replace the newer
    assert cache.get("a", s2) == 20 and cache.get("a", s1) is None
    cache.put("a", reset, 0)
    assert cache.get("a", s2) is None and cache.get("a", reset) == 0
    cache.put("b", s1, 1)
    assert cache.get("a", reset) == 0  # "a" is now the most recently used
    cache.put("c", s1, 2)
    assert len(cache) == 2
    assert cache.get("b", s1) is None  # the least recently used went
    assert (cache.get("a", reset), cache.get("c", s1)) == (0, 2)
    assert (cache.hits, cache.misses) == (5, 3)
    cache.clear()
    assert len(cache) == 0 and cache.get("a", reset) is None

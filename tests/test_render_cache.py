"""Rendered items are reused only while nothing they depend on changed (for a call-log record:
the stored version, the view, whose log lists it and the base URLs); the cache keeps to its
byte budget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from callvault.api.rendered import RenderedItems
from callvault.api.ringcentral.mapping import Uris, record_to_wire
from callvault.api.ringcentral.rendering import render_record
from callvault.domain.calls import CallRecord, Party
from callvault.domain.enums import Action, CallType, Direction, Result
from callvault.domain.query import StoredRecord
from tests.builders import TestAccount, rc_record
from tests.helpers import ago, assert_call_log, ingest

URIS = Uris("http://a.example", "http://media.example", 7)
LOG = "/restapi/v1.0/account/~/call-log"


def _record(record_id: str = "R1", result: Result = Result.ACCEPTED) -> CallRecord:
    return CallRecord(
        id=record_id,
        session_id="1001",
        type=CallType.VOICE,
        direction=Direction.INBOUND,
        action=Action.PHONE_CALL,
        start_time=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        duration_ms=42_000,
        result=result,
        from_party=Party(phone_number="+14155550101"),
        extension_id=101,
    )


class Loads:
    """A ``StoredRecord.load`` that counts how often the record was decoded."""

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        self.calls = 0

    def __call__(self) -> CallRecord:
        self.calls += 1
        return self.record


def _stored(loads: Loads, version: Any = ("h1", False, 1)) -> StoredRecord:
    return StoredRecord(loads.record.id, version, loads)


def _render(cache: RenderedItems, stored: StoredRecord, **kw: Any) -> Any:
    args: dict[str, Any] = {"uris": URIS, "view": "Simple", "log_extension_id": None} | kw
    return orjson.loads(orjson.dumps(render_record(cache, stored, **args)))


def test_a_rendered_record_is_reused_and_equals_a_fresh_rendering() -> None:
    cache = RenderedItems(1 << 20)
    loads = Loads(_record())
    first = _render(cache, _stored(loads), view="Detailed")
    again = _render(cache, _stored(loads), view="Detailed")
    assert loads.calls == 1
    assert (cache.hits, cache.misses) == (1, 1)
    fresh = record_to_wire(_record(), URIS, view="Detailed", log_extension_id=None)
    assert first == again == fresh


@pytest.mark.parametrize(
    "change",
    [
        {"version": ("h2", False, 1)},  # content changed
        {"version": ("h1", True, 2)},  # deleted
        {"version": ("h1", False, 2)},  # modified again
        {"view": "Detailed"},
        {"log_extension_id": 101},  # listed in the extension's log: another uri
        {"uris": Uris("http://b.example", "http://media.example", 7)},
        {"uris": Uris("http://a.example", "http://other-media.example", 7)},
        {"uris": Uris("http://a.example", "http://media.example", 8)},
    ],
)
def test_anything_the_rendering_depends_on_misses(change: dict[str, Any]) -> None:
    cache = RenderedItems(1 << 20)
    loads = Loads(_record())
    _render(cache, _stored(loads))
    version = change.pop("version", ("h1", False, 1))
    _render(cache, _stored(loads, version), **change)
    assert loads.calls == 2


def test_least_recently_used_go_first_when_the_budget_is_spent() -> None:
    probe = RenderedItems(1 << 20)
    _render(probe, _stored(Loads(_record("R0"))))
    one = probe.size_bytes  # what one entry counts: its JSON, its key and the overhead
    assert one > len(
        orjson.dumps(record_to_wire(_record("R0"), URIS, view="Simple", log_extension_id=None))
    )
    cache = RenderedItems(3 * one + one // 2)  # room for three entries, not four
    loads = {rid: Loads(_record(rid)) for rid in ("R1", "R2", "R3", "R4")}
    for rid in ("R1", "R2", "R3"):
        _render(cache, _stored(loads[rid]))
    _render(cache, _stored(loads["R1"]))  # R1 used again: R2 is now the oldest
    _render(cache, _stored(loads["R4"]))
    assert len(cache) == 3
    assert cache.size_bytes <= cache.max_bytes
    for rid in ("R1", "R3", "R4"):
        _render(cache, _stored(loads[rid]))
    assert [loads[r].calls for r in ("R1", "R3", "R4")] == [1, 1, 1]
    _render(cache, _stored(loads["R2"]))
    assert loads["R2"].calls == 2


def test_a_zero_budget_keeps_nothing() -> None:
    cache = RenderedItems(0)
    loads = Loads(_record())
    for _ in range(3):
        assert _render(cache, _stored(loads))["id"] == "R1"
    assert loads.calls == 3
    assert len(cache) == 0


# -- through the list endpoint ---------------------------------------------------------------


def _list(client: httpx.Client, acc: TestAccount, query: str = "") -> dict[str, Any]:
    return assert_call_log(client.get(f"{LOG}?view=Detailed{query}", headers=acc.auth()))


def test_the_list_shows_each_change_of_a_cached_record(
    app: FastAPI, http: httpx.Client, account: TestAccount
) -> None:
    client = http
    cache: RenderedItems = app.state.rendered_items
    ext = account.extensions["101"]
    start = ago(hours=1)
    c1, c2 = rc_record("C1", extension_id=ext, start=start), rc_record("C2", extension_id=ext)
    ingest(client, account, [c1, c2])
    first = _list(client, account)
    misses = cache.misses
    assert _list(client, account)["records"] == first["records"]
    assert cache.misses == misses, "an unchanged page must come from the cache"

    # The phone system corrects C1: the list shows the new result and modification time.
    ingest(client, account, [rc_record("C1", extension_id=ext, start=start, result="Missed")])
    changed = _list(client, account)
    c1 = next(r for r in changed["records"] if r["id"] == "C1")
    was = next(r for r in first["records"] if r["id"] == "C1")
    assert c1["result"] == "Missed"
    assert c1["lastModifiedTime"] >= was["lastModifiedTime"]
    assert [r for r in changed["records"] if r["id"] == "C2"] == [
        r for r in first["records"] if r["id"] == "C2"
    ]

    # Deleted from the owner's log: shown as deleted where deleted records are asked for.
    r = client.delete(f"/restapi/v1.0/account/~/extension/{ext}/call-log", headers=account.auth())
    assert r.status_code == 204, r.text
    assert _list(client, account)["records"] == []
    shown = _list(client, account, "&showDeleted=true")["records"]
    assert {rec["id"]: rec.get("deleted") for rec in shown} == {"C1": True, "C2": True}

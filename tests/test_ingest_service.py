"""The single write path: idempotency, updates, ownership checks, and the store's filters."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callvault.domain.enums import Direction, RecordingType
from callvault.domain.query import CallQuery
from callvault.importers.ringcentral_json import parse_record
from callvault.services.container import Services
from callvault.services.ingest import IngestReport
from callvault.storage.calls import CallStore, encode_call
from callvault.storage.changes import reserve_change
from callvault.storage.schema import calls
from tests.builders import make_account, rc_record
from tests.helpers import watching_sql

NOW = datetime.now(UTC).replace(microsecond=0)


def test_same_record_twice_is_one_record(services: Services) -> None:
    acc = make_account(services)
    rec = parse_record(rc_record("A1", extension_id=acc.extensions["101"]))
    first = services.ingest.ingest(acc.account_id, [rec])
    second = services.ingest.ingest(acc.account_id, [rec])
    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    assert services.calls.count(acc.account_id) == 1


def test_changed_record_is_updated_and_modified_time_moves(services: Services) -> None:
    acc = make_account(services)
    ext = acc.extensions["101"]
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("A1", extension_id=ext))])
    before = services.calls.get_many(acc.account_id, ["A1"])["A1"].last_modified_time
    changed = rc_record("A1", extension_id=ext, result="Missed", duration_ms=0)
    report = services.ingest.ingest(acc.account_id, [parse_record(changed)])
    after = services.calls.get_many(acc.account_id, ["A1"])["A1"]
    assert report.updated == 1
    assert after.result is not None and after.result.value == "Missed"
    assert before is not None and after.last_modified_time is not None
    assert after.last_modified_time >= before


def test_unknown_extension_is_reported_and_neighbours_stored(services: Services) -> None:
    acc = make_account(services)
    good = parse_record(rc_record("G1", extension_id=acc.extensions["102"]))
    bad = parse_record(rc_record("B1", extension_id=999))
    report = services.ingest.ingest(acc.account_id, [good, bad])
    assert report.created == 1
    assert [(p.index, p.field) for p in report.problems] == [(1, "extension.id")]


def test_records_of_one_account_are_invisible_to_another(services: Services) -> None:
    a, b = make_account(services), make_account(services)
    services.ingest.ingest(
        a.account_id, [parse_record(rc_record("SAME", extension_id=a.extensions["101"]))]
    )
    services.ingest.ingest(
        b.account_id, [parse_record(rc_record("SAME", extension_id=b.extensions["101"]))]
    )
    assert services.calls.count(a.account_id) == 1
    assert services.calls.count(b.account_id) == 1
    assert set(services.calls.get_many(a.account_id, ["SAME"])) == {"SAME"}


def test_list_filters_compile_to_the_right_rows(services: Services) -> None:
    acc = make_account(services)
    e1, e2 = acc.extensions["101"], acc.extensions["102"]
    recs = [
        rc_record("IN1", extension_id=e1, start=NOW - timedelta(hours=1)),
        rc_record(
            "OUT1",
            extension_id=e1,
            direction="Outbound",
            result="Call connected",
            start=NOW - timedelta(hours=2),
            from_number="+16505550100",
            to_number="+14155550199",
        ),
        rc_record(
            "IN2",
            extension_id=e2,
            start=NOW - timedelta(hours=3),
            recording={"id": "77", "type": "OnDemand"},
        ),
        rc_record("OLD", extension_id=e2, start=NOW - timedelta(days=3)),
    ]
    services.ingest.ingest(acc.account_id, [parse_record(r) for r in recs])

    def ids(**kw: object) -> list[str]:
        q = CallQuery(
            account_id=acc.account_id, date_from=NOW - timedelta(days=1), date_to=NOW, **kw
        )  # type: ignore[arg-type]
        return [r.id for r in services.calls.list(q).items]

    assert ids() == ["IN1", "OUT1", "IN2"]  # newest first, 24 h window
    assert ids(extension_id=e2) == ["IN2"]
    assert ids(directions=frozenset({Direction.OUTBOUND})) == ["OUT1"]
    assert ids(phone_number="14155550199") == ["OUT1"]
    assert ids(recording_types=frozenset()) == ["IN2"]
    assert ids(recording_types=frozenset({RecordingType.AUTOMATIC})) == []
    assert ids(per_page=2) == ["IN1", "OUT1"]
    page2 = CallQuery(
        account_id=acc.account_id,
        date_from=NOW - timedelta(days=1),
        date_to=NOW,
        per_page=2,
        page=2,
    )
    assert [r.id for r in services.calls.list(page2).items] == ["IN2"]


def test_soft_delete_hides_until_show_deleted(services: Services) -> None:
    acc = make_account(services)
    e1 = acc.extensions["101"]
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("D1", extension_id=e1))])
    deleted = services.calls.delete_before(acc.account_id, e1, NOW + timedelta(minutes=1))
    q = CallQuery(
        account_id=acc.account_id,
        extension_id=e1,
        date_from=NOW - timedelta(days=1),
        date_to=NOW + timedelta(minutes=1),
    )
    assert deleted == 1
    assert services.calls.list(q).items == []
    q.show_deleted = True
    shown = services.calls.list(q).items
    assert [r.id for r in shown] == ["D1"] and shown[0].deleted


def test_corrected_record_does_not_undelete(services: Services) -> None:
    acc = make_account(services)
    e1 = acc.extensions["101"]
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("U1", extension_id=e1))])
    services.calls.delete_before(acc.account_id, e1, NOW + timedelta(minutes=1))
    fixed = parse_record(rc_record("U1", extension_id=e1, duration_ms=99_000))
    assert services.ingest.ingest(acc.account_id, [fixed]).updated == 1
    stored = services.calls.get_many(acc.account_id, ["U1"])["U1"]
    assert stored.deleted and stored.duration_ms == 99_000


def test_copies_in_one_batch_count_as_if_sent_one_by_one(services: Services) -> None:
    acc = make_account(services)
    e1 = acc.extensions["101"]
    first = parse_record(rc_record("C1", extension_id=e1))
    changed = parse_record(rc_record("C1", extension_id=e1, result="Missed"))
    report = services.ingest.ingest(acc.account_id, [first, first, changed])
    assert (report.created, report.unchanged, report.updated) == (1, 1, 1)
    stored = services.calls.get_many(acc.account_id, ["C1"])["C1"]
    assert stored.result is not None and stored.result.value == "Missed"


# -- change numbers: taken first when free, else stamped last -----------------------------------


# SQLite runs one writer at a time: writers never meet there.
_CONCURRENT_WRITERS = pytest.mark.skipif(
    not os.environ.get("CALLVAULT_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs two writers in flight at once (PostgreSQL)",
)
# Statements that write the change number over placeholders (storage/changes.py).
_STAMPS = ("with n as (update", "update calls set change_seq")


def _numbers(services: Services, account_id: int) -> set[int]:
    with services.db.read() as conn:
        rows = conn.execute(select(calls.c.change_seq).where(calls.c.account_id == account_id))
        return {r[0] for r in rows}


def test_a_lone_writer_stamps_rows_as_it_writes_them(services: Services) -> None:
    acc = make_account(services)
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("N1"))])  # state row exists
    with watching_sql(services.db.engine) as watch:
        report = services.ingest.ingest(acc.account_id, [parse_record(rc_record("N2"))])
    assert report.created == 1
    assert watch.starting(*_STAMPS) == 0
    assert (
        len(_numbers(services, acc.account_id)) == 2 and min(_numbers(services, acc.account_id)) > 0
    )


@_CONCURRENT_WRITERS
def test_a_writer_that_finds_the_account_locked_stamps_last(services: Services) -> None:
    acc = make_account(services)
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("L1"))])
    with watching_sql(services.db.engine) as watch, services.db.engine.connect() as other:
        held = other.begin()
        taken = reserve_change(other, acc.account_id)  # another writer holds the number
        done: list[object] = []
        writer = threading.Thread(
            target=lambda: done.append(
                services.ingest.ingest(acc.account_id, [parse_record(rc_record("L2"))])
            )
        )
        writer.start()
        deadline = time.monotonic() + 10
        while watch.starting(*_STAMPS) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Rows written under a placeholder; the stamp now waits for the other writer.
        assert watch.starting(*_STAMPS) == 1
        time.sleep(0.2)
        assert writer.is_alive() and not done
        held.commit()
        writer.join(10)
    assert done and not writer.is_alive()
    # Committed after the other writer, so numbered after it; no placeholder is left.
    assert max(_numbers(services, acc.account_id)) == taken + 1
    assert min(_numbers(services, acc.account_id)) > 0


@_CONCURRENT_WRITERS
def test_the_same_new_record_from_two_writers_at_once_is_stored_once(
    services: Services,
) -> None:
    acc = make_account(services)
    services.ingest.ingest(acc.account_id, [parse_record(rc_record("W0"))])  # state row exists
    record = parse_record(rc_record("W1", extension_id=acc.extensions["101"]))
    outcome: list[object] = []
    with services.db.engine.connect() as other:
        first = other.begin()
        # The first writer has inserted W1 and not committed yet.
        CallStore.insert(
            other, [encode_call(acc.account_id, record)], 1, reserve_change(other, acc.account_id)
        )

        def second() -> None:
            try:
                outcome.append(services.ingest.ingest(acc.account_id, [record]))
            except Exception as exc:  # reported below
                outcome.append(exc)

        writer = threading.Thread(target=second)
        writer.start()
        time.sleep(0.5)  # the second writer's insert now waits for the first transaction
        assert writer.is_alive() and not outcome
        first.commit()
    writer.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], IngestReport), outcome
    assert (outcome[0].created, outcome[0].unchanged) == (0, 1)
    assert services.calls.count(acc.account_id) == 2

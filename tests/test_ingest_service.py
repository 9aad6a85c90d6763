"""The single write path: idempotency, updates, ownership checks, and the store's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callvault.domain.enums import Direction, RecordingType
from callvault.domain.query import CallQuery
from callvault.importers.ringcentral_json import parse_record
from callvault.services.container import Services
from tests.builders import make_account, rc_record

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

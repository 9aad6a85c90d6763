"""Call targets: how legs become targets (domain rules), and the ``call_targets`` rows the
single write path keeps beside each call: written with it, replaced on update, deleted with
it, and backfilled by migration 0006."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, inspect, select

from callvault.domain.calls import CallRecord, CdrFacts, Leg, Party
from callvault.domain.enums import DelegationType, Direction, Disconnector, LegType, Result
from callvault.domain.targets import (
    EndReason,
    Rerouting,
    TargetDirection,
    direction_of,
    end_reason_of,
    rerouting_of,
    status_code_of,
    targets_of,
)
from callvault.services.container import Services
from callvault.settings import Settings
from callvault.storage.calls import CallStore
from callvault.storage.migrate import alembic_config, upgrade
from callvault.storage.schema import call_targets
from callvault.storage.targets import backfill_targets
from tests.builders import make_account

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXT = Party(extension_number="101", extension_id="9001", name="Ada")
EXT2 = Party(extension_number="102", extension_id="9002", name="Ben")
OUTSIDE = Party(phone_number="+14155550100")
MOBILE = Party(phone_number="+16505550999")


def _leg(frm: Party, to: Party, **kw: Any) -> Leg:
    base: dict[str, Any] = {
        "direction": Direction.INBOUND,
        "start_time": T0,
        "duration_ms": 30_000,
        "result": Result.ACCEPTED,
        "from_party": frm,
        "to_party": to,
    }
    return Leg(**{**base, **kw})


@pytest.mark.parametrize(
    ("frm", "to", "extra", "expected"),
    [
        (EXT, EXT2, {}, TargetDirection.INTERNAL),
        (OUTSIDE, EXT, {}, TargetDirection.INBOUND),
        (EXT, OUTSIDE, {"direction": Direction.OUTBOUND}, TargetDirection.OUTBOUND),
        (OUTSIDE, MOBILE, {"leg_type": LegType.FIND_ME}, TargetDirection.INBOUND_OUTBOUND),
        # An outside caller reaching a company number (no extension) is still inbound.
        (OUTSIDE, MOBILE, {"leg_type": LegType.ACCEPT}, TargetDirection.INBOUND),
        # With a side unknown, the leg's own direction says it.
        (None, None, {"direction": Direction.OUTBOUND}, TargetDirection.OUTBOUND),
    ],
)
def test_direction(
    frm: Party | None, to: Party | None, extra: dict[str, Any], expected: TargetDirection
) -> None:
    leg = _leg(OUTSIDE, OUTSIDE, **extra)
    leg.from_party, leg.to_party = frm, to
    assert direction_of(leg) is expected


@pytest.mark.parametrize(
    ("cdr", "answered", "expected"),
    [
        (CdrFacts(disconnected_by=Disconnector.CALLER), True, EndReason.CALLER_HUNG_UP),
        (CdrFacts(disconnected_by=Disconnector.CALLER), False, EndReason.CANCELLED),
        (CdrFacts(disconnected_by=Disconnector.CALLEE), True, EndReason.CALLEE_HUNG_UP),
        (CdrFacts(disconnected_by=Disconnector.CALLEE), False, None),
        (CdrFacts(disconnected_by=Disconnector.SYSTEM), True, None),
        # The correlator's words (RingCentral party reasons) for a leg that handed the call on.
        (CdrFacts(reroute_reason="BlindTransfer"), True, EndReason.BLIND_TRANSFER),
        (CdrFacts(reroute_reason="AttendedTransfer"), True, EndReason.ATTENDED_TRANSFER),
        (CdrFacts(reroute_reason="CallerInputRedirect"), True, EndReason.REFERRED),
        (CdrFacts(reroute_reason="CallFlip"), True, EndReason.REPLACED),
        (CdrFacts(reroute_reason="CallPark"), True, EndReason.REPLACED),
        (CdrFacts(reroute_reason="CallRedirected"), True, EndReason.REDIRECTED),
        (CdrFacts(reroute_reason="Something new"), True, None),
    ],
)
def test_end_reason(cdr: CdrFacts, answered: bool, expected: EndReason | None) -> None:
    assert end_reason_of(_leg(OUTSIDE, EXT, cdr=cdr), answered=answered) is expected


def test_rerouting_and_status() -> None:
    assert rerouting_of(_leg(OUTSIDE, EXT, leg_type=LegType.TRANSFER_CALL)) is Rerouting.TRANSFER
    queue = _leg(OUTSIDE, EXT, delegation_type=DelegationType.QUEUE_FORWARDING)
    assert rerouting_of(queue) is Rerouting.OVERFLOW
    given = _leg(OUTSIDE, EXT, cdr=CdrFacts(reached_by="forwarding_away"))
    assert rerouting_of(given) is Rerouting.FORWARDING_AWAY
    assert status_code_of(_leg(OUTSIDE, EXT, cdr=CdrFacts(sip_status_code=200))) == 0
    assert status_code_of(_leg(OUTSIDE, EXT, cdr=CdrFacts(sip_status_code=480))) == 480
    assert status_code_of(_leg(OUTSIDE, EXT, result=Result.BUSY)) == 486
    assert status_code_of(_leg(OUTSIDE, EXT, result=Result.DECLINED)) == 603
    assert status_code_of(_leg(OUTSIDE, EXT, result=Result.MISSED)) == 0


def _record(owner: int | None, legs: list[Leg], rid: str = "R", **kw: Any) -> CallRecord:
    return CallRecord(
        id=f"{rid}-{owner}",
        session_id="S-1",
        extension_id=owner,
        direction=Direction.INBOUND,
        start_time=T0,
        duration_ms=60_000,
        result=Result.ACCEPTED,
        from_party=OUTSIDE,
        to_party=EXT,
        legs=legs,
        **kw,
    )


def _ring_group(ext_a: int, ext_b: int) -> list[Leg]:
    """A trunk leg and two ringing extensions, as the correlator writes a ring-group call."""
    a = Party(extension_number="101", extension_id=str(ext_a))
    b = Party(extension_number="102", extension_id=str(ext_b))
    return [
        _leg(OUTSIDE, Party(phone_number="+16505550100"), leg_type=LegType.ACCEPT),
        _leg(OUTSIDE, a, extension_id=ext_a, result=Result.ANSWERED_ELSEWHERE),
        _leg(OUTSIDE, b, extension_id=ext_b, master=True),
    ]


def test_records_of_one_call_list_each_leg_once_in_the_company_view() -> None:
    legs = _ring_group(9001, 9002)
    a, b = _record(9001, legs), _record(9002, legs)
    company = [(t.id, t.callee) for r in (a, b) for t in targets_of(r) if t.in_company_log]
    assert sorted(c for _, c in company) == ["+16505550100", "101", "102"]
    # The same leg has the same id in every record that carries it.
    assert {t.id for t in targets_of(a)} == {t.id for t in targets_of(b)}
    assert [t.callee for t in targets_of(a) if t.in_owner_log] == ["101"]
    assert [t.callee for t in targets_of(b) if t.in_owner_log] == ["102"]
    company_record = _record(None, legs)
    assert all(t.in_company_log and not t.in_owner_log for t in targets_of(company_record))


def test_a_record_without_legs_is_its_own_target() -> None:
    record = _record(9001, [], cdr=CdrFacts(disconnected_by=Disconnector.CALLER))
    (target,) = targets_of(record)
    assert (target.caller, target.callee, target.talk_seconds) == ("+14155550100", "101", 60)
    assert target.in_company_log and target.in_owner_log
    assert target.end_reason is EndReason.CALLER_HUNG_UP


# -- the rows --------------------------------------------------------------------------------


def _rows(services: Services, account_id: int) -> list[Any]:
    with services.db.read() as conn:
        return list(
            conn.execute(
                select(call_targets)
                .where(call_targets.c.account_id == account_id)
                .order_by(call_targets.c.pk)
            ).all()
        )


def test_rows_follow_the_write_path(services: Services) -> None:
    acc = make_account(services)
    a, b = acc.extensions["101"], acc.extensions["102"]
    legs = _ring_group(a, b)
    report = services.ingest.ingest(acc.account_id, [_record(a, legs), _record(b, legs)])
    assert report.created == 2
    rows = _rows(services, acc.account_id)
    assert len(rows) == 6 and sum(r.in_company for r in rows) == 3
    before = {r.pk: r for r in rows}

    # The same records again: nothing changes, not even the change numbers.
    services.ingest.ingest(acc.account_id, [_record(a, legs), _record(b, legs)])
    assert {r.pk: r for r in _rows(services, acc.account_id)} == before

    # One leg's end time corrected and the trunk leg dropped: updated in place, and a
    # deleted row kept for the dropped leg (the user's delta sync reports it).
    fixed = [*legs[1:]]
    fixed[1] = _leg(
        OUTSIDE,
        legs[2].to_party or EXT,
        extension_id=b,
        master=True,
        cdr=CdrFacts(end_time=T0 + timedelta(seconds=45)),
    )
    services.ingest.ingest(acc.account_id, [_record(b, fixed)])
    after = {r.pk: r for r in _rows(services, acc.account_id)}
    assert set(after) == set(before)
    changed = [pk for pk in after if after[pk].change_seq != before[pk].change_seq]
    mine = [pk for pk, r in before.items() if r.owner_extension_id == b]
    assert sorted(changed) == sorted(mine[0::2])  # the trunk leg and 102's leg
    assert [r.deleted for pk, r in after.items() if pk in changed] == [True, False]

    # A user's delete marks their record's targets deleted, in the same transaction.
    services.calls.delete_before(acc.account_id, b, T0 + timedelta(days=1))
    assert all(r.deleted for r in _rows(services, acc.account_id) if r.owner_extension_id == b)
    with services.db.write() as conn:
        CallStore.purge_account(conn, acc.account_id)
    assert _rows(services, acc.account_id) == []


def test_backfill_writes_what_the_write_path_does(services: Services) -> None:
    acc = make_account(services)
    a, b = acc.extensions["101"], acc.extensions["102"]
    services.ingest.ingest(
        acc.account_id,
        [_record(a, _ring_group(a, b)), _record(b, _ring_group(a, b)), _record(a, [], rid="X")],
    )

    def content(rows: list[Any]) -> list[tuple[Any, ...]]:
        return [tuple(r)[1:] for r in rows]  # all but the row key

    written = content(_rows(services, acc.account_id))
    with services.db.write() as conn:
        conn.execute(delete(call_targets).where(call_targets.c.account_id == acc.account_id))
        assert backfill_targets(conn, batch=2) >= 3
        assert backfill_targets(conn) == 0  # calls that have rows are left alone
    assert content(_rows(services, acc.account_id)) == written


def test_migration_0006_backfills(scratch_url: str) -> None:
    """Calls stored before 0006 get their targets when the upgrade runs."""
    services = Services.build(Settings(database_url=scratch_url))
    try:
        upgrade(services.db.engine)
        acc = make_account(services)
        a, b = acc.extensions["101"], acc.extensions["102"]
        services.ingest.ingest(acc.account_id, [_record(a, _ring_group(a, b))])
        written = [tuple(r)[1:] for r in _rows(services, acc.account_id)]
        cfg = alembic_config()
        with services.db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        assert "call_targets" not in inspect(services.db.engine).get_table_names()
        upgrade(services.db.engine)
        assert [tuple(r)[1:] for r in _rows(services, acc.account_id)] == written
    finally:
        services.close()

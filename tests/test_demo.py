"""The demo traffic generator, run for real: determinism, the scenario mix, and record shapes."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from callvault.api.ringcentral.mapping import Uris, record_to_wire
from callvault.cli import app
from callvault.domain.calls import CallRecord
from callvault.domain.enums import (
    Action,
    Direction,
    InternalType,
    LegType,
    RecordingType,
    Result,
    Transport,
)
from callvault.domain.outcome import is_answered, is_missed, who_answered
from callvault.services.demo_traffic import OFFICE_TZ, DemoExtension, generate_calls
from callvault.storage.codec import decode_record, encode_legs, encode_summary, from_ms
from tests.openapi import validate

MAIN = "+16505550100"
# A Saturday afternoon: the week before it has five working days and a weekend.
NOW = datetime(2026, 3, 14, 15, 30, 12, 345678, tzinfo=UTC)
EXTENSIONS = [
    DemoExtension(9001, "101", "Alice Admin", "User"),
    DemoExtension(9002, "102", "Bob Sales", "User"),
    DemoExtension(9003, "103", "Carol Support", "User"),
    DemoExtension(9004, "104", "Dan Support", "User"),
    DemoExtension(9005, "105", "Erin Finance", "User"),
    DemoExtension(9006, "200", "Support Group", "Department"),
]
BY_NUMBER = {e.number: e for e in EXTENSIONS}


def run(*, days: int = 7, seed: int = 7, now: datetime = NOW) -> list[CallRecord]:
    return list(generate_calls(EXTENSIONS, days=days, seed=seed, now=now, main_number=MAIN))


@functools.cache
def week() -> tuple[CallRecord, ...]:
    return tuple(run())


def sessions(records: tuple[CallRecord, ...]) -> dict[str, list[CallRecord]]:
    out: dict[str, list[CallRecord]] = defaultdict(list)
    for r in records:
        out[r.session_id].append(r)
    return out


def leg_types(r: CallRecord) -> list[LegType]:
    return [lg.leg_type for lg in r.legs]


def kind_of(r: CallRecord) -> str:
    """Name the scenario a record came from, by its shape alone."""
    types = leg_types(r)
    if r.action is Action.RINGOUT_WEB:
        return "ringout" if len(types) == 2 else "ringout one leg"
    if r.transfer_target_session_id or r.transferee_session_id:
        return "warm transfer"
    if LegType.TRANSFER_CALL in types:
        return "blind transfer"
    if LegType.HUNTING in types:
        return f"ring group {r.result}"
    if LegType.FIND_ME in types:
        return "FindMe"
    if LegType.FOLLOW_ME in types:
        return "FollowMe"
    if types == [LegType.EXTENSION_TO_EXTENSION]:
        return f"internal {r.direction} {r.result}"
    return f"{r.direction} PSTN {r.result}"


# -- determinism --------------------------------------------------------------------------------


def test_same_seed_and_now_give_identical_records() -> None:
    assert run(days=3) == run(days=3)


def test_a_different_seed_gives_different_records() -> None:
    a, b = run(days=3, seed=7), run(days=3, seed=8)
    assert a != b
    assert {r.id for r in a}.isdisjoint(r.id for r in b)


# -- volume and rhythm ----------------------------------------------------------------------------


def test_records_are_ordered_unique_and_inside_the_window() -> None:
    records = week()
    assert [r.start_time for r in records] == sorted(r.start_time for r in records)
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert NOW - timedelta(days=7) <= r.start_time
        assert r.start_time + timedelta(milliseconds=r.duration_ms) <= NOW
        assert len(r.id) == 15 and r.id.isalnum()


def test_office_hours_rhythm_and_daily_volume() -> None:
    starts = [min(r.start_time for r in recs) for recs in sessions(week()).values()]
    local = [t.astimezone(OFFICE_TZ) for t in starts]
    working = [t for t in local if t.weekday() < 5 and 9 <= t.hour < 17]
    assert len(working) / len(local) > 0.7
    per_day = Counter(t.date() for t in local)
    weekdays = [n for day, n in per_day.items() if day.weekday() < 5]
    weekends = [n for day, n in per_day.items() if day.weekday() >= 5]
    assert all(60 <= n <= 160 for n in weekdays), per_day
    assert all(n < 30 for n in weekends), per_day
    assert 60 <= len(starts) / 7 <= 150


# -- the scenario mix -----------------------------------------------------------------------------


def test_every_scenario_kind_appears_over_a_week() -> None:
    kinds = Counter(kind_of(r) for r in week())
    expected = {
        "Inbound PSTN Accepted",
        "Inbound PSTN Missed",
        "Inbound PSTN Voicemail",
        "Inbound PSTN Busy",
        "Outbound PSTN Call connected",
        "Outbound PSTN No Answer",
        "Outbound PSTN Busy",
        "internal Outbound Call connected",
        "internal Inbound Accepted",
        "internal Outbound No Answer",
        "internal Inbound Missed",
        "FindMe",
        "FollowMe",
        "ring group Accepted",
        "ring group Answered Elsewhere",
        "ring group Missed",
        "ringout",
        "ringout one leg",
        "blind transfer",
        "warm transfer",
    }
    assert expected <= set(kinds), expected - set(kinds)
    # Plain answered inbound calls are the bulk of the traffic, as in any office.
    assert kinds.most_common(1)[0][0] == "Inbound PSTN Accepted"


def test_recordings_billing_and_cdr_facts_are_present() -> None:
    records = week()
    types = Counter(r.recording.type for r in records if r.recording)
    assert types[RecordingType.AUTOMATIC] > 0 and types[RecordingType.ON_DEMAND] > 0
    for r in records:
        if r.recording:
            assert r.recording.id.isdigit() and is_answered(r)
        if r.direction is Direction.OUTBOUND and r.transport is Transport.PSTN:
            assert r.billing is not None
        for lg in r.legs:
            if lg.transport is Transport.PSTN:
                cdr = lg.cdr
                assert cdr.sip_call_id and cdr.sip_status_code and cdr.trunk
                assert cdr.ring_time == lg.start_time and cdr.end_time and cdr.disconnected_by
                assert (cdr.answer_time is not None) == (cdr.sip_status_code == 200)


def test_voicemail_records_carry_a_voicemail_message() -> None:
    voicemails = [r for r in week() if r.result is Result.VOICEMAIL]
    assert voicemails
    for r in voicemails:
        assert r.message is not None and r.message.type == "VoiceMail" and r.message.id.isdigit()
        assert is_missed(r)


def test_every_record_is_well_formed() -> None:
    for r in week():
        masters = [lg for lg in r.legs if lg.master]
        assert len(masters) == 1, r
        assert r.extension_id in {e.id for e in EXTENSIONS if e.type == "User"}
        assert r.session_id.isdigit() and r.telephony_session_id
        assert r.telephony_session_id.startswith("s-")
        assert r.party_id and r.party_id.startswith("p-")
        for lg in r.legs:
            assert lg.telephony_session_id and lg.party_id and lg.transport and lg.result
            assert lg.reason is not None
        for party in (r.from_party, r.to_party):
            assert party is not None and (party.phone_number or party.extension_number)


# -- outcome rules on the interesting cases ----------------------------------------------------


def test_ring_group_answered_elsewhere_is_not_missed() -> None:
    group_calls = [
        recs for recs in sessions(week()).values() if LegType.HUNTING in leg_types(recs[0])
    ]
    answered_seen = nobody_seen = False
    for recs in group_calls:
        owners = {r.extension_id for r in recs}
        assert owners == {BY_NUMBER["103"].id, BY_NUMBER["104"].id}
        results = sorted(str(r.result) for r in recs)
        if results == ["Accepted", "Answered Elsewhere"]:
            answered_seen = True
            taker = next(r for r in recs if r.result is Result.ACCEPTED)
            other = next(r for r in recs if r.result is Result.ANSWERED_ELSEWHERE)
            assert not is_missed(other) and not is_missed(taker)
            assert is_answered(taker) and not is_answered(other)
            # Both members' records agree on who took the call.
            for r in recs:
                answered_by = who_answered(r)
                assert answered_by is not None
                assert answered_by.extension_id == str(taker.extension_id)
        else:
            assert results == ["Missed", "Missed"]
            nobody_seen = True
            assert all(is_missed(r) and who_answered(r) is None for r in recs)
        for r in recs:
            assert r.to_party and r.to_party.extension_number == "200"
            assert r.direction is Direction.INBOUND and r.transport is Transport.PSTN
    assert answered_seen and nobody_seen


def test_internal_calls_leave_one_record_in_each_party_log() -> None:
    internal = [
        recs
        for recs in sessions(week()).values()
        if all(leg_types(r) == [LegType.EXTENSION_TO_EXTENSION] for r in recs)
    ]
    assert len(internal) > 10
    for recs in internal:
        assert len(recs) == 2
        out = next(r for r in recs if r.direction is Direction.OUTBOUND)
        inn = next(r for r in recs if r.direction is Direction.INBOUND)
        assert out.id != inn.id
        assert out.telephony_session_id == inn.telephony_session_id
        assert out.from_party == inn.from_party and out.to_party == inn.to_party
        assert out.from_party and str(out.extension_id) == out.from_party.extension_id
        assert inn.to_party and str(inn.extension_id) == inn.to_party.extension_id
        assert not is_missed(out)
        for r in recs:
            assert r.transport is Transport.VOIP and r.internal_type is InternalType.USUAL
        if out.result is Result.CALL_CONNECTED:
            assert inn.result is Result.ACCEPTED
        else:
            assert (out.result, inn.result) == (Result.NO_ANSWER, Result.MISSED)
            assert is_missed(inn)


def test_ringout_legs_are_caller_then_subscriber_or_one_busy_leg() -> None:
    ringouts = [r for r in week() if r.action is Action.RINGOUT_WEB]
    shapes = Counter(len(r.legs) for r in ringouts)
    assert shapes[1] and shapes[2]
    for r in ringouts:
        assert r.direction is Direction.OUTBOUND and r.internal_type is InternalType.RING_OUT
        assert all(lg.action is Action.RINGOUT_WEB for lg in r.legs)
        if len(r.legs) == 1:
            assert leg_types(r) == [LegType.RINGOUT_WEB_TO_CALLER]
            assert r.result is Result.BUSY and r.legs[0].result is Result.BUSY
        else:
            caller, callee = r.legs
            assert leg_types(r) == [
                LegType.RINGOUT_WEB_TO_CALLER,
                LegType.RINGOUT_WEB_TO_SUBSCRIBER,
            ]
            assert caller.result is Result.CALL_CONNECTED
            assert callee.start_time > caller.start_time
            assert r.result is callee.result and r.to_party == callee.to_party
        assert r.billing is not None


def test_outbound_pstn_results_use_ringcentral_spellings() -> None:
    outbound = [r for r in week() if kind_of(r).startswith("Outbound PSTN")]
    assert {r.result for r in outbound} == {Result.CALL_CONNECTED, Result.NO_ANSWER, Result.BUSY}
    assert not any(is_missed(r) for r in outbound)


def test_forwarded_calls_ring_the_users_mobile() -> None:
    forwarded = [r for r in week() if kind_of(r) in ("FindMe", "FollowMe")]
    for r in forwarded:
        mobile = r.legs[-1]
        assert mobile.leg_type in (LegType.FIND_ME, LegType.FOLLOW_ME)
        assert mobile.action.value == mobile.leg_type.value
        assert mobile.direction is Direction.OUTBOUND and mobile.transport is Transport.PSTN
        assert mobile.billing is not None
        assert mobile.to_party and mobile.to_party.phone_number
        assert r.direction is Direction.INBOUND


def test_transfers_give_the_target_its_own_record() -> None:
    records = week()
    by_tsid: dict[str, list[CallRecord]] = defaultdict(list)
    for r in records:
        assert r.telephony_session_id
        by_tsid[r.telephony_session_id].append(r)
    blind = warm = 0
    for r in records:
        if r.action is not Action.TRANSFER:
            continue
        assert r.direction is Direction.INBOUND and leg_types(r) == [LegType.TRANSFER_CALL]
        assert r.telephony_session_id
        siblings = [s for s in by_tsid[r.telephony_session_id] if s is not r]
        transferor = next(s for s in siblings if LegType.TRANSFER_CALL in leg_types(s))
        assert transferor.extension_id != r.extension_id
        assert transferor.legs[-1].to_party == r.to_party
        if r.transfer_target_session_id is None:
            blind += 1
            continue
        warm += 1
        # The consultation call links back to the caller's session as its transferee.
        consult = by_tsid[r.transfer_target_session_id]
        assert len(consult) == 2
        assert all(c.transferee_session_id == r.telephony_session_id for c in consult)
        assert transferor.transfer_target_session_id == r.transfer_target_session_id
    assert blind and warm


# -- storage and the RingCentral face -------------------------------------------------------------


def test_every_record_round_trips_through_the_storage_codec() -> None:
    modified = 1_773_000_000_123
    for r in week():
        back = decode_record(
            encode_summary(r), legs=encode_legs(r.legs), deleted=False, modified_ms=modified
        )
        assert back == dataclasses.replace(r, last_modified_time=from_ms(modified))


def test_detailed_wire_form_matches_the_published_schema() -> None:
    uris = Uris("http://demo.test", "http://media.demo.test", 1)
    seen: set[str] = set()
    for r in week():
        kind = kind_of(r)
        if kind in seen:
            continue
        seen.add(kind)
        validate(record_to_wire(r, uris, view="Detailed", log_extension_id=None), "CallLogRecord")
    assert len(seen) >= 20


def test_demo_command_prints_login_details_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--days", "2", "--json", "--database-url", f"sqlite:///{tmp_path}/d.db"]
    )
    assert result.exit_code == 0, result.output
    info = orjson.loads(result.stdout)
    keys = {
        "base_url",
        "client_id",
        "client_secret",
        "username",
        "password",
        "extension",
        "jwt",
        "account_id",
    }
    assert keys <= set(info)
    assert all(isinstance(info[k], str) and info[k] for k in keys)
    assert info["extension"] == "101" and info["username"].endswith("*101")

"""The demo's call history, run for real: simulated events through the live pipeline.

Determinism, the office-hours rhythm, every scenario showing up in the records, the outcome rules
on the interesting cases, storage round trips, RingCentral's published schema, and the CLI.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import func, select
from typer.testing import CliRunner

from callvault.api.ringcentral.mapping import Uris, record_to_wire
from callvault.cli import app
from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.calls import CallRecord
from callvault.domain.enums import Action, Direction, InternalType, LegType, Result, Transport
from callvault.domain.events import CallEvent
from callvault.domain.outcome import is_answered, is_missed, who_answered
from callvault.domain.query import CallQuery
from callvault.services.container import Services
from callvault.services.demo import create_demo_account, load_demo_traffic
from callvault.services.simulation import (
    OFFICE_TZ,
    SCENARIOS,
    SOURCE,
    DemoExtension,
    simulate_calls,
    simulated_calls,
)
from callvault.storage.codec import decode_record, encode_legs, encode_summary, from_ms
from callvault.storage.schema import call_events
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
GROUP = BY_NUMBER["200"]
MEMBERS = {BY_NUMBER["103"].id, BY_NUMBER["104"].id}


def events(*, days: int = 7, seed: int = 7, now: datetime = NOW) -> list[CallEvent]:
    return list(
        simulate_calls(
            EXTENSIONS, start=now - timedelta(days=days), end=now, seed=seed, main_number=MAIN
        )
    )


def correlate(stream: list[CallEvent]) -> list[CallRecord]:
    """What the live pipeline writes: every finished call's records (the correlator, pure)."""
    correlator = Correlator()
    finished = {}
    for event in stream:
        change = correlator.feed(1, event)
        if change is None:
            continue
        if change.kind is ChangeKind.FINISHED:
            finished[change.call.call_id] = change.call
        else:
            finished.pop(change.call.call_id, None)
    assert all(c.finished_at is not None for c in correlator.calls(1)), "a call never ended"
    records = [r for call in finished.values() for r in build_records(call)]
    return sorted(records, key=lambda r: (r.start_time, r.id))


@functools.cache
def week() -> tuple[CallRecord, ...]:
    return tuple(correlate(events()))


def by_session(records: tuple[CallRecord, ...]) -> dict[str, list[CallRecord]]:
    out: dict[str, list[CallRecord]] = defaultdict(list)
    for r in records:
        assert r.telephony_session_id
        out[r.telephony_session_id].append(r)
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
    if set(types) == {LegType.EXTENSION_TO_EXTENSION}:
        return f"internal {r.direction} {r.result}"
    return f"{r.direction} PSTN {r.result}"


# -- determinism --------------------------------------------------------------------------------


def test_same_seed_and_now_give_identical_events_and_records() -> None:
    first, second = events(days=3), events(days=3)
    assert first == second
    assert correlate(first) == correlate(second)


def test_a_different_seed_gives_different_calls() -> None:
    a, b = events(days=3, seed=7), events(days=3, seed=8)
    assert a != b
    assert {e.session_id for e in a}.isdisjoint(e.session_id for e in b)
    assert {e.event_id for e in a}.isdisjoint(e.event_id for e in b)


# -- the event stream -------------------------------------------------------------------------


def test_events_are_in_time_order_unique_and_inside_the_window() -> None:
    stream = events()
    assert [e.time for e in stream] == sorted(e.time for e in stream)
    assert len({e.event_id for e in stream}) == len(stream)
    assert len({(e.session_id, e.sequence) for e in stream}) == len(stream)
    for e in stream:
        assert NOW - timedelta(days=7) <= e.time < NOW
        assert e.time.microsecond % 1000 == 0 and e.time.tzinfo is UTC
        assert e.event_id.startswith("sim-")
    # Concurrent calls interleave: the stream is not just one call after another.
    switches = sum(1 for a, b in itertools.pairwise(stream) if a.session_id != b.session_id)
    assert switches > len({e.session_id for e in stream})


def test_office_hours_rhythm_and_daily_volume() -> None:
    calls = list(
        simulated_calls(
            EXTENSIONS, start=NOW - timedelta(days=7), end=NOW, seed=7, main_number=MAIN
        )
    )
    local = [c.start.astimezone(OFFICE_TZ) for c in calls]
    working = [t for t in local if t.weekday() < 5 and 9 <= t.hour < 17]
    assert len(working) / len(local) > 0.7
    per_day = Counter(t.date() for t in local)
    weekdays = [n for day, n in per_day.items() if day.weekday() < 5]
    weekends = [n for day, n in per_day.items() if day.weekday() >= 5]
    assert all(60 <= n <= 160 for n in weekdays), per_day
    assert all(n < 30 for n in weekends), per_day
    assert 60 <= len(calls) / 7 <= 150
    # Every scenario of the mix is played, plain answered inbound calls most of all.
    scenarios = Counter(c.scenario for c in calls)
    assert set(scenarios) == set(SCENARIOS)
    assert scenarios.most_common(1)[0][0] == "inbound_answered"


def test_calls_per_day_sets_the_volume() -> None:
    calls = list(
        simulated_calls(
            EXTENSIONS,
            start=NOW - timedelta(days=7),
            end=NOW,
            seed=3,
            main_number=MAIN,
            calls_per_day=20,
        )
    )
    per_day = Counter(c.start.astimezone(OFFICE_TZ).date() for c in calls)
    assert all(n <= 24 for n in per_day.values()), per_day
    assert 60 <= len(calls) <= 130


# -- the scenario mix, as records ---------------------------------------------------------------


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


def test_recordings_and_trunk_facts_are_present() -> None:
    records = week()
    recorded = [r for r in records if r.recording]
    assert len(recorded) > 20
    for r in recorded:
        assert r.recording is not None and r.recording.id.isdigit() and is_answered(r)
    trunk_legs = [lg for r in records for lg in r.legs if lg.leg_type is LegType.ACCEPT]
    assert trunk_legs
    for lg in trunk_legs:
        assert lg.cdr.sip_call_id and lg.cdr.sip_call_id.endswith("@sbc.sim.invalid")


def test_voicemail_records_are_missed_calls() -> None:
    voicemails = [r for r in week() if r.result is Result.VOICEMAIL]
    assert voicemails
    for r in voicemails:
        assert r.direction is Direction.INBOUND and is_missed(r)


def test_every_record_is_well_formed() -> None:
    owners = {e.id for e in EXTENSIONS}
    for r in week():
        masters = [lg for lg in r.legs if lg.master]
        assert len(masters) == 1, r
        assert r.extension_id in owners
        assert r.session_id.isdigit() and r.telephony_session_id
        assert re.fullmatch(r"s-[0-9a-f]{32}", r.telephony_session_id)
        assert r.party_id and r.party_id.startswith("p-" + r.telephony_session_id[2:])
        assert r.result is not None and r.result is not Result.IN_PROGRESS
        assert r.reason_description is None  # nothing was closed by the sweeper
        for lg in r.legs:
            assert lg.telephony_session_id and lg.party_id and lg.transport and lg.result
        for party in (r.from_party, r.to_party):
            assert party is not None and (party.phone_number or party.extension_number)


# -- outcome rules on the interesting cases ----------------------------------------------------


def test_ring_group_answered_elsewhere_is_not_missed() -> None:
    group_calls = [
        recs for recs in by_session(week()).values() if LegType.HUNTING in leg_types(recs[0])
    ]
    answered_seen = nobody_seen = False
    for recs in group_calls:
        assert {r.extension_id for r in recs} == {GROUP.id, *MEMBERS}
        members = [r for r in recs if r.extension_id in MEMBERS]
        group = next(r for r in recs if r.extension_id == GROUP.id)
        results = sorted(str(r.result) for r in members)
        if results == ["Accepted", "Answered Elsewhere"]:
            answered_seen = True
            taker = next(r for r in members if r.result is Result.ACCEPTED)
            other = next(r for r in members if r.result is Result.ANSWERED_ELSEWHERE)
            assert not is_missed(other) and not is_missed(taker) and not is_missed(group)
            assert is_answered(taker) and not is_answered(other)
            # Both members' records agree on who took the call.
            for r in members:
                answered_by = who_answered(r)
                assert answered_by is not None
                assert answered_by.extension_id == str(taker.extension_id)
        else:
            assert results == ["Missed", "Missed"] and group.result is Result.MISSED
            nobody_seen = True
            assert all(is_missed(r) and who_answered(r) is None for r in members)
        for r in recs:
            assert r.direction is Direction.INBOUND and r.transport is Transport.PSTN
            hunting = [lg for lg in r.legs if lg.leg_type is LegType.HUNTING]
            assert {lg.extension_id for lg in hunting} == MEMBERS
    assert answered_seen and nobody_seen


def test_internal_calls_leave_one_record_in_each_party_log() -> None:
    internal = [
        recs
        for recs in by_session(week()).values()
        if all(set(leg_types(r)) == {LegType.EXTENSION_TO_EXTENSION} for r in recs)
    ]
    assert len(internal) > 10
    for recs in internal:
        assert len(recs) == 2
        out = next(r for r in recs if r.direction is Direction.OUTBOUND)
        inn = next(r for r in recs if r.direction is Direction.INBOUND)
        assert out.id != inn.id
        assert out.telephony_session_id == inn.telephony_session_id
        assert out.session_id == inn.session_id
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
        assert not is_missed(r)
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


def test_outbound_pstn_results_use_ringcentral_spellings() -> None:
    outbound = [r for r in week() if kind_of(r).startswith("Outbound PSTN")]
    assert {r.result for r in outbound} == {Result.CALL_CONNECTED, Result.NO_ANSWER, Result.BUSY}
    assert not any(is_missed(r) for r in outbound)


def test_findme_rings_the_users_mobile() -> None:
    forwarded = [r for r in week() if kind_of(r) == "FindMe"]
    assert forwarded
    for r in forwarded:
        mobile = next(lg for lg in r.legs if lg.leg_type is LegType.FIND_ME)
        assert mobile.extension_id == r.extension_id
        assert mobile.to_party and (mobile.to_party.phone_number or "").startswith("+1415555")
        assert r.direction is Direction.INBOUND and r.result is Result.ACCEPTED
        answered = [lg for lg in r.legs if lg.extension_id == r.extension_id and is_answered(lg)]
        assert len(answered) == 1 and answered[0].master


def test_transfers_give_the_target_its_own_record() -> None:
    sessions = by_session(week())
    blind = warm = 0
    for recs in sessions.values():
        if any(LegType.TRANSFER_CALL in leg_types(r) for r in recs):
            blind += 1
            assert len(recs) == 2
            target = next(r for r in recs if r.action is Action.TRANSFER)
            first = next(r for r in recs if r is not target)
            assert target.direction is first.direction is Direction.INBOUND
            assert target.extension_id != first.extension_id
            assert (target.result, first.result) == (Result.ACCEPTED, Result.ACCEPTED)
            # The first user's part ends at the hand-over, where the target's phone rings.
            handed_over = first.start_time + timedelta(milliseconds=first.duration_ms)
            assert abs((target.start_time - handed_over).total_seconds()) < 1
            transfer_leg = next(lg for lg in first.legs if lg.leg_type is LegType.TRANSFER_CALL)
            assert transfer_leg.extension_id == target.extension_id
        linked = [r for r in recs if r.transfer_target_session_id]
        for r in linked:
            warm += 1
            # The consultation session links back to the caller's session as its transferee.
            consult = [
                c
                for c in week()
                if c.telephony_session_id == r.transfer_target_session_id
                and c.transferee_session_id == r.telephony_session_id
            ]
            assert len(consult) == 1 and consult[0].extension_id != r.extension_id
            assert r.result is consult[0].result is Result.ACCEPTED
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
    assert len(seen) >= 19


# -- the demo, through the live pipeline --------------------------------------------------------


def without_audio(record: CallRecord) -> CallRecord:
    """The record as the pipeline made it, before the demo attached audio to its recordings
    (``services.demo_audio``)."""
    legs = [dataclasses.replace(g, recording=None, short_recording=False) for g in record.legs]
    return dataclasses.replace(record, recording=None, short_recording=False, legs=legs)


def test_demo_records_are_what_the_pipeline_makes(services: Services) -> None:
    demo = create_demo_account(services, seed=11)
    report = load_demo_traffic(services, demo, days=2, seed=11, now=NOW, batch_size=300)
    simulated = list(
        simulate_calls(
            demo.extensions,
            start=NOW - timedelta(days=2),
            end=NOW,
            seed=11,
            main_number=demo.main_number,
        )
    )
    expected = correlate(simulated)
    page = services.calls.list(
        CallQuery(
            account_id=demo.account_id,
            date_from=NOW - timedelta(days=30),
            date_to=NOW + timedelta(days=1),
            per_page=1000,
            with_legs=True,
        )
    )
    assert not page.has_more
    stored = {r.id: dataclasses.replace(r, last_modified_time=None) for r in page.items}
    assert {r.id: without_audio(r) for r in stored.values()} == {
        r.id: without_audio(r) for r in expected
    }
    # Every recorded call got its audio: kept (held), or too short to keep (shortRecording).
    for r in expected:
        got = stored[r.id]
        if r.recording is None:
            assert got.recording is None and not got.short_recording
        elif got.recording is not None:
            assert got.recording.id == r.recording.id and got.recording.held
        else:
            assert got.short_recording and r.duration < 30
    assert report.records == len(expected)
    assert report.events == len(simulated)
    assert report.calls == len(
        {r.telephony_session_id for r in expected if not r.transferee_session_id}
    )
    # Every simulated event is journaled as such, and every call it made is done.
    with services.db.read() as conn:
        rows = conn.execute(
            select(call_events.c.source, call_events.c.call_done, func.count())
            .where(call_events.c.account_id == demo.account_id)
            .group_by(call_events.c.source, call_events.c.call_done)
        ).all()
    assert [(source, bool(done)) for source, done, _ in rows] == [(SOURCE, True)]
    assert rows[0][2] == report.events
    # Nothing is left in progress; calls that ended just before ``now`` may still linger.
    assert all(r.result is not Result.IN_PROGRESS for r in services.live.active(demo.account_id))


def test_demo_command_prints_login_details_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--days", "2", "--json", "--database-url", f"sqlite:///{tmp_path}/d.db"]
    )
    assert result.exit_code == 0, result.output
    info = orjson.loads(result.stdout)
    keys = {
        "base_url",
        "account_id",
        "client_id",
        "client_secret",
        "username",
        "password",
        "extension",
        "jwt",
        "webhook_url",
        "webhook_verification_token",
    }
    assert keys <= set(info)
    assert all(isinstance(info[k], str) and info[k] for k in keys)
    assert info["extension"] == "101" and info["username"].endswith("*101")
    assert info["webhook_url"].endswith(f"/api/v1/webhooks/ringcentral/{info['account_id']}")

"""The simulated event source: every flow, through the real correlator, gives the call-log outcome
its scenario stands for; the streams keep RingCentral's conventions (reference §2-§5); and
``callvault simulate`` drives a real server over HTTP."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from callvault.cli import app
from callvault.cli.simulate import _office, wire_event
from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.calls import CallRecord
from callvault.domain.enums import Direction, LegType, Result
from callvault.domain.events import CallEvent, CallOrigin, PartyStatus
from callvault.domain.outcome import is_missed
from callvault.importers.native_events import parse_event
from callvault.services.container import Services
from callvault.services.demo import create_demo_account
from callvault.services.simulation import (
    SCENARIOS,
    DemoExtension,
    SimulatedCall,
    interleave,
    live_calls,
    simulate_live,
)
from callvault.services.simulation_flows import Office, Switch
from tests.helpers import assert_call_log
from tests.test_demo import EXTENSIONS, MAIN

T0 = datetime(2026, 3, 10, 17, 0, 0, 250_000, tzinfo=UTC)
SEEDS = range(6)
IVR_MENU = DemoExtension(9010, "1000", "Main Menu", "IvrMenu")

# Scenario → the records its call leaves: (direction, result, action), one per extension log.
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "inbound_answered": [("Inbound", "Accepted", "Phone Call")],
    "inbound_missed": [("Inbound", "Missed", "Phone Call")],
    "inbound_voicemail": [("Inbound", "Voicemail", "Phone Call")],
    "inbound_busy": [("Inbound", "Busy", "Phone Call")],
    # The taker and the group's own log accept; the other member sees "Answered Elsewhere".
    "ring_group_answered": [
        ("Inbound", "Accepted", "Phone Call"),
        ("Inbound", "Accepted", "Phone Call"),
        ("Inbound", "Answered Elsewhere", "Phone Call"),
    ],
    "ring_group_missed": [("Inbound", "Missed", "Phone Call")] * 3,
    "findme": [("Inbound", "Accepted", "Phone Call")],
    "outbound_answered": [("Outbound", "Call connected", "Phone Call")],
    "outbound_no_answer": [("Outbound", "No Answer", "Phone Call")],
    "outbound_busy": [("Outbound", "Busy", "Phone Call")],
    "ringout_answered": [("Outbound", "Call connected", "RingOut Web")],
    "ringout_no_answer": [("Outbound", "No Answer", "RingOut Web")],
    "ringout_busy": [("Outbound", "Busy", "RingOut Web")],
    "internal_answered": [
        ("Inbound", "Accepted", "VoIP Call"),
        ("Outbound", "Call connected", "VoIP Call"),
    ],
    "internal_missed": [("Inbound", "Missed", "VoIP Call"), ("Outbound", "No Answer", "VoIP Call")],
    "transfer_blind": [("Inbound", "Accepted", "Phone Call"), ("Inbound", "Accepted", "Transfer")],
    "transfer_warm": [("Inbound", "Accepted", "Phone Call")] * 2,
}
# How many of a scenario's records are missed calls (callvault.domain.outcome.is_missed).
MISSED = {"inbound_missed": 1, "inbound_voicemail": 1, "ring_group_missed": 3, "internal_missed": 1}


def play(
    name: str, seed: int, extensions: list[DemoExtension] = EXTENSIONS
) -> tuple[list[CallEvent], list[CallRecord]]:
    """One call of a scenario: its events in time order, and the records the correlator makes."""
    sw = Switch(
        rng=random.Random(seed), salt=f"test:{name}:{seed}", office=Office.of(extensions, MAIN)
    )
    sessions = SCENARIOS[name][1](sw, T0)
    order = {s.id: n for n, s in enumerate(sessions)}
    events = sorted(
        (e for s in sessions for e in s.events),
        key=lambda e: (e.time, order[e.session_id], e.sequence),
    )
    return events, correlate(events)


def correlate(events: list[CallEvent]) -> list[CallRecord]:
    correlator = Correlator()
    finished = None
    for event in events:
        change = correlator.feed(1, event)
        if change is not None and change.kind is ChangeKind.FINISHED:
            finished = change.call
    assert finished is not None, "the call never finished"
    assert len(correlator.calls(1)) == 1, "one call's events ended up in several calls"
    return build_records(finished)


def shape(records: list[CallRecord]) -> list[tuple[str, str, str]]:
    return sorted((r.direction.value, str(r.result), r.action.value) for r in records)


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


# -- outcomes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_flow_through_the_correlator_gives_the_scenario_outcome(name: str) -> None:
    for seed in SEEDS:
        events, records = play(name, seed)
        assert shape(records) == sorted(EXPECTED[name]), (name, seed)
        assert sum(is_missed(r) for r in records) == MISSED.get(name, 0), (name, seed)
        owners = {e.extension_id for e in events if e.extension_id is not None}
        assert {r.extension_id for r in records} == owners
        for r in records:
            assert r.reason_description is None  # every call ended by itself
            assert sum(lg.master for lg in r.legs) == 1


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_flow_correlates_the_same_in_any_arrival_order(name: str) -> None:
    """Late, early and repeated deliveries change nothing once every event is in."""
    events, in_order = play(name, 1)
    rng = random.Random(name)
    for _ in range(4):
        shuffled = events + rng.sample(events, k=min(3, len(events)))
        rng.shuffle(shuffled)
        correlator = Correlator()
        last_finished = None
        for event in shuffled:
            change = correlator.feed(1, event)
            if change is not None and change.kind is ChangeKind.FINISHED:
                last_finished = change.call
        assert last_finished is not None
        assert build_records(last_finished) == in_order


def test_ring_group_member_who_did_not_answer_sees_answered_elsewhere() -> None:
    group = next(e for e in EXTENSIONS if e.type == "Department")
    for seed in SEEDS:
        events, records = play("ring_group_answered", seed)
        taker = next(
            e.extension_id for e in events if e.queue_call and e.status is PartyStatus.ANSWERED
        )
        by_owner = {r.extension_id: r for r in records}
        assert by_owner[taker].result is Result.ACCEPTED
        assert by_owner[group.id].result is Result.ACCEPTED
        others = [r for owner, r in by_owner.items() if owner not in (taker, group.id)]
        assert [r.result for r in others] == [Result.ANSWERED_ELSEWHERE]
        assert not any(is_missed(r) for r in records)
        for r in records:
            assert [lg.leg_type for lg in r.legs].count(LegType.HUNTING) == 2


def test_findme_answers_on_the_mobile_or_the_desk() -> None:
    where: Counter[LegType] = Counter()
    for seed in range(12):
        _, [record] = play("findme", seed)
        master = next(lg for lg in record.legs if lg.master)
        assert master.result is Result.ACCEPTED
        assert LegType.FIND_ME in [lg.leg_type for lg in record.legs]
        where[master.leg_type] += 1
    assert set(where) == {LegType.FIND_ME, LegType.PSTN_TO_SIP}


def test_warm_transfer_links_the_two_sessions() -> None:
    for seed in SEEDS:
        events, records = play("transfer_warm", seed)
        s1, s2 = list(dict.fromkeys(e.session_id for e in events))
        gone = [e for e in events if e.status is PartyStatus.GONE]
        assert [(e.session_id, e.reason) for e in gone] == [
            (s1, "AttendedTransfer"),
            (s2, "AttendedTransfer"),
        ]
        # Each Gone party points at the surviving party of the other session.
        survivors = {e.party_id for e in events if e.status is PartyStatus.DISCONNECTED}
        assert {(e.peer_session_id, e.peer_party_id in survivors) for e in gone} == {
            (s2, True),
            (s1, True),
        }
        first = next(r for r in records if r.telephony_session_id == s1)
        target = next(r for r in records if r.telephony_session_id == s2)
        assert first.transfer_target_session_id == s2 and target.transferee_session_id == s1


def test_blind_transfer_target_gets_the_call_by_transfer() -> None:
    for seed in SEEDS:
        events, records = play("transfer_blind", seed)
        reasons = [e.reason for e in events if e.status is PartyStatus.DISCONNECTED and e.reason]
        assert reasons == ["BlindTransfer"]
        target = next(r for r in records if str(r.action) == "Transfer")
        assert [lg.leg_type for lg in target.legs][-1] is LegType.TRANSFER_CALL
        assert target.legs[-1].master


# -- the IVR on the main number -----------------------------------------------------------------


def _via_ivr(extensions: list[DemoExtension]) -> tuple[list[CallEvent], list[CallRecord]]:
    for seed in range(60):
        events, records = play("inbound_answered", seed, extensions)
        if events[0].to_endpoint and events[0].to_endpoint.phone_number == MAIN:
            return events, records
    raise AssertionError("no call came in through the IVR")


def test_without_an_ivr_extension_the_menu_is_a_gap_in_the_stream() -> None:
    events, [record] = _via_ivr(EXTENSIONS)
    hexid = events[0].session_id[2:]
    # The menu's party (p-…-2) and its two notifications are never delivered.
    assert [e.sequence for e in events][:3] == [2, 4, 6]
    assert sorted({e.party_id for e in events}) == [f"p-{hexid}-1", f"p-{hexid}-3"]
    assert [e.status for e in events[:2]] == [PartyStatus.SETUP, PartyStatus.ANSWERED]
    assert record.result is Result.ACCEPTED
    assert record.to_party is not None and record.to_party.phone_number == MAIN
    assert [lg.leg_type for lg in record.legs] == [LegType.ACCEPT, LegType.PSTN_TO_SIP]


def test_an_ivr_menu_extension_hands_the_caller_on_and_is_not_missed() -> None:
    events, records = _via_ivr([*EXTENSIONS, IVR_MENU])
    menu = [e for e in events if e.extension_id == IVR_MENU.id]
    assert [(e.status, e.reason) for e in menu] == [
        (PartyStatus.SETUP, None),
        (PartyStatus.DISCONNECTED, None),
    ]
    by_owner = {r.extension_id: r for r in records}
    assert by_owner.pop(IVR_MENU.id).result is Result.ACCEPTED
    [user] = by_owner.values()
    assert user.result is Result.ACCEPTED and not any(is_missed(r) for r in records)
    assert [lg.leg_type for lg in user.legs] == [
        LegType.ACCEPT,
        LegType.PSTN_TO_SIP,
        LegType.PSTN_TO_SIP,
    ]


# -- RingCentral's stream conventions ---------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_flow_keeps_ringcentral_stream_conventions(name: str) -> None:
    for seed in SEEDS:
        events, _ = play(name, seed, [*EXTENSIONS, IVR_MENU])
        assert len({e.event_id for e in events}) == len(events)
        sessions: dict[str, list[CallEvent]] = defaultdict(list)
        for e in events:
            assert e.event_id.startswith("sim-")
            sessions[e.session_id].append(e)
        assert len(sessions) == (2 if name == "transfer_warm" else 1)
        for sid, evs in sessions.items():
            _check_session(name, sid, evs, set(sessions))


def _check_session(name: str, sid: str, evs: list[CallEvent], call_sessions: set[str]) -> None:
    assert re.fullmatch(r"s-[0-9a-f]{32}", sid)
    evs = sorted(evs, key=lambda e: e.sequence)
    # One counter per session, first delivered value 2, in time order (reference §4).
    sequences = [e.sequence for e in evs]
    assert sequences[0] == 2 and sequences == sorted(set(sequences))
    assert [e.time for e in evs] == sorted(e.time for e in evs)
    assert (
        len({e.legacy_session_id for e in evs}) == 1 and (evs[0].legacy_session_id or "").isdigit()
    )
    origin = CallOrigin.RINGOUT if name.startswith("ringout") else CallOrigin.CALL
    assert {e.origin for e in evs} == {origin}
    # Party ids p-<session>-<n>, numbered in order of appearance.
    parties: dict[str, list[CallEvent]] = {}
    for e in evs:
        parties.setdefault(e.party_id, []).append(e)
    numbers = [int(p.rsplit("-", 1)[1]) for p in parties]
    assert numbers == sorted(numbers) and numbers[0] == 1
    for pid, timeline in parties.items():
        assert pid.startswith(f"p-{sid[2:]}-")
        first, last = timeline[0], timeline[-1]
        assert len({(e.direction, e.extension_id, e.queue_call) for e in timeline}) == 1
        if first.direction is Direction.OUTBOUND:
            assert first.status is PartyStatus.SETUP  # the calling side comes in set up
        else:
            assert first.status in (PartyStatus.SETUP, PartyStatus.PROCEEDING)
        # A party ends exactly once, and last.
        assert last.status.terminal
        assert not any(e.status.terminal for e in timeline[:-1])
        if last.status is PartyStatus.GONE:
            assert last.reason == "AttendedTransfer"
            assert last.peer_session_id in call_sessions - {sid} and last.peer_party_id
        else:
            assert last.peer_session_id is None
        if first.ring_out_role is not None:
            assert first.direction is Direction.INBOUND  # both RingOut legs are called sides
    for e in evs:
        for endpoint in (e.from_endpoint, e.to_endpoint):
            assert endpoint is not None and endpoint.phone_number
            number = endpoint.phone_number
            # Outside numbers are fictional: 555-01xx, a drama-range UK number, or toll-free.
            assert (
                number.isdigit()
                or re.fullmatch(r"\+1\d{3}5550[1]\d\d", number)
                or number.startswith(("+1650555", "+1415555", "+44207946", "+1800555"))
            ), number


# -- the live stream ----------------------------------------------------------------------------


def test_live_stream_is_deterministic_bounded_and_at_the_requested_rate() -> None:
    until = T0 + timedelta(hours=2)

    def calls() -> list[SimulatedCall]:
        return list(
            live_calls(
                EXTENSIONS, start=T0, seed=5, main_number=MAIN, calls_per_minute=3, until=until
            )
        )

    first = calls()
    assert first == calls()
    starts = [c.start for c in first]
    assert starts == sorted(starts) and starts[0] > T0 and starts[-1] < until
    assert 300 <= len(first) <= 420  # 360 expected
    assert set(c.scenario for c in first) == set(SCENARIOS)
    stream = list(
        simulate_live(
            EXTENSIONS, start=T0, seed=5, main_number=MAIN, calls_per_minute=3, until=until
        )
    )
    assert stream == list(interleave(first))
    assert [e.time for e in stream] == sorted(e.time for e in stream)
    assert {e.event_id for e in stream} == {e.event_id for c in first for e in c.events}
    # Calls under way at ``until`` are complete: their last events come after it.
    assert stream[-1].time > until


def test_live_stream_without_an_end_is_lazy_and_ids_depend_on_the_start() -> None:
    endless = simulate_live(EXTENSIONS, start=T0, seed=5, main_number=MAIN, calls_per_minute=20)
    head = list(itertools.islice(endless, 800))
    assert [e.time for e in head] == sorted(e.time for e in head)
    later = simulate_live(
        EXTENSIONS, start=T0 + timedelta(days=1), seed=5, main_number=MAIN, calls_per_minute=20
    )
    again = list(itertools.islice(later, 800))
    assert {e.session_id for e in head}.isdisjoint(e.session_id for e in again)
    with pytest.raises(ValueError):
        next(live_calls(EXTENSIONS, start=T0, seed=1, main_number=MAIN, calls_per_minute=0))


def test_an_office_needs_two_users() -> None:
    with pytest.raises(ValueError):
        next(live_calls(EXTENSIONS[:1], start=T0, seed=1, main_number=MAIN, calls_per_minute=1))


# -- callvault simulate -------------------------------------------------------------------------


def test_wire_events_name_extensions_by_number_and_parse_back() -> None:
    extensions, numbers = _office()
    account_ids = {e.number: 700_000 + n for n, e in enumerate(extensions)}

    def resolve(ext_id: str | None, number: str | None) -> int | None:
        assert ext_id is None  # the simulator cannot know the server's ids
        return account_ids.get(number or "")

    for name in ("transfer_warm", "ring_group_answered", "ringout_answered"):
        events, _ = play(name, 2, extensions)
        for e in events:
            wire = orjson.loads(orjson.dumps(wire_event(e, numbers)))
            party = wire["party"]
            assert "extensionId" not in party
            assert all("extensionId" not in party.get(side, {}) for side in ("from", "to"))
            back = parse_event(wire, resolve)
            expected_ext = account_ids[numbers[e.extension_id]] if e.extension_id else None
            assert back.extension_id == expected_ext
            same = ("event_id", "session_id", "sequence", "time", "status", "reason", "origin")
            more = ("direction", "peer_session_id", "peer_party_id", "queue_call", "ring_out_role")
            for attr in (*same, *more, "recording_id", "sip_call_id", "legacy_session_id"):
                assert getattr(back, attr) == getattr(e, attr), attr


def test_simulate_help_and_errors_say_simulated() -> None:
    runner = CliRunner()
    helped = runner.invoke(app, ["simulate", "--help"])
    assert helped.exit_code == 0 and "SIMULATED" in helped.output
    missing = runner.invoke(app, ["simulate", "--client-id", "x", "--duration", "1"])
    assert missing.exit_code == 1
    assert "SIMULATED traffic not started" in missing.output
    assert "--client-secret" in missing.output and "--password" in missing.output


def test_simulate_command_drives_the_real_event_api(
    server: str, services: Services, tmp_path: Path
) -> None:
    demo = create_demo_account(services, seed=21)
    login = tmp_path / "demo-login.json"
    login.write_bytes(
        orjson.dumps(
            {
                "base_url": server,
                "client_id": demo.client_id,
                "client_secret": demo.client_secret,
                "username": demo.admin_username,
                "password": demo.password,
            }
        )
    )
    started = datetime.now(UTC)
    args = ["simulate", "--login-file", str(login), "--duration", "1.5", "--speed", "400"]
    result = CliRunner().invoke(app, [*args, "--calls-per-minute", "4", "--seed", "5"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and all("SIMULATED" in line for line in lines), result.output
    done = re.search(
        r"SIMULATED traffic done: (\d+) calls, (\d+) events .* (\d+) rejected; "
        r"the server finished (\d+) calls",
        result.output,
    )
    assert done, result.output
    calls, events, rejected, finished = map(int, done.groups())
    assert calls > 5 and events > calls and rejected == 0
    # Every call was sent whole, so the server finished each one.
    assert finished == calls
    with httpx.Client(base_url=server, timeout=30) as http:
        token = http.post(
            "/restapi/oauth/token",
            auth=(demo.client_id, demo.client_secret),
            data={
                "grant_type": "password",
                "username": demo.admin_username,
                "password": demo.password,
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # The simulated clock ran ahead of the real one: look past now.
        params = {
            "dateFrom": (started - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dateTo": (started + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "perPage": "1000",
            "view": "Detailed",
        }
        log = assert_call_log(
            http.get("/restapi/v1.0/account/~/call-log", params=params, headers=auth)
        )
        active = http.get("/restapi/v1.0/account/~/active-calls", headers=auth).json()
    records = log["records"]
    assert len({r["telephonySessionId"] for r in records}) >= calls
    results = Counter(r["result"] for r in records)
    assert results["Accepted"] > 0 and sum(results.values()) == len(records)
    assert not any(r["result"] == "In Progress" for r in active["records"])

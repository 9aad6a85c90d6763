"""Scenario tests: each trace file's events, through the real parser and correlator, must give
exactly the expected call-log records — in order, shuffled, and with duplicates."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callvault.correlator.calls import LiveCall
from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.calls import CallRecord, Party
from callvault.domain.events import CallEvent
from callvault.importers.native_events import parse_event
from tests.traces import BASE_TIME, all_traces, build_events, extension_ids, load

ACCOUNT = 1

# Every key a trace may use; a misspelt key must fail rather than silently check nothing.
TRACE_KEYS = {
    "title",
    "source",
    "session",
    "legacy",
    "origin",
    "extensions",
    "parties",
    "events",
    "expect",
    "party_checks",
}
RECORD_KEYS = {
    "owner",
    "direction",
    "result",
    "action",
    "transport",
    "session_id",
    "telephony_session",
    "reason",
    "reason_description",
    "from",
    "to",
    "legs",
    "leg_results",
    "master_leg",
    "duration",
    "answered_at",
    "disconnected_by",
    "transfer_target",
    "transferee",
    "recording",
}
PARTY_KEYS = {"outcome", "talk", "hold"}


def _correlate(events: list[CallEvent]) -> LiveCall:
    """Feed events in the given order; the single call they make, once finished."""
    correlator = Correlator()
    finished = None
    for event in events:
        change = correlator.feed(ACCOUNT, event)
        if change is not None and change.kind is ChangeKind.FINISHED:
            finished = change.call
    assert finished is not None, "the call never finished"
    assert len(correlator.calls(ACCOUNT)) == 1, "events of one call ended up in several calls"
    assert correlator.calls(ACCOUNT)[0] is finished
    return finished


def _parsed(trace: dict[str, Any], ids: dict[str, int]) -> list[CallEvent]:
    by_id = {str(v): v for v in ids.values()}

    def resolve(ext_id: str | None, _number: str | None) -> int | None:
        return by_id.get(ext_id or "")

    return [parse_event(e, resolve) for e in build_events(trace, ids)]


def _number(p: Party | None) -> str | None:
    return None if p is None else (p.phone_number or p.extension_number)


def _offset(t: datetime | None) -> float | None:
    return None if t is None else (t - BASE_TIME).total_seconds()


def _check_record(rec: CallRecord, exp: dict[str, Any], where: str) -> None:
    got: dict[str, Any] = {
        "direction": rec.direction.value,
        "result": rec.result.value if rec.result else None,
        "action": rec.action.value,
        "transport": rec.transport.value if rec.transport else None,
        "session_id": rec.session_id,
        "telephony_session": rec.telephony_session_id,
        "reason": rec.reason.value if rec.reason else None,
        "reason_description": rec.reason_description,
        "from": _number(rec.from_party),
        "to": _number(rec.to_party),
        "legs": [leg.leg_type.value for leg in rec.legs],
        "leg_results": [leg.result.value if leg.result else None for leg in rec.legs],
        "master_leg": [n for n, leg in enumerate(rec.legs) if leg.master],
        "duration": rec.duration,
        "answered_at": _offset(rec.cdr.answer_time),
        "disconnected_by": rec.cdr.disconnected_by.value if rec.cdr.disconnected_by else None,
        "transfer_target": rec.transfer_target_session_id,
        "transferee": rec.transferee_session_id,
        "recording": rec.recording.id if rec.recording else None,
    }
    for key, value in exp.items():
        if key == "owner":
            continue
        want = [value] if key == "master_leg" else value
        if key == "recording" and value is not None:
            want = str(value)
        assert got[key] == want, f"{where}: {key} {got[key]!r} != {want!r}"


def _check(call: LiveCall, trace: dict[str, Any], ids: dict[str, int]) -> None:
    records = build_records(call)
    by_owner = {r.extension_id: r for r in records}
    assert len(by_owner) == len(records), "two records for one owner"
    expected = trace["expect"]
    assert len(records) == len(expected), [(r.extension_id, r.result) for r in records]
    for exp in expected:
        owner = None if exp["owner"] == "company" else ids[exp["owner"]]
        rec = by_owner.get(owner)
        assert rec is not None, f"no record for {exp['owner']}"
        _check_record(rec, exp, f"record of {exp['owner']}")
    legs = {leg.party_id: leg for leg in call.legs()}
    for party_id, checks in trace.get("party_checks", {}).items():
        leg = legs[party_id]
        got = {"outcome": leg.outcome.value, "talk": leg.talk_ms / 1000, "hold": leg.hold_ms / 1000}
        for key, value in checks.items():
            assert got[key] == value, f"party {party_id}: {key} {got[key]!r} != {value!r}"


TRACE_FILES = all_traces()


@pytest.mark.parametrize("path", TRACE_FILES, ids=[p.stem for p in TRACE_FILES])
def test_trace_is_well_formed(path: Path) -> None:
    trace = load(path)
    assert set(trace) <= TRACE_KEYS, set(trace) - TRACE_KEYS
    assert trace.get("title") and trace.get("source"), "say what the trace shows and its source"
    assert trace["expect"], "a trace without expectations checks nothing"
    for exp in trace["expect"]:
        assert set(exp) <= RECORD_KEYS and "owner" in exp, set(exp) - RECORD_KEYS
    for party_id, checks in trace.get("party_checks", {}).items():
        assert party_id in trace["parties"] and set(checks) <= PARTY_KEYS, party_id
    default = trace.get("session", "s-trace")
    keys = [
        (row.get("session") or trace["parties"][row["party"]].get("session") or default, row["seq"])
        for row in trace["events"]
    ]
    assert keys, "no events"
    # RingCentral's sequence counts notifications per telephony session (reference §4).
    assert len(keys) == len(set(keys)), "a session's sequence numbers must be unique"


@pytest.mark.parametrize("path", TRACE_FILES, ids=[p.stem for p in TRACE_FILES])
def test_trace_in_order(path: Path) -> None:
    trace = load(path)
    ids = extension_ids(trace)
    _check(_correlate(_parsed(trace, ids)), trace, ids)


@pytest.mark.parametrize("path", TRACE_FILES, ids=[p.stem for p in TRACE_FILES])
def test_trace_shuffled_with_duplicates_gives_the_same_records(path: Path) -> None:
    trace = load(path)
    ids = extension_ids(trace)
    events = _parsed(trace, ids)
    in_order = build_records(_correlate(events))
    rng = random.Random(path.stem)
    for _ in range(5):
        shuffled = events + rng.sample(events, k=min(3, len(events)))
        rng.shuffle(shuffled)
        # Whatever the arrival order, the events make one call, it finishes only when its last
        # party leaves, and the finished call's records are the same.
        assert build_records(_correlate(shuffled)) == in_order

"""Scenario tests: each trace file's events, through the real parser and correlator, must give
exactly the expected call-log records — in order, shuffled, and with duplicates."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.calls import CallRecord
from callvault.domain.events import CallEvent
from callvault.importers.native_events import parse_event
from tests.traces import all_traces, build_events, extension_ids, load

ACCOUNT = 1


def _correlate(events: list[CallEvent]) -> list[CallRecord]:
    correlator = Correlator()
    finished = None
    for event in events:
        change = correlator.feed(ACCOUNT, event)
        if change is not None and change.kind is ChangeKind.FINISHED:
            finished = change.call
    assert finished is not None, "the call never finished"
    assert len(correlator.calls(ACCOUNT)) == 1, "events of one call ended up in several calls"
    return build_records(finished)


def _parsed(trace: dict[str, Any], ids: dict[str, int]) -> list[CallEvent]:
    by_id = {str(v): v for v in ids.values()}

    def resolve(ext_id: str | None, _number: str | None) -> int | None:
        return by_id.get(ext_id or "")

    return [parse_event(e, resolve) for e in build_events(trace, ids)]


def _check(records: list[CallRecord], trace: dict[str, Any], ids: dict[str, int]) -> None:
    by_owner = {r.extension_id: r for r in records}
    assert len(by_owner) == len(records), "two records for one owner"
    expected = trace["expect"]
    assert len(records) == len(expected), [(r.extension_id, r.result) for r in records]
    for exp in expected:
        owner = None if exp["owner"] == "company" else ids[exp["owner"]]
        rec = by_owner.get(owner)
        assert rec is not None, f"no record for {exp['owner']}"
        where = f"record of {exp['owner']}"
        simple = {
            "direction": rec.direction.value,
            "result": rec.result.value if rec.result else None,
            "action": rec.action.value,
            "transport": rec.transport.value if rec.transport else None,
            "session_id": rec.session_id,
            "reason_description": rec.reason_description,
        }
        for key, value in simple.items():
            if key in exp:
                assert value == exp[key], f"{where}: {key} {value!r} != {exp[key]!r}"
        if "from" in exp:
            assert rec.from_party is not None and rec.from_party.phone_number == exp["from"]
        if "legs" in exp:
            assert [leg.leg_type.value for leg in rec.legs] == exp["legs"], where
        if "leg_results" in exp:
            got = [leg.result.value if leg.result else None for leg in rec.legs]
            assert got == exp["leg_results"], where
        if "master_leg" in exp:
            masters = [n for n, leg in enumerate(rec.legs) if leg.master]
            assert masters == [exp["master_leg"]], f"{where}: master legs {masters}"
        if "duration" in exp:
            assert rec.duration == exp["duration"], f"{where}: duration {rec.duration}"
        if "disconnected_by" in exp:
            got_by = rec.cdr.disconnected_by.value if rec.cdr.disconnected_by else None
            assert got_by == exp["disconnected_by"], where
        if "transfer_target" in exp:
            assert rec.transfer_target_session_id == exp["transfer_target"], where
        if "recording" in exp:
            assert rec.recording is not None and rec.recording.id == str(exp["recording"])


TRACE_FILES = all_traces()


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
    in_order = _correlate(events)
    rng = random.Random(path.stem)
    for _ in range(5):
        shuffled = events + rng.sample(events, k=min(3, len(events)))
        rng.shuffle(shuffled)
        # Whatever the arrival order, the call finishes only when its last party leaves, and
        # the finished call's records are the same.
        correlator = Correlator()
        last_finished = None
        for event in shuffled:
            change = correlator.feed(ACCOUNT, event)
            if change is not None and change.kind is ChangeKind.FINISHED:
                last_finished = change.call
        assert last_finished is not None
        assert build_records(last_finished) == in_order

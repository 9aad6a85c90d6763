"""Encoding stability: what the write path stores for a record must not change when the
encoders are reworked. The ``summary`` and ``legs`` blobs are covered by the stored content
hash (a changed byte makes every stored call look changed), and target ids are compared with
rows already stored, so both must come out byte for byte as before.

``tests/golden/encoding/<source>.json`` holds varied records (scenario traces through the
correlator, the PortSIP fixture files, benchmark-shaped calls, hand-made edge cases), each
with the blobs, the ``call_targets`` rows and the ``targets_of`` targets the encoders gave
for it when the file was written. The records themselves are kept in the file in a generic
form, so these checks do not move when the correlator or an importer changes.

``CALLVAULT_UPDATE_GOLDEN=1`` rebuilds the files from their sources with the current code:
only for an intended change of the stored format (stored hashes and target ids change too).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from callvault.domain import enums, targets
from callvault.domain.calls import (
    Billing,
    CallRecord,
    CdrFacts,
    Delegate,
    Leg,
    Message,
    Party,
    Recording,
)
from callvault.domain.enums import (
    Action,
    CallType,
    DelegationType,
    Direction,
    Disconnector,
    InternalType,
    LegType,
    Reason,
    RecordingType,
    Result,
    Transport,
)
from callvault.domain.targets import targets_of
from callvault.storage.codec import decode_record, encode_legs, encode_summary
from callvault.storage.targets import target_rows

GOLDEN = Path(__file__).parent / "golden" / "encoding"
ACCOUNT_ID = 400_000_001
UPDATE = os.environ.get("CALLVAULT_UPDATE_GOLDEN") == "1"

# -- records and targets as plain JSON (dataclasses, enums and datetimes tagged) --------------

_CLASSES: dict[str, type[Any]] = {
    c.__name__: c for c in (CallRecord, Leg, Party, CdrFacts, Recording, Message, Delegate, Billing)
}
_ENUMS: dict[str, type[StrEnum]] = {
    name: value
    for module in (enums, targets)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
}


def _is_default(f: dataclasses.Field[Any], value: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return bool(value == f.default and type(value) is type(f.default))
    if f.default_factory is not dataclasses.MISSING:
        return bool(value == f.default_factory())
    return False


def dump(value: Any) -> Any:
    """A dataclass, enum member, datetime, list or plain value as JSON-ready data."""
    if isinstance(value, StrEnum):
        return {"enum": type(value).__name__, "value": value.value}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: dump(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not _is_default(f, getattr(value, f.name))
        }
        return {"class": type(value).__name__, "fields": fields}
    if isinstance(value, list):
        return [dump(v) for v in value]
    assert value is None or type(value) in (str, int, float, bool), repr(value)
    return value


def load(data: Any) -> Any:
    if isinstance(data, list):
        return [load(v) for v in data]
    if isinstance(data, dict):
        if "enum" in data:
            return _ENUMS[data["enum"]](data["value"])
        if "datetime" in data:
            return datetime.fromisoformat(data["datetime"])
        return _CLASSES[data["class"]](**{k: load(v) for k, v in data["fields"].items()})
    return data


def canonical(data: Any) -> str:
    """JSON text that tells ``True`` from ``1`` and ``1.0`` from ``1``."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


# -- what the encoders give for a record --------------------------------------------------------


def encoded(record: CallRecord) -> dict[str, Any]:
    rows = target_rows(ACCOUNT_ID, record)
    for row in rows:
        for key, value in row.items():
            # Plain values only: rows go to the drivers as they are and are compared with
            # stored rows (and the canonical JSON below would not tell a StrEnum from a str).
            assert value is None or type(value) in (str, int, float, bool), (key, value)
    return {
        "summary": encode_summary(record).decode(),
        "legs": encode_legs(record.legs).decode(),
        "target_rows": rows,
        "targets": dump(targets_of(record)),
    }


def golden_files() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


@pytest.mark.skipif(UPDATE, reason="rewriting the golden files")
@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_encoders_reproduce_the_golden_output(path: Path) -> None:
    cases = json.loads(path.read_text())
    assert cases, path
    for case in cases:
        record = load(case["record"])
        got = encoded(record)
        name = case["name"]
        # The blobs byte for byte: the content hash is taken over them.
        assert got["summary"].encode() == case["summary"].encode(), f"{name}: summary"
        assert got["legs"].encode() == case["legs"].encode(), f"{name}: legs"
        assert canonical(got["target_rows"]) == canonical(case["target_rows"]), f"{name}: rows"
        assert canonical(got["targets"]) == canonical(case["targets"]), f"{name}: targets"


@pytest.mark.skipif(UPDATE, reason="rewriting the golden files")
@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_decoding_gives_back_what_was_stored(path: Path) -> None:
    """Decoded and encoded again, every golden record gives the same bytes, with enum
    members, parties, CDR facts and aware times where the model has them."""
    for case in json.loads(path.read_text()):
        summary, legs = case["summary"].encode(), case["legs"].encode()
        record = decode_record(summary, legs=legs, deleted=True, modified_ms=1_700_000_000_123)
        name = case["name"]
        assert encode_summary(record) == summary, f"{name}: summary"
        assert encode_legs(record.legs) == legs, f"{name}: legs"
        assert record.deleted is True
        assert record.last_modified_time == datetime(2023, 11, 14, 22, 13, 20, 123000, UTC)
        for part in (record, *record.legs):
            assert type(part.type) is CallType and type(part.direction) is Direction
            assert part.result is None or type(part.result) is Result, name
            assert part.start_time.tzinfo is UTC, name
            assert isinstance(part.cdr, CdrFacts), name
            times = (part.cdr.ring_time, part.cdr.answer_time, part.cdr.end_time)
            assert all(t is None or t.tzinfo is UTC for t in times), name
            who = part.cdr.disconnected_by
            assert who is None or type(who) is Disconnector, name
            for party in (part.from_party, part.to_party):
                assert party is None or type(party) is Party, name
        assert all(type(leg.leg_type) is LegType for leg in record.legs), name


@pytest.mark.skipif(UPDATE, reason="rewriting the golden files")
def test_the_golden_records_are_varied() -> None:
    """The files keep covering the shapes the encoders branch on."""
    records: list[CallRecord] = [
        load(case["record"]) for path in golden_files() for case in json.loads(path.read_text())
    ]
    assert len(records) >= 50
    legs = [leg for r in records for leg in r.legs]
    bases = [*records, *legs]
    leg_types = {leg.leg_type for leg in legs}
    assert {LegType.FIND_ME, LegType.TRANSFER_CALL, LegType.RINGOUT_WEB_TO_CALLER} <= leg_types
    results = {b.result for b in bases}
    assert {Result.VOICEMAIL, Result.MISSED, Result.BUSY, Result.ANSWERED_ELSEWHERE} <= results
    assert any(not r.legs for r in records) and any(r.extension_id is None for r in records)
    assert any(len({leg.extension_id for leg in r.legs} - {None}) > 1 for r in records)
    for attr in ("recording", "billing", "delegate", "message", "transport", "delegation_type"):
        assert any(getattr(b, attr) is not None for b in bases), attr
    assert any(b.short_recording for b in bases) and any(b.metadata_categories for b in bases)
    for attr in (f.name for f in dataclasses.fields(CdrFacts)):
        assert any(getattr(b.cdr, attr) is not None for b in bases), attr
    assert any(b.start_time.microsecond % 1000 for b in bases)  # sub-millisecond times


def test_each_target_field_comes_from_its_own_source() -> None:
    """``targets_of`` builds targets positionally; every field here has a value of its own."""
    cdr = CdrFacts(
        ring_time=T0 + timedelta(seconds=1),
        answer_time=T0 + timedelta(seconds=2),
        end_time=T0 + timedelta(seconds=64),
        disconnected_by=Disconnector.CALLER,
        reroute_reason="BlindTransfer",
        sip_call_id="call-id",
        sip_status_code=486,
        trunk="trunk",
        did="did",
        outbound_caller_id="obcid",
        cost=1.25,
        billed_account="billed",
        user_data="user-data",
        from_domain="from.example",
        to_domain="to.example",
        destination="destination",
        service_number="service",
        reached_by="overflow",
    )
    other = _leg(OUTSIDE, BEN, extension_id=9001, start_time=T0 - timedelta(seconds=5))
    callee = Party(extension_number="101", name="Ada")
    leg = _leg(OUTSIDE, callee, leg_type=LegType.ACCEPT, cdr=cdr)
    # Listed in the company view by the first extension's record, not among its own calls.
    record = _rec("F1", 9001, [other, leg])
    (_, got) = targets_of(record)
    want = {
        "session_id": "S-F1",
        "position": 1,
        "caller": "+14155550100",
        "caller_domain": "from.example",
        "caller_name": "Caller",
        "callee": "101",
        "callee_domain": "to.example",
        "callee_name": "Ada",
        "started": T0,
        "rang": T0 + timedelta(seconds=1),
        "answered": T0 + timedelta(seconds=2),
        "ended": T0 + timedelta(seconds=64),
        "call_id": "call-id",
        "direction": targets.TargetDirection.INBOUND,
        "end_reason": targets.EndReason.BLIND_TRANSFER,
        "rerouted_by": targets.Rerouting.OVERFLOW,
        "status_code": 486,
        "destination": "destination",
        "outbound_caller_id": "obcid",
        "did": "did",
        "trunk": "trunk",
        "talk_seconds": 62,
        "cost": 1.25,
        "billed_account": "billed",
        "service_number": "service",
        "user_data": "user-data",
        "in_company_log": True,
        "in_owner_log": False,
    }
    assert {name: getattr(got, name) for name in want} == want
    assert len(got.id) == 20 and set(want) | {"id"} == {
        f.name for f in dataclasses.fields(targets.CallTarget)
    }


# -- rebuilding the files (CALLVAULT_UPDATE_GOLDEN=1) -------------------------------------------


@pytest.mark.skipif(not UPDATE, reason="set CALLVAULT_UPDATE_GOLDEN=1 to rewrite")
def test_write_golden_files() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for source, build in SOURCES.items():
        cases = [
            {"name": name, "record": dump(record), **encoded(record)} for name, record in build()
        ]
        # Each record must come back from its stored form as it was built.
        for case, (_, record) in zip(cases, build(), strict=True):
            assert load(case["record"]) == record, case["name"]
        # One line per part of a case: small files whose diffs still show which case moved.
        text = ",\n".join(
            "{\n" + ",\n".join(f"{json.dumps(k)}: {_compact(v)}" for k, v in case.items()) + "\n}"
            for case in cases
        )
        (GOLDEN / f"{source}.json").write_text(f"[\n{text}\n]\n", encoding="utf-8")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


Named = Iterator[tuple[str, CallRecord]]


def _trace_records() -> Named:
    """Every scenario trace's events through the parser and correlator: the records made."""
    from callvault.correlator.correlator import ChangeKind, Correlator
    from callvault.correlator.records import build_records
    from callvault.importers.native_events import parse_event
    from tests.traces import all_traces, build_events, extension_ids
    from tests.traces import load as load_trace

    def resolver(ids: dict[str, int]) -> Callable[[str | None, str | None], int | None]:
        by_id = {str(v): v for v in ids.values()}
        return lambda ext_id, _number: by_id.get(ext_id or "")

    for path in all_traces():
        trace = load_trace(path)
        ids = extension_ids(trace)
        resolve = resolver(ids)
        correlator = Correlator()
        finished = None
        for event in build_events(trace, ids):
            change = correlator.feed(1, parse_event(event, resolve))
            if change is not None and change.kind is ChangeKind.FINISHED:
                finished = change.call
        assert finished is not None, path
        for record in build_records(finished):
            yield f"{path.stem}/{record.extension_id or 'company'}", record


def _portsip_records() -> Named:
    """The PortSIP fixture files (REST records and webhook bodies) through the importer."""
    from callvault.importers.portsip_files import iter_file_items
    from callvault.importers.portsip_json import records_from
    from tests.portsip_support import FILES, FIXTURE_FILES

    exts = {"101": 9001, "102": 9002, "103": 9003}

    def resolve(_ext_id: str | None, number: str | None) -> int | None:
        return exts.get(number or "")

    for name in FIXTURE_FILES:
        with (FILES / name).open("rb") as fh:
            for n, item in enumerate(iter_file_items(fh)):
                for record in records_from(item, resolve) or []:
                    yield f"{name}/{n}/{record.extension_id or 'company'}", record


def _bench_records() -> Named:
    """Calls shaped as the ingest benchmark's (what the timings are measured on)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._common import bench_extensions, realistic_calls

    for record in realistic_calls(16, extensions=bench_extensions(5), seed=3):
        yield f"bench/{record.id}", record


T0 = datetime(2026, 3, 2, 9, 0, 0, 123_456, tzinfo=UTC)
ADA = Party(phone_number="+16505550101", extension_number="101", extension_id="9001", name="Ada")
BEN = Party(extension_number="102", extension_id="9002", name="Ben Ünal")
OUTSIDE = Party(phone_number="+14155550100", name="Caller", location="Austin, TX")
MOBILE = Party(phone_number="+16505550999")


def _leg(frm: Party | None, to: Party | None, **kw: Any) -> Leg:
    base: dict[str, Any] = {
        "direction": Direction.INBOUND,
        "start_time": T0,
        "duration_ms": 30_000,
        "result": Result.ACCEPTED,
        "from_party": frm,
        "to_party": to,
    }
    return Leg(**{**base, **kw})


def _rec(rid: str, owner: int | None, legs: list[Leg], **kw: Any) -> CallRecord:
    base: dict[str, Any] = {
        "id": rid,
        "session_id": f"S-{rid}",
        "extension_id": owner,
        "direction": Direction.INBOUND,
        "start_time": T0,
        "duration_ms": 60_000,
        "result": Result.ACCEPTED,
        "from_party": OUTSIDE,
        "to_party": ADA,
        "legs": legs,
    }
    return CallRecord(**{**base, **kw})


def _edge_records() -> Named:
    """Hand-made records for the branches real data rarely takes."""
    full_party = Party(
        phone_number="+16505550101",
        extension_number="101",
        extension_id="9001",
        name="Ada 🎧 Admin",
        location="Zürich",
        device_id="dev-1",
        dialer_phone_number="(650) 555-0101",
        dialed_phone_number="6505550101",
    )
    full_cdr = CdrFacts(
        ring_time=T0 + timedelta(milliseconds=700),
        answer_time=T0 + timedelta(seconds=3, microseconds=999),
        end_time=T0 + timedelta(seconds=47, milliseconds=501),
        disconnected_by=Disconnector.CALLEE,
        reroute_reason=None,
        sip_call_id="abc@10.0.0.1",
        sip_status_code=200,
        trunk="trunk-1",
        did="+16505550111",
        outbound_caller_id="+16505550100",
        cost=0.1 + 0.2,
        billed_account="acct-7",
        user_data="order=42",
        from_domain="203.0.113.7",
        to_domain="acme.example",
        destination="sip:101@acme.example",
        service_number="8000",
        reached_by="forwarding_no_answer",
    )
    yield (
        "edge/everything",
        _rec(
            "E1",
            9001,
            [
                _leg(OUTSIDE, full_party, leg_type=LegType.ACCEPT, master=True, cdr=full_cdr),
                _leg(
                    OUTSIDE,
                    MOBILE,
                    leg_type=LegType.FIND_ME,
                    result=Result.MISSED,
                    extension_id=9001,
                    delegation_type=DelegationType.COWORKER,
                    finished=False,
                ),
            ],
            type=CallType.VOICE,
            action=Action.FIND_ME,
            reason=Reason.ACCEPTED,
            reason_description="Call connected",
            telephony_session_id="s-e1",
            sip_uuid_info="uuid-e1",
            transfer_target_session_id="s-e1-target",
            transferee_session_id="s-e1-transferee",
            party_id="p-1",
            transport=Transport.VOIP,
            from_party=full_party,
            message=Message("msg-1", "VoiceMail", "https://example.test/msg-1"),
            delegate=Delegate("9002", "Ben"),
            delegation_type=DelegationType.QUEUE_FORWARDING,
            recording=Recording("rec-1", RecordingType.ON_DEMAND, "https://x.test/r", held=True),
            short_recording=True,
            billing=Billing(0.25, 1.5),
            internal_type=InternalType.SIP,
            metadata_categories=["Sales", "VIP"],
            finished=True,
            cdr=full_cdr,
        ),
    )
    yield (
        "edge/voicemail-message",
        _rec(
            "E2",
            9001,
            [_leg(OUTSIDE, ADA, leg_type=LegType.ACCEPT, result=Result.VOICEMAIL, master=True)],
            result=Result.VOICEMAIL,
            reason=Reason.NOT_ANSWERED,
            message=Message("vm-2", "VoiceMail"),
            recording=Recording("rec-2"),
            billing=Billing(),
            delegate=Delegate("9002"),
        ),
    )
    # No legs: the record is its own target; for an owner and for the company only.
    bare = CdrFacts(disconnected_by=Disconnector.CALLER)
    yield "edge/no-legs-owner", _rec("E3", 9001, [], cdr=bare)
    yield "edge/no-legs-company", _rec("E4", None, [], result=Result.MISSED, cdr=bare)
    yield "edge/no-legs-deleted", _rec("E5", 9001, [], deleted=True, to_party=None)
    # Every hand-on word and some spellings of them; unknown words end in no reason.
    hand_on = [
        "BlindTransfer",
        "blind transfer",
        "RCC_Transfer",
        "DTMF-Transfer",
        "AttendedTransfer",
        "Consult Transfer",
        "WARM_TRANSFER",
        "CallerInputRedirect",
        "Referred",
        "Pickup",
        "CallFlip",
        "CallSwitch",
        "TakeOver",
        "CallPark",
        "ParkLocation",
        "Replaced",
        "CallRedirected",
        "redirected",
        "Something new",
        "",
        "Transférer",
        # Full-width letters are letters to ``isalnum`` but stay full-width: no hand-on word.
        "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "blind transfer"),
        "Blind\x00Transfer",
    ]
    for start in (0, 12):
        legs = [
            _leg(
                OUTSIDE,
                BEN if n % 2 else ADA,
                leg_type=LegType.TRANSFER_CALL if n % 3 else LegType.ACCEPT,
                extension_id=9002 if n % 2 else 9001,
                start_time=T0 + timedelta(seconds=n),
                result=Result.ACCEPTED if n % 4 else Result.MISSED,
                cdr=CdrFacts(
                    reroute_reason=word,
                    disconnected_by=(Disconnector.CALLER, Disconnector.CALLEE, None)[n % 3],
                ),
            )
            for n, word in enumerate(hand_on[start : start + 12], start=start)
        ]
        yield f"edge/hand-on-{start}", _rec(f"E6-{start}", 9001, legs)
    # Why the call came to a leg: the CDR's words, else the leg type or delegation.
    reached = [
        "forwarding_away",
        "Forwarding Busy",
        "QUEUE_EXIT",
        "overflow",
        "Capacity-Blocked",
        "transfer",
        "redirect",
        "Forwarding Night Mode",
        "no such thing",
        None,
    ]
    legs = [
        _leg(
            OUTSIDE,
            ADA,
            leg_type=LegType.TRANSFER_CALL if n == 9 else LegType.ACCEPT,
            start_time=T0 + timedelta(milliseconds=250 * n),
            cdr=CdrFacts(reached_by=word),
        )
        for n, word in enumerate(reached)
    ]
    legs.append(_leg(OUTSIDE, ADA, delegation_type=DelegationType.QUEUE_FORWARDING))
    yield "edge/reached-by", _rec("E7", 9001, legs)
    # SIP statuses, and the outcome's status when the CDR has none.
    statuses: list[tuple[int | None, Result | None]] = [
        (100, Result.ACCEPTED),
        (180, Result.MISSED),
        (200, Result.ACCEPTED),
        (299, Result.ACCEPTED),
        (300, Result.MISSED),
        (404, Result.WRONG_NUMBER),
        (480, Result.MISSED),
        (None, Result.BUSY),
        (None, Result.DECLINED),
        (None, Result.BLOCKED),
        (None, Result.INTERNAL_ERROR),
        (None, Result.MISSED),
        (None, Result.ANSWERED_ELSEWHERE),
        (None, None),
    ]
    legs = [
        _leg(OUTSIDE, ADA, result=result, cdr=CdrFacts(sip_status_code=code), party_id=f"p{n}")
        for n, (code, result) in enumerate(statuses)
    ]
    yield "edge/status-codes", _rec("E8", 9001, legs, result=Result.BUSY)
    # Clipping to the stored widths, and NUL (PostgreSQL refuses it in text).
    long = "x" * 1100
    clipped = CdrFacts(
        sip_call_id=long,
        trunk="tr\x00unk",
        did="1" * 300,
        outbound_caller_id="2" * 100,
        cost=0.0,
        billed_account=long,
        user_data="u" * 4000 + "\x00v",
        from_domain=long,
        to_domain="\x00",
        destination=long,
        service_number="3" * 300,
    )
    big = Party(phone_number="4" * 300, name="N" * 2000)
    yield (
        "edge/clipping",
        _rec("E9", 9001, [_leg(big, Party(extension_number="5" * 300, name=long), cdr=clipped)]),
    )
    # The same leg twice (a re-sent CDR row): the ids count occurrences.
    twice = _leg(OUTSIDE, ADA, leg_type=LegType.ACCEPT, party_id="p-1", telephony_session_id="s")
    yield "edge/duplicate-legs", _rec("E10", 9001, [twice, twice, twice])
    # Directions from each side's inside-ness; a side unknown; forwarding back out.
    legs = [
        _leg(ADA, BEN),
        _leg(OUTSIDE, ADA),
        _leg(ADA, OUTSIDE, direction=Direction.OUTBOUND),
        _leg(OUTSIDE, MOBILE, leg_type=LegType.FIND_ME),
        _leg(OUTSIDE, MOBILE, leg_type=LegType.FOLLOW_ME),
        _leg(OUTSIDE, MOBILE, leg_type=LegType.SIP_TO_PSTN_UNMETERED),
        _leg(OUTSIDE, MOBILE, leg_type=LegType.ACCEPT),
        _leg(None, None, direction=Direction.OUTBOUND),
        _leg(None, ADA),
        _leg(Party(extension_id="9003"), None),
        _leg(Party(), Party(phone_number="")),
    ]
    yield "edge/directions", _rec("E11", None, legs)
    # Ownership: the first extension in leg order lists the legs of no extension.
    legs = [
        _leg(OUTSIDE, Party(phone_number="+16505550100"), leg_type=LegType.ACCEPT),
        _leg(OUTSIDE, BEN, extension_id=9002, result=Result.ANSWERED_ELSEWHERE),
        _leg(OUTSIDE, ADA, extension_id=9001, master=True),
        _leg(ADA, MOBILE, leg_type=LegType.FIND_ME),
    ]
    for owner in (9001, 9002, 9003, None):
        yield f"edge/ownership-{owner}", _rec(f"E12-{owner}", owner, legs)
    # The owner's legs name no one: the owner sees them all.
    legs = [_leg(OUTSIDE, MOBILE), _leg(MOBILE, OUTSIDE, result=Result.MISSED)]
    yield "edge/owner-named-nowhere", _rec("E13", 9005, legs)
    # Times: no end (start + duration), answered without an answer time, an end before the
    # answer, another zone's offset, microseconds.
    other_zone = timezone(timedelta(hours=-7, minutes=-30))
    legs = [
        _leg(OUTSIDE, ADA, duration_ms=12_345, master=True),
        _leg(OUTSIDE, ADA, cdr=CdrFacts(answer_time=T0 + timedelta(seconds=9), end_time=T0)),
        _leg(
            OUTSIDE,
            BEN,
            start_time=datetime(2026, 3, 2, 1, 30, 0, 999_999, tzinfo=other_zone),
            duration_ms=1_499,
            cdr=CdrFacts(
                ring_time=datetime(2026, 3, 2, 1, 30, 1, 1, tzinfo=other_zone),
                answer_time=datetime(2026, 3, 2, 1, 30, 1, 500_500, tzinfo=other_zone),
            ),
        ),
        _leg(OUTSIDE, ADA, duration_ms=0, result=Result.IN_PROGRESS),
    ]
    yield (
        "edge/times",
        _rec(
            "E14",
            9001,
            legs,
            start_time=datetime(2026, 3, 2, 1, 30, 0, 1, tzinfo=other_zone),
            cdr=CdrFacts(disconnected_by=Disconnector.CALLEE),
        ),
    )
    # Who hung up: the record's own fact goes to the answering leg (the master one).
    legs = [
        _leg(OUTSIDE, ADA, extension_id=9001),
        _leg(OUTSIDE, BEN, extension_id=9002, master=True),
        _leg(OUTSIDE, BEN, extension_id=9002, cdr=CdrFacts(disconnected_by=Disconnector.SYSTEM)),
    ]
    for who in Disconnector:
        yield (
            f"edge/fallback-{who}",
            _rec(f"E15-{who}", 9002, legs, cdr=CdrFacts(disconnected_by=who)),
        )
    # A fax, outbound, with no parties at all.
    yield (
        "edge/fax",
        _rec(
            "E16",
            9001,
            [_leg(None, None, leg_type=LegType.FAX_SENT, result=Result.SENT, master=False)],
            type=CallType.FAX,
            action=Action.OUTGOING_FAX,
            direction=Direction.OUTBOUND,
            result=Result.SENT,
            from_party=None,
            to_party=None,
            duration_ms=0,
        ),
    )


SOURCES: dict[str, Callable[[], Named]] = {
    "traces": _trace_records,
    "portsip": _portsip_records,
    "bench": _bench_records,
    "edge": _edge_records,
}

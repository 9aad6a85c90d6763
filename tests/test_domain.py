"""Domain rules: enum spellings and outcome rules, defined once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callvault.domain.calls import CallRecord, Leg, Party
from callvault.domain.enums import Action, Direction, LegType, Reason, Result, parse_enum
from callvault.domain.outcome import Outcome, is_answered, is_missed, outcome_of, who_answered

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("enum", "spelling", "expected"),
    [
        (Reason, "line Busy", Reason.LINE_BUSY),  # older spec's lower-case spelling
        (Reason, "DescNoE911Address", Reason.EMERGENCY_ADDRESS_NOT_DEFINED),
        (Result, "Call Connected", Result.CALL_CONNECTED),
        (Result, "ResultEmpty", Result.UNKNOWN),
        (Result, "No fax machine", Result.FAX_NOT_SENT),
        (Action, "411 Info", Action.UNKNOWN),
        (Action, "ringout web", Action.RINGOUT_WEB),
        (LegType, "RINGOUT_WEB_TO_CALLER", LegType.RINGOUT_WEB_TO_CALLER),
        (Direction, "inbound", Direction.INBOUND),
    ],
)
def test_every_historical_spelling_is_accepted(enum: type, spelling: str, expected: object) -> None:
    assert parse_enum(enum, spelling) is expected


def test_unknown_spelling_names_the_accepted_values() -> None:
    with pytest.raises(ValueError, match="Inbound, Outbound"):
        parse_enum(Direction, "Sideways")


def test_enums_are_complete() -> None:
    assert (len(Action), len(Result), len(Reason), len(LegType)) == (36, 45, 39, 43)


def _record(
    result: Result, direction: Direction = Direction.INBOUND, legs: list[Leg] | None = None
) -> CallRecord:
    return CallRecord(
        id="R1",
        session_id="1",
        direction=direction,
        start_time=T0,
        result=result,
        to_party=Party(name="Front desk"),
        legs=legs or [],
    )


def test_missed_inbound_and_voicemail_count_as_missed() -> None:
    assert is_missed(_record(Result.MISSED))
    assert is_missed(_record(Result.VOICEMAIL))
    assert not is_missed(_record(Result.ACCEPTED))


def test_answered_elsewhere_is_not_missed() -> None:
    # A ring-group member whose colleague took the call did not miss it.
    rec = _record(Result.ANSWERED_ELSEWHERE)
    assert not is_missed(rec)
    assert outcome_of(rec) is Outcome.ANSWERED_ELSEWHERE


def test_outbound_no_answer_is_not_missed() -> None:
    assert not is_missed(_record(Result.NO_ANSWER, Direction.OUTBOUND))


def test_who_answered_prefers_the_answering_master_leg() -> None:
    ring_a = Leg(
        direction=Direction.INBOUND,
        start_time=T0,
        result=Result.MISSED,
        leg_type=LegType.FIND_ME,
        to_party=Party(name="Mobile"),
    )
    ring_b = Leg(
        direction=Direction.INBOUND,
        start_time=T0,
        result=Result.ACCEPTED,
        leg_type=LegType.ACCEPT,
        to_party=Party(name="Desk phone"),
        master=True,
    )
    rec = _record(Result.ACCEPTED, legs=[ring_a, ring_b])
    assert is_answered(rec)
    party = who_answered(rec)
    assert party is not None and party.name == "Desk phone"
    assert who_answered(_record(Result.MISSED)) is None

"""Outcome rules, defined once: is a call answered, missed, and who answered it.

Every face, filter, export and statistic asks these functions rather than re-deriving the answer
from raw results, so "missed" means the same thing on every screen.
"""

from __future__ import annotations

from enum import StrEnum

from callvault.domain.calls import CallBase, CallRecord, Leg, Party
from callvault.domain.enums import Direction, Result


class Outcome(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    REJECTED = "rejected"
    FAILED = "failed"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    IN_PROGRESS = "in_progress"
    UNKNOWN = "unknown"


_OUTCOME_BY_RESULT: dict[Result, Outcome] = {
    Result.ACCEPTED: Outcome.ANSWERED,
    Result.CALL_CONNECTED: Outcome.ANSWERED,
    Result.RECEIVED: Outcome.ANSWERED,
    Result.SENT: Outcome.ANSWERED,
    Result.REPLY: Outcome.ANSWERED,
    Result.MISSED: Outcome.MISSED,
    Result.ABANDONED: Outcome.MISSED,
    Result.HANG_UP: Outcome.MISSED,
    Result.NO_ANSWER: Outcome.MISSED,
    Result.VOICEMAIL: Outcome.VOICEMAIL,
    Result.SENT_TO_VOICEMAIL: Outcome.VOICEMAIL,
    Result.BUSY: Outcome.BUSY,
    Result.REJECTED: Outcome.REJECTED,
    Result.DECLINED: Outcome.REJECTED,
    Result.BLOCKED: Outcome.REJECTED,
    Result.ANSWERED_ELSEWHERE: Outcome.ANSWERED_ELSEWHERE,
    Result.IN_PROGRESS: Outcome.IN_PROGRESS,
    Result.UNKNOWN: Outcome.UNKNOWN,
}

# Results that mean a call was "missed" for RingCentral's statusGroup=Missed sync filter.
MISSED_RESULTS: frozenset[Result] = frozenset(
    r for r, o in _OUTCOME_BY_RESULT.items() if o in (Outcome.MISSED, Outcome.VOICEMAIL)
)


def outcome_of(record: CallBase) -> Outcome:
    """Return the outcome of a record or leg from its result (``FAILED`` for error results)."""
    if record.result is None:
        return Outcome.UNKNOWN
    return _OUTCOME_BY_RESULT.get(record.result, Outcome.FAILED)


def is_answered(record: CallBase) -> bool:
    """True when a person or device actually took the call (not voicemail, not elsewhere)."""
    return outcome_of(record) is Outcome.ANSWERED


def is_missed(record: CallRecord) -> bool:
    """True for an inbound call nobody took: missed, abandoned, or sent to voicemail.

    Outbound calls are never "missed" (the caller's unanswered call is a ``No Answer``), and a
    ring-group member whose colleague answered sees "Answered Elsewhere", not a miss.
    """
    return record.direction is Direction.INBOUND and record.result in MISSED_RESULTS


def answering_leg(record: CallRecord) -> Leg | None:
    """The leg on which the call was answered, preferring the master leg; None if unanswered."""
    answered = [leg for leg in record.legs if is_answered(leg)]
    for leg in answered:
        if leg.master:
            return leg
    return answered[-1] if answered else None


def who_answered(record: CallRecord) -> Party | None:
    """The party that answered: the callee side of the answering leg, or of the record."""
    leg = answering_leg(record)
    if leg is not None:
        return leg.to_party
    return record.to_party if is_answered(record) else None

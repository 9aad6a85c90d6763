"""RingOut status from a call's legs, defined once: what ``callerStatus``, ``calleeStatus`` and
``callStatus`` say about a two-legged RingOut, live or finished.

A RingOut rings the user's own phone first (the ``…ToCaller`` leg) and, once that answers, the
number they asked to call (the ``…ToSubscriber`` leg). Each status comes from its leg alone;
the call status combines both (call-log reference §10). The same function reads a record built
from a call still in progress (legs "In Progress", with an answer time once answered) and a
finished record from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callvault.domain.calls import CallRecord, Leg
from callvault.domain.enums import LegType, Result
from callvault.domain.outcome import is_answered


class RingOutStatus(StrEnum):
    """RingCentral's ``CallingStatusInfo``, shared by the call and both parties.

    ``NoSuchUser`` is left out: its spelling differs between spec versions (``NosuchUser`` in
    the newest), so a wrong number is reported as ``GenericError`` instead.
    """

    INVALID = "Invalid"
    SUCCESS = "Success"
    IN_PROGRESS = "InProgress"
    BUSY = "Busy"
    NO_ANSWER = "NoAnswer"
    NOT_SUPPORTED = "RingOutFromThisNumberIsNotSupported"
    REJECTED = "Rejected"
    GENERIC_ERROR = "GenericError"
    FINISHED = "Finished"
    INTERNATIONAL_DISABLED = "InternationalDisabled"
    DESTINATION_BLOCKED = "DestinationBlocked"
    NOT_ENOUGH_FUNDS = "NotEnoughFunds"
    ERROR = "Error"
    CANNOT_REACH = "CannotReach"
    NO_ANSWERING_MACHINE = "NoAnsweringMachine"
    NO_SESSION_FOUND = "NoSessionFound"
    UNKNOWN = "Unknown"


@dataclass(slots=True, frozen=True)
class RingOutStatusInfo:
    call: RingOutStatus
    caller: RingOutStatus
    callee: RingOutStatus


# Nothing reported yet: the phone system is about to ring the user.
CONNECTING = RingOutStatusInfo(
    RingOutStatus.IN_PROGRESS, RingOutStatus.IN_PROGRESS, RingOutStatus.IN_PROGRESS
)
# Cancelled before the phone system reported anything: the user's phone was dropped and the
# callee never dialled (as ``ringout_status`` says once the hang-up is reported).
CANCELLED = RingOutStatusInfo(
    RingOutStatus.CANNOT_REACH, RingOutStatus.REJECTED, RingOutStatus.NO_SESSION_FOUND
)
# The phone system never reported the call: there is no session to speak of.
NEVER_REPORTED = RingOutStatusInfo(
    RingOutStatus.CANNOT_REACH, RingOutStatus.NO_SESSION_FOUND, RingOutStatus.NO_SESSION_FOUND
)

CALLER_LEGS = frozenset(
    {
        LegType.RINGOUT_WEB_TO_CALLER,
        LegType.RINGOUT_CLIENT_TO_CALLER,
        LegType.RINGOUT_DEVICE_TO_CALLER,
        LegType.RINGOUT_ONE_LEG_TO_CALLER,
    }
)
CALLEE_LEGS = frozenset(
    {
        LegType.RINGOUT_WEB_TO_SUBSCRIBER,
        LegType.RINGOUT_CLIENT_TO_SUBSCRIBER,
        LegType.RINGOUT_DEVICE_TO_SUBSCRIBER,
    }
)

# How a leg that ended without being answered ended, in RingOut's words. A leg dropped
# without a reason of its own ("Hang Up": the RingOut was cancelled, or the other leg left
# first) is "Rejected", as the guide describes cancelling.
_UNANSWERED: dict[Result, RingOutStatus] = {
    Result.BUSY: RingOutStatus.BUSY,
    Result.NO_ANSWER: RingOutStatus.NO_ANSWER,
    Result.MISSED: RingOutStatus.NO_ANSWER,
    Result.VOICEMAIL: RingOutStatus.NO_ANSWER,
    Result.REJECTED: RingOutStatus.REJECTED,
    Result.DECLINED: RingOutStatus.REJECTED,
    Result.HANG_UP: RingOutStatus.REJECTED,
    Result.ABANDONED: RingOutStatus.REJECTED,
    Result.INTERNATIONAL_DISABLED: RingOutStatus.INTERNATIONAL_DISABLED,
    Result.INTERNATIONAL_RESTRICTED: RingOutStatus.INTERNATIONAL_DISABLED,
    Result.BLOCKED: RingOutStatus.DESTINATION_BLOCKED,
    Result.RESTRICTED_NUMBER: RingOutStatus.DESTINATION_BLOCKED,
    Result.NO_CALLING_CREDIT: RingOutStatus.NOT_ENOUGH_FUNDS,
    Result.UNKNOWN: RingOutStatus.INVALID,
}

# The user's phone is ringing or answered: the second leg may still come.
_WAITING = frozenset({RingOutStatus.IN_PROGRESS, RingOutStatus.SUCCESS})

_FAILED = frozenset(
    set(_UNANSWERED.values()) | {RingOutStatus.GENERIC_ERROR, RingOutStatus.NO_SESSION_FOUND}
)


def ringout_legs(record: CallRecord) -> tuple[Leg | None, Leg | None]:
    """The caller leg (rings the user first) and the callee leg (rings the target), or None."""
    caller = next((lg for lg in record.legs if lg.leg_type in CALLER_LEGS), None)
    callee = next((lg for lg in record.legs if lg.leg_type in CALLEE_LEGS), None)
    return caller, callee


def _ended(leg: Leg) -> bool:
    return leg.result is not None and leg.result is not Result.IN_PROGRESS


def _end(leg: Leg) -> datetime:
    return leg.cdr.end_time or leg.start_time + timedelta(milliseconds=leg.duration_ms)


def leg_status(leg: Leg) -> RingOutStatus:
    """One leg's status: ringing, answered (``Success``), over after an answer (``Finished``),
    or how it failed."""
    answered = leg.cdr.answer_time is not None or is_answered(leg)
    if not _ended(leg):
        return RingOutStatus.SUCCESS if answered else RingOutStatus.IN_PROGRESS
    if answered:
        return RingOutStatus.FINISHED
    assert leg.result is not None
    return _UNANSWERED.get(leg.result, RingOutStatus.GENERIC_ERROR)


def _callee_status(
    callee: Leg | None, caller: RingOutStatus, caller_leg: Leg | None
) -> RingOutStatus:
    if callee is None:
        # The second leg is dialled only once the user answered: until then it is being set
        # up; if the user's own phone failed, it never existed.
        return RingOutStatus.IN_PROGRESS if caller in _WAITING else RingOutStatus.NO_SESSION_FOUND
    status = leg_status(callee)
    if (
        status in (RingOutStatus.NO_ANSWER, RingOutStatus.REJECTED)
        and caller_leg is not None
        and _ended(caller_leg)
        and _end(caller_leg) < _end(callee)
    ):
        # The user hung up while the callee was still ringing (guide: "1st leg answered, 2nd
        # is ringing, user drops call on the 1st leg - 2nd leg gets Rejected").
        return RingOutStatus.REJECTED
    return status


def call_status(caller: RingOutStatus, callee: RingOutStatus) -> RingOutStatus:
    """Both legs together: ``Success`` once both answered, ``CannotReach`` when a leg
    failed, else ``InProgress``."""
    if caller in _FAILED or callee in _FAILED:
        return RingOutStatus.CANNOT_REACH
    answered = (RingOutStatus.SUCCESS, RingOutStatus.FINISHED)
    if caller in answered and callee in answered:
        return RingOutStatus.SUCCESS
    return RingOutStatus.IN_PROGRESS


def ringout_status(record: CallRecord) -> RingOutStatusInfo:
    """The RingOut statuses a record's legs say (a record without RingOut legs has not been
    reported yet: ``CONNECTING``)."""
    caller_leg, callee_leg = ringout_legs(record)
    if caller_leg is None and callee_leg is None:
        return CONNECTING
    caller = leg_status(caller_leg) if caller_leg is not None else RingOutStatus.IN_PROGRESS
    callee = _callee_status(callee_leg, caller, caller_leg)
    return RingOutStatusInfo(call_status(caller, callee), caller, callee)


def after_cancel(status: RingOutStatusInfo, callee_rang: bool) -> RingOutStatusInfo:
    """The status of a cancelled RingOut whose hang-up the phone system has not reported yet,
    as ``ringout_status`` will say once it is: a leg still ringing was rejected by the cancel,
    one already answered is finished, and a callee never rung never had a session."""
    if status.call is not RingOutStatus.IN_PROGRESS:
        return status

    def ended(party: RingOutStatus) -> RingOutStatus:
        if party is RingOutStatus.SUCCESS:
            return RingOutStatus.FINISHED
        return RingOutStatus.REJECTED if party is RingOutStatus.IN_PROGRESS else party

    caller = ended(status.caller)
    callee = ended(status.callee) if callee_rang else RingOutStatus.NO_SESSION_FOUND
    return RingOutStatusInfo(call_status(caller, callee), caller, callee)


def record_end(record: CallRecord) -> datetime:
    """When the call ended (its start plus its duration)."""
    return record.start_time + timedelta(milliseconds=record.duration_ms)

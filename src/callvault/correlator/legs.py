"""Party legs as call-log legs: leg type, result and reason in RingCentral's vocabulary."""

from __future__ import annotations

from datetime import timedelta

from callvault.correlator.parties import Entry, LegOutcome, PartyLeg, normalise_reason
from callvault.domain.calls import CdrFacts, Leg, Party, Recording
from callvault.domain.enums import (
    Action,
    Direction,
    Disconnector,
    LegType,
    Reason,
    Result,
    Transport,
)
from callvault.domain.events import CallOrigin, Endpoint, RingOutRole

_FAILED_BY_REASON: dict[str, Result] = {
    "internationaldisabled": Result.INTERNATIONAL_DISABLED,
    "invalidnumber": Result.WRONG_NUMBER,
    "nosuchuser": Result.WRONG_NUMBER,
    "notenoughfunds": Result.NO_CALLING_CREDIT,
    "internalerror": Result.INTERNAL_ERROR,
}

_CALLED_RESULT: dict[LegOutcome, Result] = {
    LegOutcome.COMPLETED: Result.ACCEPTED,
    LegOutcome.MISSED: Result.MISSED,
    LegOutcome.ABANDONED: Result.HANG_UP,
    LegOutcome.TRANSFERRED: Result.ACCEPTED,
    LegOutcome.REDIRECTED: Result.ACCEPTED,
    LegOutcome.MOVED: Result.ACCEPTED,
    LegOutcome.PARKED: Result.ACCEPTED,
    LegOutcome.ANSWERED_ELSEWHERE: Result.ANSWERED_ELSEWHERE,
    LegOutcome.AGENT_ANSWERED: Result.ACCEPTED,
    LegOutcome.NO_ANSWER: Result.NO_ANSWER,
    LegOutcome.CANCELLED: Result.MISSED,
    LegOutcome.REJECTED: Result.REJECTED,
    LegOutcome.BUSY: Result.BUSY,
    LegOutcome.FAILED: Result.CALL_FAILED,
    LegOutcome.BLOCKED: Result.BLOCKED,
    LegOutcome.VOICEMAIL: Result.VOICEMAIL,
    LegOutcome.REPLIED: Result.REPLY,
    LegOutcome.DROPPED: Result.HANG_UP,
    LegOutcome.MERGED: Result.ACCEPTED,
    LegOutcome.UNKNOWN: Result.UNKNOWN,
    LegOutcome.IN_PROGRESS: Result.IN_PROGRESS,
}

REASON_FOR_RESULT: dict[Result, Reason] = {
    Result.ACCEPTED: Reason.ACCEPTED,
    Result.CALL_CONNECTED: Reason.CONNECTED,
    Result.BUSY: Reason.LINE_BUSY,
    Result.MISSED: Reason.NO_ANSWER,
    Result.NO_ANSWER: Reason.NOT_ANSWERED,
    Result.HANG_UP: Reason.HANG_UP,
    Result.WRONG_NUMBER: Reason.BAD_NUMBER,
    Result.BLOCKED: Reason.NUMBER_BLOCKED,
    Result.INTERNATIONAL_DISABLED: Reason.INTERNATIONAL_DISABLED,
    Result.NO_CALLING_CREDIT: Reason.NO_CREDIT,
    Result.INTERNAL_ERROR: Reason.INTERNAL_ERROR,
    Result.CALL_FAILED: Reason.FAILED_TRY_AGAIN,
}


def leg_result(leg: PartyLeg) -> Result:
    """The call-log result of an answering-side leg, from the party's own outcome. (What the
    calling side got depends on its callees: see ``records.calling_result``.)"""
    if leg.outcome is LegOutcome.FAILED:
        return _FAILED_BY_REASON.get(normalise_reason(leg.final_reason), Result.CALL_FAILED)
    return _CALLED_RESULT[leg.outcome]


# RingCentral words the same fact differently by direction: an inbound record is "Accepted" or
# "Missed", an outbound one "Call connected" or "No Answer". A leg speaks its record's words.
_WORDS: dict[Direction, dict[Result, Result]] = {
    Direction.INBOUND: {Result.CALL_CONNECTED: Result.ACCEPTED, Result.NO_ANSWER: Result.MISSED},
    Direction.OUTBOUND: {Result.ACCEPTED: Result.CALL_CONNECTED, Result.MISSED: Result.NO_ANSWER},
}


def in_words_of(result: Result, direction: Direction) -> Result:
    return _WORDS[direction].get(result, result)


def is_external(leg: PartyLeg) -> bool:
    return leg.extension_id is None


def on_pstn(leg: PartyLeg) -> bool:
    """The party is an outside number, or an extension's party reaching one (a call out, a
    FindMe forward to a mobile): either way this leg runs over the PSTN. The destination
    number matters when the outside party itself is not visible (§4: extension-level
    subscriptions see only their own parties)."""
    return is_external(leg) or _outside(endpoints(leg)[1])


_ENTRY_LEG: dict[Entry, LegType] = {
    Entry.TRANSFER: LegType.TRANSFER_CALL,
    Entry.PARK_LOCATION: LegType.PARK_LOCATION,
    Entry.CALL_PARK: LegType.CALL_PARK,
    Entry.PICKUP: LegType.PICKUP,
}


def leg_type(leg: PartyLeg, origin: CallOrigin, session_caller: PartyLeg | None) -> LegType:
    """Which routing hop a party is, in RingCentral's legType terms. ``session_caller`` is the
    calling party of the leg's own session (the hop a called party was reached from)."""
    if origin is CallOrigin.RINGOUT:
        if leg.ring_out_role is RingOutRole.TARGET:
            return LegType.RINGOUT_WEB_TO_SUBSCRIBER
        return LegType.RINGOUT_WEB_TO_CALLER
    if leg.entry in _ENTRY_LEG:
        return _ENTRY_LEG[leg.entry]
    if not leg.called_side:
        if is_external(leg):
            return LegType.ACCEPT  # an outside caller coming in from the PSTN
        # A user calling out: to the PSTN, or to another extension.
        if _outside(leg.last.to_endpoint):
            return LegType.SIP_TO_PSTN_METERED
        return LegType.EXTENSION_TO_EXTENSION
    if leg.queue_call:
        return LegType.HUNTING
    if is_external(leg):
        return LegType.SIP_TO_PSTN_METERED
    if leg.extension_id and _outside(leg.last.to_endpoint):
        # A user's own party ringing an outside number: FindMe/FollowMe forwarding.
        return LegType.FIND_ME
    if session_caller is not None and is_external(session_caller):
        return LegType.PSTN_TO_SIP
    return LegType.EXTENSION_TO_EXTENSION


def _outside(endpoint: Endpoint | None) -> bool:
    """An outside number: E.164 and not an extension."""
    return (
        endpoint is not None and endpoint.extension_id is None and _is_e164(endpoint.phone_number)
    )


def _is_e164(number: str | None) -> bool:
    return number is not None and number.startswith("+") and len(number) > 8


def party(endpoint: Endpoint | None) -> Party | None:
    if endpoint is None:
        return None
    return Party(
        phone_number=endpoint.phone_number if _is_e164(endpoint.phone_number) else None,
        extension_number=endpoint.extension_number
        or (endpoint.phone_number if not _is_e164(endpoint.phone_number) else None),
        extension_id=endpoint.extension_id,
        name=endpoint.name,
        device_id=endpoint.device_id,
    )


def endpoints(leg: PartyLeg) -> tuple[Endpoint | None, Endpoint | None]:
    """The richest from/to seen on the party (names such as CNAM often arrive late)."""
    frm = to = None
    for ev in leg.events:
        frm = ev.from_endpoint or frm
        to = ev.to_endpoint or to
    return frm, to


def build_leg(
    leg: PartyLeg,
    *,
    origin: CallOrigin,
    session_caller: PartyLeg | None,
    result: Result,
    action: Action,
    transport: Transport,
    record_direction: Direction,
    master: bool,
) -> Leg:
    """One party as a leg of a record; ``result`` is the leg's, in the record's words."""
    frm, to = endpoints(leg)
    end = leg.ended or leg.last.time
    recording_id = next((e.recording_id for e in leg.events if e.recording_id), None)
    sip_call_id = next((e.sip_call_id for e in leg.events if e.sip_call_id), None)
    return Leg(
        leg_type=leg_type(leg, origin, session_caller),
        master=master,
        direction=record_direction,
        action=action,
        start_time=leg.started,
        duration_ms=max(0, (end - leg.started) // timedelta(milliseconds=1)),
        result=result,
        reason=REASON_FOR_RESULT.get(result),
        extension_id=leg.extension_id,
        telephony_session_id=leg.session_id,
        party_id=leg.party_id,
        transport=transport,
        from_party=party(frm),
        to_party=party(to),
        recording=Recording(recording_id) if recording_id else None,
        cdr=CdrFacts(
            ring_time=leg.started,
            answer_time=leg.connected_at,
            end_time=leg.ended,
            disconnected_by=None if leg.ended else Disconnector.UNKNOWN,
            reroute_reason=leg.final_reason if leg.outcome in _REROUTED else None,
            sip_call_id=sip_call_id,
        ),
    )


_REROUTED = frozenset(
    {LegOutcome.TRANSFERRED, LegOutcome.REDIRECTED, LegOutcome.MOVED, LegOutcome.PARKED}
)

"""A finished (or live) call → call-log records: one per involved extension, as that extension
saw it, or a single company-log record when no extension took part.

Outcome rules at call level (telephony events reference §6.2): a call is answered only when an
answering-side party took it (a caller's early ``Answered`` is the phone system, not a person);
a ring-group member who did not answer while a colleague did sees "Answered Elsewhere", not
"Missed"; RingOut's caller and callee status come from its two legs. The legs arrive settled
(``settle``): answered-elsewhere, hand-ons, transfers and parks are already on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from callvault.correlator.calls import LiveCall
from callvault.correlator.legs import (
    REASON_FOR_RESULT,
    build_leg,
    endpoints,
    in_words_of,
    leg_result,
    on_pstn,
    party,
)
from callvault.correlator.parties import CONTINUING, Entry, LegOutcome, PartyLeg
from callvault.correlator.settle import callees_of
from callvault.domain.calls import CallRecord, CdrFacts, Recording
from callvault.domain.enums import (
    Action,
    Direction,
    Disconnector,
    InternalType,
    Result,
    Transport,
)
from callvault.domain.events import CallOrigin, Endpoint, PartyStatus, RingOutRole
from callvault.domain.ids import derived_id

SWEPT_DESCRIPTION = "Call end was not reported; closed by callvault after a period of silence"

# Outcomes after which a called party's call was dealt with although it never answered:
# transferred on, redirected by an IVR, parked, answered by a queue agent.
_HANDLED = CONTINUING - {LegOutcome.ANSWERED_ELSEWHERE}

# Results a called party's record keeps as they are; anything else unanswered is "Missed".
_KEPT_RESULTS = frozenset(
    {
        Result.BUSY,
        Result.REJECTED,
        Result.BLOCKED,
        Result.CALL_FAILED,
        Result.WRONG_NUMBER,
        Result.INTERNAL_ERROR,
        Result.INTERNATIONAL_DISABLED,
        Result.NO_CALLING_CREDIT,
        Result.REPLY,
        Result.IN_PROGRESS,
    }
)

_ENTRY_ACTION: dict[Entry, Action] = {
    Entry.TRANSFER: Action.TRANSFER,
    Entry.PARK_LOCATION: Action.PARK_LOCATION,
    Entry.CALL_PARK: Action.CALL_PARK,
    Entry.PICKUP: Action.PICKUP,
}


@dataclass(slots=True, frozen=True)
class _View:
    """How one owner saw the call."""

    direction: Direction
    primary: PartyLeg
    result: Result
    action: Action
    from_endpoint: Endpoint | None
    to_endpoint: Endpoint | None
    answered: datetime | None


def _closed(result: Result, swept: bool) -> Result:
    """A call closed by the sweeper is no longer in progress; how it went on is unknown."""
    return Result.UNKNOWN if swept and result is Result.IN_PROGRESS else result


def _origin(legs: list[PartyLeg]) -> CallOrigin:
    for leg in legs:
        for ev in leg.events:
            if ev.origin is not CallOrigin.CALL:
                return ev.origin
    return CallOrigin.CALL


def _reached(callees: list[PartyLeg]) -> Result:
    """What a caller got from the parties it called: connected if one took the call or
    voicemail did, else the last one's failure (busy, rejected …) or No Answer."""
    if any(c.connected_at or c.voicemail for c in callees):
        return Result.CALL_CONNECTED
    result = leg_result(callees[-1])
    if result in (Result.MISSED, Result.HANG_UP, Result.ANSWERED_ELSEWHERE):
        return Result.NO_ANSWER
    return result


def calling_result(caller: PartyLeg, legs: list[PartyLeg]) -> Result:
    """The result of a calling-side leg. With no callee visible (an extension-level
    subscription sees only its own parties) the caller's own reading is all there is."""
    callees = callees_of(caller, legs)
    if callees:
        return _reached(callees)
    return Result.CALL_CONNECTED if caller.outcome is LegOutcome.COMPLETED else Result.HANG_UP


def _answering_result(mine: list[PartyLeg]) -> Result:
    """The result of an owner's answering-side parties, taken together."""
    if any(lg.connected_at for lg in mine):
        return Result.ACCEPTED
    if any(lg.voicemail for lg in mine):
        return Result.VOICEMAIL
    if any(lg.outcome in _HANDLED for lg in mine):
        return Result.ACCEPTED
    if any(lg.outcome is LegOutcome.ANSWERED_ELSEWHERE for lg in mine):
        return Result.ANSWERED_ELSEWHERE
    result = leg_result(mine[-1])
    return result if result in _KEPT_RESULTS else Result.MISSED


def _ringout_parts(legs: list[PartyLeg]) -> tuple[PartyLeg, PartyLeg | None]:
    """RingOut's caller leg (rings the user first) and callee leg (rings the target); the
    roles are on the legs, inferred by ``settle`` when the events lacked them."""
    initiator = next((lg for lg in legs if lg.ring_out_role is RingOutRole.INITIATOR), legs[0])
    target = next((lg for lg in legs if lg.ring_out_role is RingOutRole.TARGET), None)
    return initiator, target


def _ringout_view(legs: list[PartyLeg]) -> _View:
    """A RingOut connects only if the user's own phone answered and then the callee did; when
    the first leg fails (busy, no answer) there is no second leg at all."""
    initiator, target = _ringout_parts(legs)
    if initiator.connected_at is None:
        result = in_words_of(leg_result(initiator), Direction.OUTBOUND)
    elif target is None:
        result = Result.HANG_UP
    else:
        result = _reached([target])
    frm = (endpoints(target)[0] if target else None) or endpoints(initiator)[1]
    to = (endpoints(target)[1] if target else None) or endpoints(initiator)[0]
    answered = target.connected_at if target and initiator.connected_at else None
    return _View(Direction.OUTBOUND, initiator, result, Action.RINGOUT_WEB, frm, to, answered)


def _outbound_view(primary: PartyLeg, legs: list[PartyLeg], external: bool) -> _View:
    callees = callees_of(primary, legs)
    answers = [t for c in callees if (t := c.connected_at) is not None]
    answered = min(answers) if answers else (None if callees else primary.answered)
    action = Action.PHONE_CALL if external else Action.VOIP_CALL
    frm, to = endpoints(primary)
    result = calling_result(primary, legs)
    return _View(Direction.OUTBOUND, primary, result, action, frm, to, answered)


def _session_caller(leg: PartyLeg, legs: list[PartyLeg]) -> PartyLeg | None:
    """The calling party of a leg's session, else of the whole call."""
    callers = [lg for lg in legs if not lg.answering]
    return next((lg for lg in callers if lg.session_id == leg.session_id), None) or next(
        iter(callers), None
    )


def _own_end(leg: PartyLeg) -> Endpoint | None:
    """The party's own endpoint: ``to`` for a called party, ``from`` for one that dialled in."""
    frm, to = endpoints(leg)
    return to if leg.called_side else frm


def _inbound_view(mine: list[PartyLeg], legs: list[PartyLeg], external: bool) -> _View:
    called = [lg for lg in mine if lg.answering] or mine
    primary = next((lg for lg in called if lg.connected_at), called[-1])
    default = Action.PHONE_CALL if external else Action.VOIP_CALL
    action = _ENTRY_ACTION.get(primary.entry, default)
    caller = _session_caller(primary, legs)
    frm = endpoints(caller)[0] if caller else endpoints(primary)[0]
    result = _answering_result(called)
    return _View(
        Direction.INBOUND, primary, result, action, frm, _own_end(called[0]), primary.connected_at
    )


def build_records(call: LiveCall) -> list[CallRecord]:
    """Records for every extension involved, or one company record if none was."""
    legs = call.legs()
    if not legs:
        return []
    owners: list[int] = []
    for leg in legs:
        if leg.extension_id is not None and leg.extension_id not in owners:
            owners.append(leg.extension_id)
    if not owners:
        return [_record(call, legs, None)]
    return [_record(call, legs, owner) for owner in owners]


def _record(call: LiveCall, legs: list[PartyLeg], owner: int | None) -> CallRecord:
    origin = _origin(legs)
    mine = [lg for lg in legs if lg.extension_id == owner] if owner is not None else legs
    external = any(on_pstn(lg) for lg in legs)
    if origin is CallOrigin.RINGOUT:
        view = _ringout_view(legs)
    elif owner is not None and not mine[0].answering:
        # The owner's first part in the call says which way it went for them: a user who
        # took a call and then dialled a consultant (warm transfer) still received a call.
        view = _outbound_view(mine[0], legs, external)
    else:
        view = _inbound_view(mine, legs, external)
    primary = view.primary
    start = min(lg.started for lg in mine)
    end = max((lg.ended or lg.last.time) for lg in mine)
    if view.direction is Direction.OUTBOUND:
        end = max(end, max((lg.ended or lg.last.time) for lg in legs))
    built_legs = [
        build_leg(
            lg,
            origin=origin,
            session_caller=_session_caller(lg, legs),
            result=_closed(
                in_words_of(
                    leg_result(lg) if lg.answering else calling_result(lg, legs), view.direction
                ),
                call.swept,
            ),
            action=view.action,
            transport=Transport.PSTN if on_pstn(lg) else Transport.VOIP,
            record_direction=view.direction,
            master=lg is primary,
        )
        for lg in legs
    ]
    recording_id = next((e.recording_id for lg in mine for e in lg.events if e.recording_id), None)
    legacy = next((e.legacy_session_id for e in primary.events if e.legacy_session_id), None)
    target_session, transferee_session = _transfer_links(legs, primary.session_id)
    result = _closed(view.result, call.swept)
    return CallRecord(
        id=derived_id("call", primary.session_id, owner if owner is not None else "company"),
        session_id=legacy if legacy and legacy != "0" else primary.session_id,
        telephony_session_id=primary.session_id,
        extension_id=owner,
        direction=view.direction,
        action=view.action,
        start_time=start,
        duration_ms=max(0, (end - start) // timedelta(milliseconds=1)),
        result=result,
        reason=REASON_FOR_RESULT.get(result),
        reason_description=SWEPT_DESCRIPTION if call.swept else None,
        party_id=primary.party_id,
        transport=Transport.PSTN if external else Transport.VOIP,
        internal_type=InternalType.RING_OUT
        if origin is CallOrigin.RINGOUT
        else (InternalType.USUAL if not external else None),
        from_party=party(view.from_endpoint),
        to_party=party(view.to_endpoint),
        recording=Recording(recording_id) if recording_id else None,
        transfer_target_session_id=target_session,
        transferee_session_id=transferee_session,
        legs=built_legs,
        cdr=CdrFacts(
            ring_time=primary.started,
            answer_time=view.answered,
            end_time=end if call.finished_at and not call.swept else None,
            disconnected_by=_disconnector(legs, call.swept),
        ),
    )


def _transfer_links(legs: list[PartyLeg], session_id: str) -> tuple[str | None, str | None]:
    """Warm transfer (§5.7): the transferring user's parties in both sessions end ``Gone``/
    ``AttendedTransfer``, each pointing at the other session, so the peer alone cannot say
    which way it went. The session that started first held the call being transferred (the
    transferee's); the later one is the consult call to the target. A record of the first
    links to the target session, a record of the second to the transferee's."""
    starts: dict[str, datetime] = {}
    for lg in legs:
        starts[lg.session_id] = min(starts.get(lg.session_id, lg.started), lg.started)
    target = transferee = None
    for lg in legs:
        peer = lg.last.peer_session_id
        if (
            lg.final_status is not PartyStatus.GONE
            or lg.outcome is not LegOutcome.TRANSFERRED
            or peer is None
            or peer == lg.session_id
            or peer not in starts
        ):
            continue
        first, second = sorted((lg.session_id, peer), key=lambda s: (starts[s], s))
        if first == session_id:
            target = target or second
        elif second == session_id:
            transferee = transferee or first
    return target, transferee


def _disconnector(legs: list[PartyLeg], swept: bool) -> Disconnector | None:
    """Who hung up first: the side whose party ended first with a plain disconnect (a party
    leaving because the call went on elsewhere does not count)."""
    if swept:
        return Disconnector.UNKNOWN
    plain = [
        lg
        for lg in legs
        if lg.final_status is PartyStatus.DISCONNECTED and lg.ended and lg.outcome not in CONTINUING
    ]
    if not plain:
        return None
    first = min(plain, key=lambda lg: (lg.ended, lg.last.sequence))
    return Disconnector.CALLEE if first.answering else Disconnector.CALLER

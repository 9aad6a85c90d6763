"""A finished (or live) call → call-log records: one per involved extension, as that extension
saw it, or a single company-log record when no extension took part.

Outcome rules at call level (telephony events reference §6.2): a call is answered only when a
called-side party that is not an IVR or queue answered; a ring-group member who did not answer
while a colleague did sees "Answered Elsewhere", not "Missed"; RingOut's caller and callee
status come from its two legs.
"""

from __future__ import annotations

from datetime import datetime

from callvault.correlator.calls import LiveCall
from callvault.correlator.legs import (
    REASON_FOR_RESULT,
    build_leg,
    endpoints,
    is_external,
    leg_result,
    party,
)
from callvault.correlator.parties import CONTINUING, LegOutcome, PartyLeg
from callvault.domain.calls import CallRecord, CdrFacts, Recording
from callvault.domain.enums import (
    Action,
    Direction,
    Disconnector,
    InternalType,
    Result,
    Transport,
)
from callvault.domain.events import CallOrigin, PartyStatus, RingOutRole
from callvault.domain.ids import derived_id

SWEPT_DESCRIPTION = "Call end was not reported; closed by callvault after a period of silence"


def _origin(legs: list[PartyLeg]) -> CallOrigin:
    for leg in legs:
        for ev in leg.events:
            if ev.origin is not CallOrigin.CALL:
                return ev.origin
    return CallOrigin.CALL


def _transferred_sessions(legs: list[PartyLeg]) -> dict[str, datetime]:
    """Session → time of the first transfer out of it (later parties are transfer targets)."""
    out: dict[str, datetime] = {}
    for leg in legs:
        if leg.outcome is LegOutcome.TRANSFERRED and leg.ended is not None:
            prev = out.get(leg.session_id)
            out[leg.session_id] = min(prev, leg.ended) if prev else leg.ended
    return out


def _answered_elsewhere(mine: list[PartyLeg], legs: list[PartyLeg]) -> bool:
    """Another called-side party answered while one of mine was still ringing."""
    others = [lg for lg in legs if lg.called_side and lg.answered and lg not in mine]
    for leg in mine:
        stop = leg.ended or leg.last.time
        if any(o.answered is not None and leg.started <= o.answered <= stop for o in others):
            return True
    return any(leg.outcome is LegOutcome.ANSWERED_ELSEWHERE for leg in mine)


def handed_on(leg: PartyLeg, legs: list[PartyLeg]) -> bool:
    """A called party that left with a plain hang-up as the next one was set up: an IVR or
    auto-receptionist passing the caller on (RingCentral often sends no reason for this)."""
    if leg.outcome is not LegOutcome.MISSED or leg.ended is None:
        return False
    return any(
        other is not leg
        and other.called_side
        and other.session_id == leg.session_id
        and abs((other.started - leg.ended).total_seconds()) <= _HAND_ON_SECONDS
        for other in legs
    )


_HAND_ON_SECONDS = 2.0


def _inbound_result(mine: list[PartyLeg], legs: list[PartyLeg]) -> Result:
    if any(lg.called_side and lg.answered and not lg.voicemail for lg in mine):
        return Result.ACCEPTED
    if any(lg.voicemail for lg in mine):
        return Result.VOICEMAIL
    if _answered_elsewhere(mine, legs):
        return Result.ANSWERED_ELSEWHERE
    if any(lg.outcome in CONTINUING or handed_on(lg, legs) for lg in mine):
        # Transferred, redirected, queue answered by an agent: handled, not missed.
        return Result.ACCEPTED
    last = mine[-1]
    result = leg_result(last)
    if result in (
        Result.BUSY,
        Result.REJECTED,
        Result.BLOCKED,
        Result.CALL_FAILED,
        Result.WRONG_NUMBER,
        Result.INTERNAL_ERROR,
        Result.IN_PROGRESS,
    ):
        return result
    return Result.MISSED


def _outbound_result(callees: list[PartyLeg]) -> Result:
    if any(lg.answered or lg.voicemail for lg in callees):
        return Result.CALL_CONNECTED
    if not callees:
        return Result.HANG_UP
    result = leg_result(callees[-1])
    if result in (Result.MISSED, Result.HANG_UP, Result.ANSWERED_ELSEWHERE):
        return Result.NO_ANSWER
    return result


def _ringout_parts(mine: list[PartyLeg], legs: list[PartyLeg]) -> tuple[PartyLeg, PartyLeg | None]:
    """RingOut's caller leg (rings the user first) and callee leg (rings the target)."""
    initiator = next((lg for lg in legs if lg.ring_out_role is RingOutRole.INITIATOR), None)
    target = next((lg for lg in legs if lg.ring_out_role is RingOutRole.TARGET), None)
    called = [lg for lg in legs if lg.called_side]
    initiator = initiator or (mine[0] if mine else called[0])
    if target is None:
        target = next((lg for lg in called if lg is not initiator), None)
    return initiator, target


def ringout_result(mine: list[PartyLeg], legs: list[PartyLeg]) -> Result:
    """A RingOut connects only if the user's own phone answered and then the callee did;
    when the first leg fails (busy, no answer) there is no second leg at all."""
    initiator, target = _ringout_parts(mine, legs)
    if not initiator.answered:
        result = leg_result(initiator)
        return Result.NO_ANSWER if result is Result.MISSED else result
    if target is None:
        return Result.HANG_UP
    return _outbound_result([target])


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
    caller = next((lg for lg in legs if not lg.called_side), None)
    external = any(is_external(lg) for lg in legs) or any(
        lg.ring_out_role is RingOutRole.TARGET for lg in legs
    )
    transport = Transport.PSTN if external else Transport.VOIP
    if origin is CallOrigin.RINGOUT:
        direction = Direction.OUTBOUND
        result = ringout_result(mine, legs)
        action = Action.RINGOUT_WEB
        initiator, target = _ringout_parts(mine, legs)
        frm_ep = (endpoints(target)[0] if target else None) or endpoints(initiator)[1]
        to_ep = (endpoints(target)[1] if target else None) or endpoints(initiator)[0]
        primary = initiator
    elif owner is not None and any(not lg.called_side for lg in mine):
        direction = Direction.OUTBOUND
        primary = next(lg for lg in mine if not lg.called_side)
        callees = [lg for lg in legs if lg.called_side and lg.started >= primary.started]
        result = _outbound_result(callees)
        action = Action.VOIP_CALL if not external else Action.PHONE_CALL
        frm_ep, to_ep = endpoints(primary)
    else:
        direction = Direction.INBOUND
        called = [lg for lg in mine if lg.called_side] or mine
        primary = next((lg for lg in called if lg.answered and not lg.voicemail), called[-1])
        result = _inbound_result(called, legs)
        action = Action.VOIP_CALL if not external else Action.PHONE_CALL
        transfers = _transferred_sessions(legs)
        cut = transfers.get(primary.session_id)
        if cut is not None and primary.started >= cut:
            action = Action.TRANSFER
        frm_ep = endpoints(caller)[0] if caller else endpoints(primary)[0]
        to_ep = endpoints(primary)[1]
    start = min(lg.started for lg in mine)
    end = max((lg.ended or lg.last.time) for lg in mine)
    if direction is Direction.OUTBOUND:
        end = max(end, max((lg.ended or lg.last.time) for lg in legs))
    transfers = _transferred_sessions(legs)
    built_legs = [
        build_leg(
            lg,
            origin=origin,
            caller=caller,
            after_transfer=(t := transfers.get(lg.session_id)) is not None
            and lg.called_side
            and lg.started >= t,
            action=action,
            transport=Transport.PSTN if is_external(lg) else Transport.VOIP,
            record_direction=direction,
            master=lg is primary,
        )
        for lg in legs
    ]
    recording_id = next((e.recording_id for lg in mine for e in lg.events if e.recording_id), None)
    legacy = next((e.legacy_session_id for e in primary.events if e.legacy_session_id), None)
    target_session, transferee_session = _transfer_links(legs, primary.session_id)
    return CallRecord(
        id=derived_id("call", primary.session_id, owner if owner is not None else "company"),
        session_id=legacy if legacy and legacy != "0" else primary.session_id,
        telephony_session_id=primary.session_id,
        extension_id=owner,
        direction=direction,
        action=action,
        start_time=start,
        duration_ms=max(0, int((end - start).total_seconds() * 1000)),
        result=result,
        reason=REASON_FOR_RESULT.get(result),
        reason_description=SWEPT_DESCRIPTION if call.swept else None,
        party_id=primary.party_id,
        transport=transport,
        internal_type=InternalType.RING_OUT
        if origin is CallOrigin.RINGOUT
        else (InternalType.USUAL if not external else None),
        from_party=party(frm_ep),
        to_party=party(to_ep),
        recording=Recording(recording_id) if recording_id else None,
        transfer_target_session_id=target_session,
        transferee_session_id=transferee_session,
        legs=built_legs,
        cdr=CdrFacts(
            ring_time=primary.started,
            answer_time=primary.answered,
            end_time=end if call.finished_at and not call.swept else None,
            disconnected_by=_disconnector(legs, call.swept),
        ),
    )


def _transfer_links(legs: list[PartyLeg], session_id: str) -> tuple[str | None, str | None]:
    """Warm transfer: this session's Gone party points at the target session; a Gone party in
    another session pointing here makes that session the transferee."""
    target = transferee = None
    for lg in legs:
        last = lg.last
        if last.status is not PartyStatus.GONE or not last.peer_session_id:
            continue
        if lg.session_id == session_id and last.peer_session_id != session_id:
            target = target or last.peer_session_id
        elif last.peer_session_id == session_id:
            transferee = transferee or lg.session_id
    return target, transferee


def _disconnector(legs: list[PartyLeg], swept: bool) -> Disconnector | None:
    """Who hung up first: the side whose party ended first with a plain disconnect."""
    if swept:
        return Disconnector.UNKNOWN
    plain = [
        lg
        for lg in legs
        if lg.final_status is PartyStatus.DISCONNECTED
        and lg.ended
        and lg.outcome not in (LegOutcome.TRANSFERRED, LegOutcome.ANSWERED_ELSEWHERE)
    ]
    if not plain:
        return None
    first = min(plain, key=lambda lg: (lg.ended, lg.last.sequence))
    return Disconnector.CALLEE if first.called_side else Disconnector.CALLER

"""Rules that need the whole call, applied once after every party has been read on its own.

A party's own events cannot say that a colleague answered while it rang, that an IVR handed the
caller on, that it was rung because someone transferred or parked the call, or that the caller's
early ``Answered`` was only the phone system picking up. These rules can; every record is built
from legs that went through them (``LiveCall.legs``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callvault.correlator.parties import Entry, LegOutcome, PartyLeg, normalise_reason
from callvault.domain.events import CallOrigin, PartyStatus, RingOutRole

# An IVR or auto-receptionist hands the caller on: its party leaves as the next one is set up.
HAND_ON_WINDOW = timedelta(seconds=2)

# Outcomes of a called party that ended unanswered for a reason of its own or none.
_UNANSWERED = frozenset({LegOutcome.MISSED, LegOutcome.CANCELLED, LegOutcome.NO_ANSWER})


def settle(legs: list[PartyLeg]) -> list[PartyLeg]:
    """Apply the call-level rules to legs sorted by start; returns the same list."""
    _infer_ringout_roles(legs)
    _mark_entries(legs)
    _mark_answered_elsewhere(legs)
    _mark_handed_on(legs)
    _mark_abandoned(legs)
    return legs


def callees_of(caller: PartyLeg, legs: list[PartyLeg]) -> list[PartyLeg]:
    """The answering-side parties that were in the call while this calling party was (a party
    that has not left yet is still there)."""
    return [
        lg
        for lg in legs
        if lg is not caller
        and lg.answering
        and (caller.ended is None or lg.started <= caller.ended)
        and (lg.ended is None or lg.ended >= caller.started)
    ]


def _infer_ringout_roles(legs: list[PartyLeg]) -> None:
    """RingOut parties may come without ``ringOutRole`` (the event schema does not declare it,
    reference §2.3). RingCentral rings the user's own phone first, so the first called party
    owned by an extension is the Initiator and the next called party the Target."""
    if not any(ev.origin is CallOrigin.RINGOUT for lg in legs for ev in lg.events):
        return
    called = [lg for lg in legs if lg.called_side]
    if not any(lg.ring_out_role is RingOutRole.INITIATOR for lg in called):
        unroled = [lg for lg in called if lg.ring_out_role is None]
        owned = [lg for lg in unroled if lg.extension_id is not None]
        if owned or unroled:
            (owned or unroled)[0].ring_out_role = RingOutRole.INITIATOR
    if not any(lg.ring_out_role is RingOutRole.TARGET for lg in called):
        rest = [lg for lg in called if lg.ring_out_role is None]
        if rest:
            rest[0].ring_out_role = RingOutRole.TARGET


def _mark_entries(legs: list[PartyLeg]) -> None:
    """Who was handed the call. A blind transfer or a park ends the handing party with a
    reason (``BlindTransfer``, ``ParkLocation``, ``CallPark``) and the next called party
    appears in the same session; the latest hand-off before a party was set up is how it came
    in. A pickup from a park extension ends the parked party ``Gone``/``Pickup`` with a peer
    in the taker's own session, where the taker is the calling side: it dialled the park code,
    yet it is the one taking the call."""
    handoffs: dict[str, list[tuple[datetime, Entry]]] = {}
    for leg in legs:
        if leg.final_status is not PartyStatus.DISCONNECTED or leg.ended is None:
            continue
        if leg.outcome is LegOutcome.TRANSFERRED:
            entry = Entry.TRANSFER
        elif leg.outcome is LegOutcome.PARKED:
            reason = normalise_reason(leg.final_reason)
            entry = Entry.PARK_LOCATION if reason == "parklocation" else Entry.CALL_PARK
        else:
            continue
        handoffs.setdefault(leg.session_id, []).append((leg.ended, entry))
    for leg in legs:
        before = [h for h in handoffs.get(leg.session_id, []) if h[0] <= leg.started]
        if leg.called_side and before:
            leg.entry = max(before, key=lambda h: h[0])[1]
    for leg in legs:
        last = leg.last
        if last.status is not PartyStatus.GONE or normalise_reason(last.reason) != "pickup":
            continue
        for taker in legs:
            if taker.session_id == last.peer_session_id and not taker.called_side:
                taker.entry = Entry.CALL_PARK if leg.parked else Entry.PICKUP
                taker.answering = True


def _mark_answered_elsewhere(legs: list[PartyLeg]) -> None:
    """A called party still ringing when another one took the call was answered elsewhere,
    not missed: ring-group members, queue agents, a user's other devices. RingCentral ends
    them ``Disconnected`` with ``Pickup``, ``Cancelled`` or no reason at all (§5.4)."""
    answers = [(lg, t) for lg in legs if (t := lg.connected_at) is not None]
    for leg in legs:
        if not leg.answering or leg.connected_at is not None or leg.outcome not in _UNANSWERED:
            continue
        end = leg.ended or leg.last.time
        if any(other is not leg and leg.started <= t <= end for other, t in answers):
            leg.outcome = LegOutcome.ANSWERED_ELSEWHERE


def _mark_handed_on(legs: list[PartyLeg]) -> None:
    """A called party that never rang and left with a plain hang-up just as the next party of
    its session was set up is an IVR or auto-receptionist passing the caller on (the captured
    flow in §5.1 carries no reason for it). A party that rang (``Proceeding``) and left
    unanswered, like a hunt-group member timing out, stays missed."""
    for leg in legs:
        if not leg.answering or leg.outcome is not LegOutcome.MISSED or leg.rang:
            continue
        ended = leg.ended
        if ended is not None and any(
            other is not leg
            and other.answering
            and other.session_id == leg.session_id
            and abs(other.started - ended) <= HAND_ON_WINDOW
            for other in legs
        ):
            leg.outcome = LegOutcome.REDIRECTED


def _mark_abandoned(legs: list[PartyLeg]) -> None:
    """The calling side's ``Answered`` means the phone system took the call (§5.1, §5.3): the
    caller completed a conversation only if a callee took the call or voicemail did. When no
    callee is visible at all (an extension-level subscription sees only its own parties), the
    caller's own ``Answered`` is the only evidence and is kept."""
    for leg in legs:
        if leg.answering or leg.outcome is not LegOutcome.COMPLETED:
            continue
        callees = callees_of(leg, legs)
        if callees and not any(c.connected_at or c.voicemail for c in callees):
            leg.outcome = LegOutcome.ABANDONED

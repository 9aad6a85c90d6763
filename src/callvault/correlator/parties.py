"""One party's timeline read as a leg: when it rang, was answered, ended, and how it ended.

The outcome table follows RingCentral's published reasons (see the telephony events reference,
§6.1): a ``Disconnected`` with a transfer reason ends a leg, not the call; ``Pickup`` means
answered elsewhere, not missed; an ``Outbound`` party's ``Answered`` only means the phone
system picked up, never that a person answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callvault.domain.enums import Direction
from callvault.domain.events import CallEvent, PartyStatus, RingOutRole


class Entry(StrEnum):
    """How a party came into the call: rung directly, or handed the call by someone else.

    Set by the call-level rules (``settle``); a party's own events cannot tell.
    """

    DIRECT = "direct"
    TRANSFER = "transfer"  # rung after someone transferred the call out of its session
    PARK_LOCATION = "park_location"  # picked the call up from a park location (same session)
    CALL_PARK = "call_park"  # dialled a park extension and took the parked call (own session)
    PICKUP = "pickup"  # took a ringing call from another session (directed pickup)


class LegOutcome(StrEnum):
    COMPLETED = "completed"
    MISSED = "missed"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"
    REDIRECTED = "redirected"
    MOVED = "moved"
    PARKED = "parked"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    AGENT_ANSWERED = "agent_answered"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    BUSY = "busy"
    FAILED = "failed"
    BLOCKED = "blocked"
    VOICEMAIL = "voicemail"
    REPLIED = "replied"
    DROPPED = "dropped"
    MERGED = "merged"
    UNKNOWN = "unknown"
    IN_PROGRESS = "in_progress"


_BY_REASON: dict[str, LegOutcome] = {
    "blindtransfer": LegOutcome.TRANSFERRED,
    "rcctransfer": LegOutcome.TRANSFERRED,
    "dtmftransfer": LegOutcome.TRANSFERRED,
    "attendedtransfer": LegOutcome.TRANSFERRED,
    "callerinputredirect": LegOutcome.REDIRECTED,
    "callredirected": LegOutcome.MOVED,
    "callflip": LegOutcome.MOVED,
    "callswitch": LegOutcome.MOVED,
    "takeover": LegOutcome.MOVED,
    "callpark": LegOutcome.PARKED,
    "parklocation": LegOutcome.PARKED,
    "pickup": LegOutcome.ANSWERED_ELSEWHERE,
    "agentanswered": LegOutcome.AGENT_ANSWERED,
    "agentdropped": LegOutcome.DROPPED,
    "supervising": LegOutcome.MERGED,
    "conference": LegOutcome.MERGED,
    "noanswer": LegOutcome.NO_ANSWER,
    "timeout": LegOutcome.NO_ANSWER,
    "cancelled": LegOutcome.CANCELLED,
    "rejected": LegOutcome.REJECTED,
    "targetbusy": LegOutcome.BUSY,
    "invalidnumber": LegOutcome.FAILED,
    "nosuchuser": LegOutcome.FAILED,
    "internationaldisabled": LegOutcome.FAILED,
    "destinationblocked": LegOutcome.BLOCKED,
    "notenoughfunds": LegOutcome.FAILED,
    "internalerror": LegOutcome.FAILED,
    "voicemail": LegOutcome.VOICEMAIL,
    "callreplied": LegOutcome.REPLIED,
    "calldropped": LegOutcome.DROPPED,
}

# Reasons after which the conversation goes on elsewhere: the leg ends, the call does not.
CONTINUING = frozenset(
    {
        LegOutcome.TRANSFERRED,
        LegOutcome.REDIRECTED,
        LegOutcome.MOVED,
        LegOutcome.PARKED,
        LegOutcome.ANSWERED_ELSEWHERE,
        LegOutcome.AGENT_ANSWERED,
        LegOutcome.MERGED,
    }
)


def normalise_reason(reason: str | None) -> str:
    return "".join(ch for ch in (reason or "").lower() if ch.isalnum())


@dataclass(slots=True)
class PartyLeg:
    """What one party's events say, in chronological order of ``sequence``."""

    party_id: str
    session_id: str
    direction: Direction
    events: list[CallEvent]
    extension_id: int | None
    started: datetime
    ended: datetime | None
    answered: datetime | None
    voicemail: bool
    rang: bool
    parked: bool
    hold_ms: int
    talk_ms: int
    final_status: PartyStatus
    final_reason: str | None
    queue_call: bool
    ring_out_role: RingOutRole | None
    outcome: LegOutcome
    # The side that takes the call: the called side (``Inbound``), or a party that dialled in
    # to take over a call (a park-extension pickup). Set from the direction, then by ``settle``.
    answering: bool = False
    entry: Entry = Entry.DIRECT

    @property
    def last(self) -> CallEvent:
        return self.events[-1]

    @property
    def first(self) -> CallEvent:
        return self.events[0]

    @property
    def terminal(self) -> bool:
        return self.final_status.terminal

    @property
    def called_side(self) -> bool:
        return self.direction is Direction.INBOUND

    @property
    def connected_at(self) -> datetime | None:
        """When this answering-side party took the call: its first ``Answered``. Never for the
        calling side, whose ``Answered`` only means the phone system picked up (§5.3), and not
        for voicemail (``VoiceMail``/``VoiceMailScreening`` are a machine taking the call)."""
        if not self.answering:
            return None
        return next((e.time for e in self.events if e.status is PartyStatus.ANSWERED), None)


def read_party(events: list[CallEvent]) -> PartyLeg:
    """Summarise a party from its events (already sorted by ``CallEvent.order``)."""
    first, last = events[0], events[-1]
    answered: datetime | None = None
    voicemail = rang = parked = False
    hold_ms = talk_ms = 0
    talking_since: datetime | None = None
    holding_since: datetime | None = None
    extension_id: int | None = None
    queue_call = False
    ring_out_role: RingOutRole | None = None
    for ev in events:
        status = ev.status
        # The first extension and RingOut role any event names; a queue call if any says so.
        if extension_id is None and ev.extension_id:
            extension_id = ev.extension_id
        if ring_out_role is None and ev.ring_out_role:
            ring_out_role = ev.ring_out_role
        queue_call = queue_call or ev.queue_call
        if status is PartyStatus.ANSWERED or status is PartyStatus.VOICEMAIL_SCREENING:
            answered = answered or ev.time
        if status in (PartyStatus.VOICEMAIL, PartyStatus.VOICEMAIL_SCREENING):
            voicemail = True
        rang = rang or status is PartyStatus.PROCEEDING
        parked = parked or status is PartyStatus.PARKED
        # Talk and hold time as the guide computes them: Answered→Hold/Disconnected is talk,
        # Hold→Answered/Disconnected is hold ("unhold" arrives as Answered again).
        if talking_since is not None and status is not PartyStatus.ANSWERED:
            talk_ms += _ms(ev.time - talking_since)
            talking_since = None
        if holding_since is not None and status is not PartyStatus.HOLD:
            hold_ms += _ms(ev.time - holding_since)
            holding_since = None
        if status is PartyStatus.ANSWERED and talking_since is None:
            talking_since = ev.time
        if status is PartyStatus.HOLD and holding_since is None:
            holding_since = ev.time
    ended = last.time if last.status.terminal else None
    leg = PartyLeg(
        party_id=first.party_id,
        session_id=first.session_id,
        direction=first.direction,
        events=events,
        extension_id=extension_id,
        started=first.time,
        ended=ended,
        answered=answered,
        voicemail=voicemail,
        rang=rang,
        parked=parked,
        hold_ms=hold_ms,
        talk_ms=talk_ms,
        final_status=last.status,
        final_reason=last.reason,
        queue_call=queue_call,
        ring_out_role=ring_out_role,
        outcome=LegOutcome.IN_PROGRESS,
        answering=first.direction is Direction.INBOUND,
    )
    leg.outcome = _outcome(leg)
    return leg


def _ms(delta: timedelta) -> int:
    # Integer arithmetic on the timedelta: float seconds would turn 28.9 s into 28899 ms.
    return max(0, delta // timedelta(milliseconds=1))


def _outcome(leg: PartyLeg) -> LegOutcome:
    if not leg.terminal:
        return LegOutcome.IN_PROGRESS
    by_reason = _BY_REASON.get(normalise_reason(leg.final_reason))
    if by_reason is LegOutcome.ANSWERED_ELSEWHERE and (leg.answered or leg.parked):
        # "Pickup" ends a ringing party that someone else took. On a party that was already
        # talking it means the call was taken from it: from a park, or pulled to another phone.
        by_reason = LegOutcome.PARKED if leg.parked else LegOutcome.MOVED
    if leg.final_status is PartyStatus.GONE:
        return by_reason if by_reason in CONTINUING else LegOutcome.MERGED
    if by_reason is not None:
        if by_reason in (LegOutcome.NO_ANSWER, LegOutcome.CANCELLED) and leg.voicemail:
            return LegOutcome.VOICEMAIL
        return by_reason
    if leg.voicemail:
        return LegOutcome.VOICEMAIL
    # An Outbound party's Answered is the system picking up (IVR, queue), not a person.
    if leg.answered is not None and leg.called_side:
        return LegOutcome.COMPLETED
    if leg.called_side:
        return LegOutcome.MISSED
    return LegOutcome.COMPLETED if leg.answered is not None else LegOutcome.ABANDONED

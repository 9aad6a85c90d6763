"""A call being assembled: the sessions that belong together and every party's events."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from callvault.correlator.parties import PartyLeg, read_party
from callvault.correlator.settle import settle
from callvault.domain.events import CallEvent, PartyStatus


def correlation_keys(event: CallEvent) -> list[str]:
    """Keys that tie an event to others of the same conversation, merged transitively.

    The telephony session id always; the legacy session id unless it is RingCentral's "0"
    placeholder (conference bridges share it); a SIP Call-ID; and the peer session of a
    ``Gone`` party (warm transfer, park pickup, monitoring), which continues in that session.
    """
    keys = [f"s:{event.session_id}"]
    if event.legacy_session_id and event.legacy_session_id != "0":
        keys.append(f"l:{event.legacy_session_id}")
    if event.sip_call_id:
        keys.append(f"sip:{event.sip_call_id}")
    if event.peer_session_id:
        keys.append(f"s:{event.peer_session_id}")
    return keys


def _order(event: CallEvent) -> tuple[int, datetime, str]:
    return event.order


@dataclass(slots=True, eq=False)
class LiveCall:
    """Events of one conversation, by session and party, each list in chronological order."""

    call_id: str
    account_id: int
    sessions: dict[str, dict[str, list[CallEvent]]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    event_ids: set[str] = field(default_factory=set)
    first_time: datetime | None = None
    last_time: datetime | None = None
    finished_at: datetime | None = None
    swept: bool = False

    def add(self, event: CallEvent) -> bool:
        """Add an event; False when it is a duplicate (same id, or same party and sequence)."""
        if event.event_id in self.event_ids:
            return False
        parties = self.sessions.setdefault(event.session_id, {})
        timeline = parties.setdefault(event.party_id, [])
        sequence, status = event.sequence, event.status
        if not timeline or timeline[-1].sequence < sequence:
            # The usual case: the party's next event, in order. A timeline is sorted by
            # sequence first, so none of its events can have this one's sequence.
            timeline.append(event)
        else:
            if any(e.sequence == sequence and e.status is status for e in timeline):
                return False
            if timeline[-1].order <= event.order:
                timeline.append(event)
            else:
                bisect.insort(timeline, event, key=_order)
        self.event_ids.add(event.event_id)
        if self.first_time is None or event.time < self.first_time:
            self.first_time = event.time
        if self.last_time is None or event.time > self.last_time:
            self.last_time = event.time
        return True

    def latest(self, event: CallEvent) -> CallEvent:
        """The newest event (by ``order``) of ``event``'s party."""
        return self.sessions[event.session_id][event.party_id][-1]

    def absorb(self, other: LiveCall) -> None:
        """Take over another call's sessions (they turned out to be one conversation)."""
        for session_id, parties in other.sessions.items():
            mine = self.sessions.setdefault(session_id, {})
            for party_id, events in parties.items():
                merged = {e.event_id: e for e in mine.get(party_id, [])}
                merged.update({e.event_id: e for e in events})
                mine[party_id] = sorted(merged.values(), key=_order)
        self.keys |= other.keys
        self.event_ids |= other.event_ids
        times = [t for t in (self.first_time, other.first_time) if t is not None]
        self.first_time = min(times) if times else None
        times = [t for t in (self.last_time, other.last_time) if t is not None]
        self.last_time = max(times) if times else None
        self.finished_at = None

    def legs(self) -> list[PartyLeg]:
        """Every party as a leg, in the order the parties appeared, with the rules that need
        the whole call applied (answered elsewhere, transfers, the caller's early Answered)."""
        legs = [
            read_party(events) for parties in self.sessions.values() for events in parties.values()
        ]
        legs.sort(key=lambda leg: (leg.started, leg.first.sequence, leg.party_id))
        return settle(legs)

    def all_ended(self) -> bool:
        """Every party is Disconnected or Gone, and every Gone party's peer session is known
        (a Gone party's conversation continues there)."""
        for parties in self.sessions.values():
            for events in parties.values():
                last = events[-1]
                if not last.status.terminal:
                    return False
                if (
                    last.status is PartyStatus.GONE
                    and last.peer_session_id
                    and last.peer_session_id not in self.sessions
                ):
                    return False
        return True

    def events(self) -> list[CallEvent]:
        return sorted(
            (e for parties in self.sessions.values() for evs in parties.values() for e in evs),
            key=lambda e: (e.time, e.session_id, e.order),
        )

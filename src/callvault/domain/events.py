"""Call events: one party of a call changing state, in callvault's canonical form.

Every live source (the native event API, RingCentral Telephony Session webhooks, simulators) is
translated into ``CallEvent``s; the correlator turns them into calls. Times are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from callvault.domain.enums import Direction


class PartyStatus(StrEnum):
    """A party's state, as RingCentral's ``status.code`` names it."""

    SETUP = "Setup"
    PROCEEDING = "Proceeding"
    ANSWERED = "Answered"
    HOLD = "Hold"
    PARKED = "Parked"
    VOICEMAIL = "VoiceMail"
    VOICEMAIL_SCREENING = "VoiceMailScreening"
    FAX_RECEIVE = "FaxReceive"
    TDS = "Tds"
    DISCONNECTED = "Disconnected"
    GONE = "Gone"

    @property
    def terminal(self) -> bool:
        """``Disconnected`` ends the party; ``Gone`` ends it in this session (it lives on in
        the peer session)."""
        return self in (PartyStatus.DISCONNECTED, PartyStatus.GONE)


class CallOrigin(StrEnum):
    CALL = "Call"
    RINGOUT = "RingOut"
    RINGME = "RingMe"
    CONFERENCE = "Conference"
    GREETINGS_RECORDING = "GreetingsRecording"
    VERIFICATION_CALL = "VerificationCall"
    ZOOM = "Zoom"
    CALL_OUT = "CallOut"
    TEST_CALL = "TestCall"


class RingOutRole(StrEnum):
    """In a RingOut, the Initiator leg rings the user first; the Target leg rings the callee."""

    INITIATOR = "Initiator"
    TARGET = "Target"


@dataclass(slots=True, frozen=True)
class Endpoint:
    """One side (from / to) of a party as the event describes it."""

    phone_number: str | None = None
    name: str | None = None
    extension_number: str | None = None
    extension_id: str | None = None
    device_id: str | None = None


@dataclass(slots=True, frozen=True, kw_only=True)
class CallEvent:
    """One party's state change. ``direction`` is technical: ``Outbound`` is the calling side
    (the leg comes into the phone system), ``Inbound`` the called side (the system rings out)."""

    event_id: str
    session_id: str
    sequence: int
    time: datetime
    party_id: str
    direction: Direction
    status: PartyStatus
    reason: str | None = None
    origin: CallOrigin = CallOrigin.CALL
    legacy_session_id: str | None = None
    extension_id: int | None = None
    from_endpoint: Endpoint | None = None
    to_endpoint: Endpoint | None = None
    peer_session_id: str | None = None
    peer_party_id: str | None = None
    queue_call: bool = False
    ring_out_role: RingOutRole | None = None
    sip_call_id: str | None = None
    recording_id: str | None = None

    @property
    def order(self) -> tuple[int, datetime, str]:
        """Chronology within a session: ``sequence`` first (the source's own counter), then
        event time, then id, so replays sort identically whatever the arrival order."""
        return (self.sequence, self.time, self.event_id)

"""The call record: one entry of a call log, its legs and parties, and the CDR facts behind them.

A ``CallRecord`` mirrors everything RingCentral's ``CallLogRecord`` can say, plus the per-leg facts
a PBX's CDR knows (ring/answer/end time, SIP Call-ID and status, trunk, cost …) so that every API
face can be served from the same stored record without a schema change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from callvault.domain.enums import (
    Action,
    CallType,
    DelegationType,
    Direction,
    Disconnector,
    InternalType,
    LegType,
    Reason,
    RecordingType,
    Result,
    Transport,
)


@dataclass(slots=True)
class Party:
    """One end of a call or leg as the phone system saw it."""

    phone_number: str | None = None
    extension_number: str | None = None
    extension_id: str | None = None
    name: str | None = None
    location: str | None = None
    device_id: str | None = None
    # The unmodified number as dialled or as presented, before normalisation.
    dialer_phone_number: str | None = None
    dialed_phone_number: str | None = None


@dataclass(slots=True)
class Recording:
    id: str
    type: RecordingType = RecordingType.AUTOMATIC
    # Where the audio can be fetched when it is not (yet) in callvault's own recording store.
    content_uri: str | None = None
    # Whether callvault's recording store holds the audio (set when audio is attached, cleared
    # when it is deleted), so attaching or deleting audio changes the record.
    held: bool = False


@dataclass(slots=True)
class Message:
    """A voicemail or fax left in the message store as part of the call."""

    id: str
    type: str
    uri: str | None = None


@dataclass(slots=True)
class Delegate:
    """The secretary extension that handled a boss's call."""

    id: str
    name: str | None = None


@dataclass(slots=True)
class Billing:
    cost_included: float = 0.0
    cost_purchased: float = 0.0


@dataclass(slots=True)
class CdrFacts:
    """What a PBX's CDR knows about a leg beyond RingCentral's record."""

    ring_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    disconnected_by: Disconnector | None = None
    reroute_reason: str | None = None
    sip_call_id: str | None = None
    sip_status_code: int | None = None
    trunk: str | None = None
    did: str | None = None
    outbound_caller_id: str | None = None
    cost: float | None = None
    billed_account: str | None = None
    user_data: str | None = None
    # The SIP domain (or host, for trunk calls) of the calling and the called side.
    from_domain: str | None = None
    to_domain: str | None = None
    # The address the PBX sent this leg to (a SIP URI or a number), when it differs from "to".
    destination: str | None = None
    # The queue or ring-group number that served the call.
    service_number: str | None = None
    # Why the call came to this leg rather than to the party first dialled: a transfer, a queue
    # overflow, a forwarding rule … (``reroute_reason`` is why this leg handed the call on).
    reached_by: str | None = None


@dataclass(slots=True, kw_only=True)
class CallBase:
    """Fields shared by a call record and each of its legs (RingCentral's BaseCallLogRecord)."""

    type: CallType = CallType.VOICE
    direction: Direction
    action: Action = Action.PHONE_CALL
    start_time: datetime
    duration_ms: int = 0
    result: Result | None = None
    reason: Reason | None = None
    reason_description: str | None = None
    extension_id: int | None = None
    telephony_session_id: str | None = None
    sip_uuid_info: str | None = None
    transfer_target_session_id: str | None = None
    transferee_session_id: str | None = None
    party_id: str | None = None
    transport: Transport | None = None
    from_party: Party | None = None
    to_party: Party | None = None
    message: Message | None = None
    delegate: Delegate | None = None
    delegation_type: DelegationType | None = None
    recording: Recording | None = None
    short_recording: bool = False
    billing: Billing | None = None
    internal_type: InternalType | None = None
    metadata_categories: list[str] = field(default_factory=list)
    finished: bool | None = None
    cdr: CdrFacts = field(default_factory=CdrFacts)

    @property
    def duration(self) -> int:
        """Whole seconds, rounded half up as RingCentral's ``duration`` is."""
        return (self.duration_ms + 500) // 1000


@dataclass(slots=True, kw_only=True)
class Leg(CallBase):
    """One routing hop of a call: the trunk leg, a FindMe leg, the leg to a device …"""

    leg_type: LegType = LegType.UNKNOWN
    master: bool = False


@dataclass(slots=True, kw_only=True)
class CallRecord(CallBase):
    """One entry of a call log: a call as one extension (or the company) saw it, with its legs.

    ``id`` is unique within the account. ``extension_id`` is the owner whose log holds the
    record; ``None`` means it belongs only to the company log (e.g. a call that never reached
    an extension).
    """

    id: str
    session_id: str
    legs: list[Leg] = field(default_factory=list)
    deleted: bool = False
    last_modified_time: datetime | None = None

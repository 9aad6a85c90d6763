"""Every enumeration of the call model, with the spellings vendors have used over time.

Values are the current RingCentral spellings (what we emit). ``parse_*`` helpers accept every
historical or case variant (what we ingest), so a record exported years ago still loads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class CallType(StrEnum):
    VOICE = "Voice"
    FAX = "Fax"


class Direction(StrEnum):
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class Transport(StrEnum):
    PSTN = "PSTN"
    VOIP = "VoIP"


class RecordingType(StrEnum):
    AUTOMATIC = "Automatic"
    ON_DEMAND = "OnDemand"


class DelegationType(StrEnum):
    COWORKER = "Coworker"
    QUEUE_FORWARDING = "QueueForwarding"
    UNKNOWN = "Unknown"


class Action(StrEnum):
    ACCEPT_CALL = "Accept Call"
    BARGE_IN_CALL = "Barge In Call"
    CALL_PARK = "Call Park"
    CALL_RETURN = "Call Return"
    CALLOUT_CALLME = "CallOut-CallMe"
    CALLING_CARD = "Calling Card"
    CONFERENCE_CALL = "Conference Call"
    E911_UPDATE = "E911 Update"
    EMERGENCY = "Emergency"
    EXTERNAL_APPLICATION = "External Application"
    FIND_ME = "FindMe"
    FOLLOW_ME = "FollowMe"
    FREE_SPDL = "FreeSPDL"
    HUNTING = "Hunting"
    INCOMING_FAX = "Incoming Fax"
    MONITORING = "Monitoring"
    MOVE = "Move"
    OUTGOING_FAX = "Outgoing Fax"
    PAGING = "Paging"
    PARK_LOCATION = "Park Location"
    PHONE_CALL = "Phone Call"
    PHONE_LOGIN = "Phone Login"
    PICKUP = "Pickup"
    RC_MEETINGS = "RC Meetings"
    RING_DIRECTLY = "Ring Directly"
    RING_ME = "RingMe"
    RINGOUT_MOBILE = "RingOut Mobile"
    RINGOUT_PC = "RingOut PC"
    RINGOUT_WEB = "RingOut Web"
    SIP_FORWARDING = "Sip Forwarding"
    SUPPORT = "Support"
    TEXT_RELAY = "Text Relay"
    TRANSFER = "Transfer"
    UNKNOWN = "Unknown"
    VOIP_CALL = "VoIP Call"
    VOICECHAT_CALL = "VoiceChat Call"


class Result(StrEnum):
    R_911 = "911"
    R_933 = "933"
    ABANDONED = "Abandoned"
    ACCEPTED = "Accepted"
    ANSWERED_NOT_ACCEPTED = "Answered Not Accepted"
    BLOCKED = "Blocked"
    BUSY = "Busy"
    CALL_FAILED = "Call Failed"
    CALL_FAILURE = "Call Failure"
    CALL_CONNECTED = "Call connected"
    CARRIER_NOT_ACTIVE = "Carrier is not active"
    DECLINED = "Declined"
    EDGE_TRUNK_MISCONFIGURED = "EDGE trunk misconfigured"
    FAX_NOT_SENT = "Fax Not Sent"
    FAX_PARTIALLY_SENT = "Fax Partially Sent"
    FAX_POOR_LINE = "Fax Poor Line"
    FAX_RECEIPT_ERROR = "Fax Receipt Error"
    FAX_ON_DEMAND = "Fax on Demand"
    HANG_UP = "Hang Up"
    IP_PHONE_OFFLINE = "IP Phone Offline"
    IN_PROGRESS = "In Progress"
    INTERNAL_ERROR = "Internal Error"
    INTERNATIONAL_DISABLED = "International Disabled"
    INTERNATIONAL_RESTRICTED = "International Restricted"
    MISSED = "Missed"
    NO_ANSWER = "No Answer"
    NO_CALLING_CREDIT = "No Calling Credit"
    NOT_ALLOWED = "Not Allowed"
    PARTIAL_RECEIVE = "Partial Receive"
    PHONE_LOGIN = "Phone Login"
    RECEIVE_ERROR = "Receive Error"
    RECEIVED = "Received"
    REJECTED = "Rejected"
    REPLY = "Reply"
    RESTRICTED_NUMBER = "Restricted Number"
    SEND_ERROR = "Send Error"
    SENT = "Sent"
    SENT_TO_VOICEMAIL = "Sent to Voicemail"
    STOPPED = "Stopped"
    SUSPENDED_ACCOUNT = "Suspended account"
    UNKNOWN = "Unknown"
    VOICEMAIL = "Voicemail"
    WRONG_NUMBER = "Wrong Number"
    ANSWERED_ELSEWHERE = "Answered Elsewhere"
    CALLBACK_REQUESTED = "Callback requested"


class Reason(StrEnum):
    ACCEPTED = "Accepted"
    BAD_NUMBER = "Bad Number"
    CALL_LOOP = "Call Loop"
    CALLS_NOT_ACCEPTED = "Calls Not Accepted"
    CARRIER_NOT_ACTIVE = "Carrier is not active"
    CONNECTED = "Connected"
    CUSTOMER_611_RESTRICTED = "Customer 611 Restricted"
    EDGE_TRUNK_MISCONFIGURED = "EDGE trunk misconfigured"
    EMERGENCY_ADDRESS_NOT_DEFINED = "Emergency Address not defined"
    FAILED_TRY_AGAIN = "Failed Try Again"
    FAX_NOT_RECEIVED = "Fax Not Received"
    FAX_NOT_SENT = "Fax Not Sent"
    FAX_PARTIALLY_SENT = "Fax Partially Sent"
    FAX_POOR_LINE = "Fax Poor Line"
    FAX_PREPARE_ERROR = "Fax Prepare Error"
    FAX_SAVE_ERROR = "Fax Save Error"
    FAX_SEND_ERROR = "Fax Send Error"
    HANG_UP = "Hang Up"
    INFO_411_RESTRICTED = "Info 411 Restricted"
    INTERNAL_CALL_ERROR = "Internal Call Error"
    INTERNAL_ERROR = "Internal Error"
    INTERNATIONAL_DISABLED = "International Disabled"
    INTERNATIONAL_RESTRICTED = "International Restricted"
    LINE_BUSY = "Line Busy"
    MAX_CALL_LIMIT = "Max Call Limit"
    NO_ANSWER = "No Answer"
    NO_CREDIT = "No Credit"
    NO_DIGITAL_LINE = "No Digital Line"
    NOT_ANSWERED = "Not Answered"
    NUMBER_BLOCKED = "Number Blocked"
    NUMBER_DISABLED = "Number Disabled"
    NUMBER_NOT_ALLOWED = "Number Not Allowed"
    RECEIVE_ERROR = "Receive Error"
    RESOURCE_ERROR = "Resource Error"
    RESTRICTED_NUMBER = "Restricted Number"
    STOPPED = "Stopped"
    TOO_MANY_CALLS = "Too Many Calls"
    UNKNOWN = "Unknown"
    WRONG_NUMBER = "Wrong Number"


class LegType(StrEnum):
    SIP_FORWARDING = "SipForwarding"
    SERVICE_MINUS_2 = "ServiceMinus2"
    SERVICE_MINUS_3 = "ServiceMinus3"
    PSTN_TO_SIP = "PstnToSip"
    ACCEPT = "Accept"
    FIND_ME = "FindMe"
    FOLLOW_ME = "FollowMe"
    TEST_CALL = "TestCall"
    FAX_SENT = "FaxSent"
    CALL_BACK = "CallBack"
    CALLING_CARD = "CallingCard"
    RING_DIRECTLY = "RingDirectly"
    RINGOUT_WEB_TO_SUBSCRIBER = "RingOutWebToSubscriber"
    RINGOUT_WEB_TO_CALLER = "RingOutWebToCaller"
    SIP_TO_PSTN_METERED = "SipToPstnMetered"
    RINGOUT_CLIENT_TO_SUBSCRIBER = "RingOutClientToSubscriber"
    RINGOUT_CLIENT_TO_CALLER = "RingOutClientToCaller"
    RING_ME = "RingMe"
    TRANSFER_CALL = "TransferCall"
    SIP_TO_PSTN_UNMETERED = "SipToPstnUnmetered"
    RINGOUT_DEVICE_TO_SUBSCRIBER = "RingOutDeviceToSubscriber"
    RINGOUT_DEVICE_TO_CALLER = "RingOutDeviceToCaller"
    RINGOUT_ONE_LEG_TO_CALLER = "RingOutOneLegToCaller"
    EXTENSION_TO_EXTENSION = "ExtensionToExtension"
    CALL_PARK = "CallPark"
    PAGING_SERVER = "PagingServer"
    HUNTING = "Hunting"
    OUTGOING_FREE_SP_DL = "OutgoingFreeSpDl"
    PARK_LOCATION = "ParkLocation"
    CALL_ME_CALL_OUT = "CallMeCallOut"
    CONFERENCE_CALL = "ConferenceCall"
    MOBILE_APP = "MobileApp"
    MOVE_TO_CONFERENCE = "MoveToConference"
    UNKNOWN = "Unknown"
    MEETINGS_CALL = "MeetingsCall"
    SILENT_MONITORING = "SilentMonitoring"
    MONITORING = "Monitoring"
    PICKUP = "Pickup"
    IMS_CALL = "ImsCall"
    JOIN_CALL = "JoinCall"
    TEXT_RELAY = "TextRelay"
    IVA_CALL = "IvaCall"
    VOICE_CHAT = "VoiceChat"


class InternalType(StrEnum):
    LOCAL = "Local"
    LONG_DISTANCE = "LongDistance"
    INTERNATIONAL = "International"
    SIP = "Sip"
    RING_ME = "RingMe"
    RING_OUT = "RingOut"
    USUAL = "Usual"
    TOLL_FREE_NUMBER = "TollFreeNumber"
    VERIFICATION_NUMBER = "VerificationNumber"
    VMA = "Vma"
    LOCAL_NUMBER = "LocalNumber"
    IMS_OUTGOING = "ImsOutgoing"
    IMS_INCOMING = "ImsIncoming"
    UNKNOWN = "Unknown"


class Disconnector(StrEnum):
    """Which side hung up first: a CDR fact most PBXs record (PortSIP ``end_reason`` etc.)."""

    CALLER = "caller"
    CALLEE = "callee"
    SYSTEM = "system"
    UNKNOWN = "unknown"


# Spellings published at some point and since retired or re-cased. Keys are normalised
# (lower-case, no spaces/underscores/hyphens) so "line Busy", "LINE_BUSY" and "LineBusy" meet.
_RETIRED: dict[type[StrEnum], dict[str, str]] = {
    Action: {"411info": "Unknown"},
    # Older specs: "No fax machine", "Poor Line Quality", "ResultEmpty".
    Result: {
        "nofaxmachine": "Fax Not Sent",
        "poorlinequality": "Fax Poor Line",
        "resultempty": "Unknown",
        "voicemail": "Voicemail",
        "answeredelsewhere": "Answered Elsewhere",
    },
    Reason: {"descnoe911address": "Emergency Address not defined"},
    InternalType: {},
}

E = TypeVar("E", bound=StrEnum)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


_INDEX: dict[type[StrEnum], dict[str, StrEnum]] = {}


def parse_enum(enum: type[E], value: str) -> E:
    """Return the member of ``enum`` spelled by ``value`` in any historical spelling or case.

    Raises ``ValueError`` naming the accepted values when nothing matches.
    """
    try:
        return enum(value)  # the current spelling: the usual case, no normalising needed
    except ValueError:
        pass
    index = _INDEX.get(enum)
    if index is None:
        index = {_norm(m.value): m for m in enum}
        index.update({_norm(m.name): m for m in enum})
        for old, new in _RETIRED.get(enum, {}).items():
            index[old] = enum(new)
        _INDEX[enum] = index
    member = index.get(_norm(value))
    if member is None:
        raise ValueError(f"{value!r} is not one of: {', '.join(m.value for m in enum)}")
    return member  # type: ignore[return-value]

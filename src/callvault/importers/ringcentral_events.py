"""RingCentral Telephony Session notifications → ``CallEvent``s.

Takes the webhook envelope exactly as RingCentral POSTs it (flat, or wrapped in the old
``pn_apns`` push envelope), one event per element of ``body.parties``. RingCentral extension ids
are mapped through a caller-supplied ``link`` function (which may create extensions); unknown
reasons are kept verbatim; status spellings from every source are accepted (``Voicemail``,
``VMScreening`` …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callvault.domain.enums import Direction, parse_enum
from callvault.domain.events import CallEvent, CallOrigin, Endpoint, RingOutRole
from callvault.importers.native_events import parse_status
from callvault.importers.ringcentral_json import RecordError, parse_time

# (RingCentral extension id, short number hint, name hint) → callvault extension id
ExtensionLinker = Callable[[str, str | None, str | None], int]


def envelope_body(envelope: Any) -> dict[str, Any]:
    """The notification body, from a flat or ``pn_apns``-wrapped envelope."""
    if not isinstance(envelope, dict):
        raise RecordError("notification", "must be a JSON object")
    if "body" not in envelope and isinstance(envelope.get("pn_apns"), dict):
        envelope = envelope["pn_apns"]
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise RecordError("body", "is required and must be an object")
    return body


def _short_number(ep: dict[str, Any]) -> str | None:
    number = ep.get("extensionNumber") or ep.get("phoneNumber")
    return str(number) if number and str(number).isdigit() and len(str(number)) <= 8 else None


def _endpoint(raw: Any, link: ExtensionLinker, field: str) -> Endpoint | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RecordError(field, "must be an object")
    rc_ext = raw.get("extensionId")
    ext_id = str(link(str(rc_ext), _short_number(raw), raw.get("name"))) if rc_ext else None
    return Endpoint(
        phone_number=raw.get("phoneNumber"),
        name=raw.get("name"),
        extension_number=raw.get("extensionNumber"),
        extension_id=ext_id,
        device_id=raw.get("deviceId"),
    )


def parse_notification(envelope: Any, link: ExtensionLinker) -> list[CallEvent]:
    """Every party of one notification as an event; raises ``RecordError`` on a bad field.

    The event id is the notification ``uuid`` plus the party id, so a redelivered
    notification is recognised as a duplicate.
    """
    body = envelope_body(envelope)
    uuid = (envelope.get("uuid") if isinstance(envelope, dict) else None) or (
        envelope.get("pn_apns", {}).get("uuid") if isinstance(envelope, dict) else None
    )
    session = body.get("telephonySessionId")
    if not session:
        raise RecordError("body.telephonySessionId", "is required")
    sequence = body.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise RecordError("body.sequence", "is required and must be an integer")
    when = parse_time(str(body.get("eventTime") or ""), "body.eventTime")
    origin_type = (body.get("origin") or {}).get("type")
    try:
        origin = parse_enum(CallOrigin, origin_type) if origin_type else CallOrigin.CALL
    except ValueError:
        origin = CallOrigin.CALL  # a new origin kind must not lose the event
    parties = body.get("parties")
    if not isinstance(parties, list) or not parties:
        raise RecordError("body.parties", "must be a non-empty array")
    events = []
    for n, party in enumerate(parties):
        events.append(
            _party_event(party, n, body, uuid, str(session), sequence, when, origin, link)
        )
    return events


def _party_event(
    party: Any,
    n: int,
    body: dict[str, Any],
    uuid: Any,
    session: str,
    sequence: int,
    when: Any,
    origin: CallOrigin,
    link: ExtensionLinker,
) -> CallEvent:
    path = f"body.parties[{n}]"
    if not isinstance(party, dict):
        raise RecordError(path, "must be an object")
    party_id = party.get("id")
    if not party_id:
        raise RecordError(f"{path}.id", "is required")
    status = party.get("status") or {}
    code = status.get("code")
    if not code:
        raise RecordError(f"{path}.status.code", "is required")
    try:
        direction = parse_enum(Direction, str(party.get("direction") or ""))
    except ValueError as exc:
        raise RecordError(f"{path}.direction", str(exc)) from None
    owner = party.get("extensionId") or (party.get("owner") or {}).get("extensionId")
    to_raw = party.get("to") or {}
    extension_id = None
    if owner:
        # The party's own side: "to" for the called side, "from" for the calling side.
        own = to_raw if direction is Direction.INBOUND else (party.get("from") or {})
        extension_id = link(str(owner), _short_number(own), own.get("name"))
    peer = status.get("peerId") or {}
    sip = party.get("sipData") or {}
    recordings = party.get("recordings") or []
    role = party.get("ringOutRole")
    try:
        ring_out_role = parse_enum(RingOutRole, role) if role else None
    except ValueError:
        ring_out_role = None
    return CallEvent(
        event_id=f"{uuid or session + ':' + str(sequence)}:{party_id}",
        session_id=session,
        legacy_session_id=str(body["sessionId"]) if body.get("sessionId") else None,
        sequence=sequence,
        time=when,
        origin=origin,
        party_id=str(party_id),
        direction=direction,
        status=parse_status(str(code), f"{path}.status.code"),
        reason=status.get("reason"),
        extension_id=extension_id,
        from_endpoint=_endpoint(party.get("from"), link, f"{path}.from"),
        to_endpoint=_endpoint(party.get("to"), link, f"{path}.to"),
        peer_session_id=peer.get("telephonySessionId") or peer.get("sessionId"),
        peer_party_id=peer.get("partyId"),
        queue_call=bool(party.get("queueCall")),
        ring_out_role=ring_out_role,
        sip_call_id=sip.get("callId"),
        recording_id=str(recordings[0]["id"]) if recordings and recordings[0].get("id") else None,
    )

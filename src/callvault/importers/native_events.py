"""callvault's canonical call-event JSON → ``CallEvent``.

One event is one party changing state::

    {"id": "evt-1", "sessionId": "s-1", "sequence": 2, "time": "2024-05-01T12:00:00.000Z",
     "origin": "Call", "legacySessionId": "4291804",
     "party": {"id": "p-1", "direction": "Outbound", "status": "Setup", "reason": null,
               "extensionId": "123456789" | "extensionNumber": "101",
               "from": {"phoneNumber": "+14155550101", "name": "Caller"},
               "to": {"phoneNumber": "+16505550100"},
               "peer": {"sessionId": "s-2", "partyId": "p-2-1"},
               "queueCall": false, "ringOutRole": "Initiator",
               "sipCallId": "abc@pbx", "recordingId": "9001"}}

``direction`` is technical, as RingCentral's: ``Outbound`` for the calling side, ``Inbound``
for the side being called. Status and origin accept RingCentral's spellings in any case
(``Voicemail``, ``VMScreening`` …). Unknown reasons are kept verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callvault.domain.enums import Direction, parse_enum
from callvault.domain.events import CallEvent, CallOrigin, Endpoint, PartyStatus, RingOutRole
from callvault.importers.ringcentral_json import RecordError, parse_time

# extension reference (id or short number, as sent) → callvault extension id, or None.
ExtensionResolver = Callable[[str | None, str | None], int | None]

_STATUS_ALIASES = {"vmscreening": "VoiceMailScreening", "voicemail": "VoiceMail"}


def _text(obj: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"{path}{key}", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(f"{path}{key}", "must be a string")
    return str(value)


def _endpoint(value: Any, path: str) -> Endpoint | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError(path, "must be an object")
    return Endpoint(
        phone_number=_text(value, "phoneNumber", f"{path}."),
        name=_text(value, "name", f"{path}."),
        extension_number=_text(value, "extensionNumber", f"{path}."),
        extension_id=_text(value, "extensionId", f"{path}."),
        device_id=_text(value, "deviceId", f"{path}."),
    )


def parse_status(text: str, field: str) -> PartyStatus:
    text = _STATUS_ALIASES.get(text.lower(), text)
    try:
        return parse_enum(PartyStatus, text)
    except ValueError as exc:
        raise RecordError(field, str(exc)) from None


def parse_event(data: Any, resolve: ExtensionResolver) -> CallEvent:
    """One canonical event → ``CallEvent``; raises ``RecordError`` naming the bad field."""
    if not isinstance(data, dict):
        raise RecordError("event", "must be a JSON object")
    party = data.get("party")
    if not isinstance(party, dict):
        raise RecordError("party", "is required and must be an object")
    sequence = data.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise RecordError("sequence", "is required and must be a non-negative integer")
    time_text = _text(data, "time", "", required=True) or ""
    try:
        direction = parse_enum(Direction, _text(party, "direction", "party.", required=True) or "")
    except ValueError as exc:
        raise RecordError("party.direction", str(exc)) from None
    status = parse_status(_text(party, "status", "party.", required=True) or "", "party.status")
    origin_text = _text(data, "origin", "")
    try:
        origin = parse_enum(CallOrigin, origin_text) if origin_text else CallOrigin.CALL
    except ValueError as exc:
        raise RecordError("origin", str(exc)) from None
    role_text = _text(party, "ringOutRole", "party.")
    try:
        role = parse_enum(RingOutRole, role_text) if role_text else None
    except ValueError as exc:
        raise RecordError("party.ringOutRole", str(exc)) from None
    ext_id_text = _text(party, "extensionId", "party.")
    ext_number = _text(party, "extensionNumber", "party.")
    extension_id = None
    if ext_id_text or ext_number:
        extension_id = resolve(ext_id_text, ext_number)
        if extension_id is None:
            field = "party.extensionId" if ext_id_text else "party.extensionNumber"
            raise RecordError(field, f"no such extension: {ext_id_text or ext_number}")
    peer = party.get("peer") or {}
    if not isinstance(peer, dict):
        raise RecordError("party.peer", "must be an object")
    queue_call = party.get("queueCall", False)
    if not isinstance(queue_call, bool):
        raise RecordError("party.queueCall", "must be true or false")
    return CallEvent(
        event_id=_text(data, "id", "", required=True) or "",
        session_id=_text(data, "sessionId", "", required=True) or "",
        legacy_session_id=_text(data, "legacySessionId", ""),
        sequence=sequence,
        time=parse_time(time_text, "time"),
        origin=origin,
        party_id=_text(party, "id", "party.", required=True) or "",
        direction=direction,
        status=status,
        reason=_text(party, "reason", "party."),
        extension_id=extension_id,
        from_endpoint=_endpoint(party.get("from"), "party.from"),
        to_endpoint=_endpoint(party.get("to"), "party.to"),
        peer_session_id=_text(peer, "sessionId", "party.peer."),
        peer_party_id=_text(peer, "partyId", "party.peer."),
        queue_call=queue_call,
        ring_out_role=role,
        sip_call_id=_text(party, "sipCallId", "party."),
        recording_id=_text(party, "recordingId", "party."),
    )


def event_to_json(event: CallEvent) -> dict[str, Any]:
    """The canonical JSON of an event (the inverse of ``parse_event``, extension by id)."""

    def ep(e: Endpoint | None) -> dict[str, str] | None:
        if e is None:
            return None
        out = {
            "phoneNumber": e.phone_number,
            "name": e.name,
            "extensionNumber": e.extension_number,
            "extensionId": e.extension_id,
            "deviceId": e.device_id,
        }
        return {k: v for k, v in out.items() if v is not None}

    party: dict[str, Any] = {
        "id": event.party_id,
        "direction": event.direction.value,
        "status": event.status.value,
        "reason": event.reason,
        "extensionId": str(event.extension_id) if event.extension_id is not None else None,
        "from": ep(event.from_endpoint),
        "to": ep(event.to_endpoint),
        "queueCall": event.queue_call or None,
        "ringOutRole": event.ring_out_role.value if event.ring_out_role else None,
        "sipCallId": event.sip_call_id,
        "recordingId": event.recording_id,
    }
    if event.peer_session_id or event.peer_party_id:
        party["peer"] = {"sessionId": event.peer_session_id, "partyId": event.peer_party_id}
    out: dict[str, Any] = {
        "id": event.event_id,
        "sessionId": event.session_id,
        "legacySessionId": event.legacy_session_id,
        "sequence": event.sequence,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "origin": event.origin.value,
        "party": {k: v for k, v in party.items() if v is not None},
    }
    return {k: v for k, v in out.items() if v is not None}

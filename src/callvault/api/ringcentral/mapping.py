"""``CallRecord`` → RingCentral ``CallLogRecord`` JSON, in Simple or Detailed view.

Emits only fields of the published schema, with its JSON types (``extension.id`` a number, ids
strings) and current enum spellings; absent values are left out rather than sent as null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callvault.domain.calls import CallBase, CallRecord, Party

API = "/restapi/v1.0"


def rc_time(value: datetime) -> str:
    """RingCentral's timestamp form: UTC, milliseconds, ``Z``."""
    # isoformat zero-pads the year (below 1000 too) and is about 3 times faster than strftime.
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


class Uris:
    """Absolute URIs of one account's resources, as clients follow them verbatim."""

    __slots__ = ("account", "account_id", "base", "media")

    def __init__(self, base_url: str, media_url: str, account_id: int) -> None:
        self.base = base_url.rstrip("/")
        self.media = media_url.rstrip("/")
        self.account_id = account_id
        self.account = f"{self.base}{API}/account/{account_id}"

    def extension(self, extension_id: int | str) -> str:
        return f"{self.account}/extension/{extension_id}"

    def record(self, record_id: str, view: str, extension_id: int | None) -> str:
        owner = self.extension(extension_id) if extension_id is not None else self.account
        return f"{owner}/call-log/{record_id}?view={view}"

    def recording(self, recording_id: str) -> str:
        return f"{self.account}/recording/{recording_id}"

    def recording_content(self, recording_id: str) -> str:
        return f"{self.media}{API}/account/{self.account_id}/recording/{recording_id}/content"

    def device(self, device_id: str) -> str:
        return f"{self.account}/device/{device_id}"


def _party(p: Party, uris: Uris, *, is_from: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.phone_number is not None:
        out["phoneNumber"] = p.phone_number
    if p.extension_number is not None:
        out["extensionNumber"] = p.extension_number
    if p.extension_id is not None:
        out["extensionId"] = p.extension_id
    if p.name is not None:
        out["name"] = p.name
    if p.location is not None:
        out["location"] = p.location
    if p.device_id is not None:
        out["device"] = {"id": p.device_id, "uri": uris.device(p.device_id)}
    if is_from and p.dialer_phone_number is not None:
        out["dialerPhoneNumber"] = p.dialer_phone_number
    if not is_from and p.dialed_phone_number is not None:
        out["dialedPhoneNumber"] = p.dialed_phone_number
    return out


def _base(r: CallBase, uris: Uris, detailed: bool) -> dict[str, Any]:
    # Enum members go in as they are: each is a ``StrEnum`` whose text is the current wire
    # spelling, and serializes as that (``.value`` is a slow property, read ~20 times a record).
    out: dict[str, Any] = {
        "type": r.type,
        "direction": r.direction,
        "action": r.action,
        "startTime": rc_time(r.start_time),
        "duration": r.duration,
        "durationMs": r.duration_ms,
    }
    if r.result is not None:
        out["result"] = r.result
    if r.reason is not None:
        out["reason"] = r.reason
    if r.reason_description is not None:
        out["reasonDescription"] = r.reason_description
    if r.internal_type is not None:
        out["internalType"] = r.internal_type
    if r.telephony_session_id is not None:
        out["telephonySessionId"] = r.telephony_session_id
    if r.sip_uuid_info is not None:
        out["sipUuidInfo"] = r.sip_uuid_info
    if r.party_id is not None:
        out["partyId"] = r.party_id
    if r.transfer_target_session_id is not None:
        out["transferTarget"] = {"telephonySessionId": r.transfer_target_session_id}
    if r.transferee_session_id is not None:
        out["transferee"] = {"telephonySessionId": r.transferee_session_id}
    if r.transport is not None:
        out["transport"] = r.transport
    if r.from_party is not None:
        out["from"] = _party(r.from_party, uris, is_from=True)
    if r.to_party is not None:
        out["to"] = _party(r.to_party, uris, is_from=False)
    if r.message is not None:
        m = r.message
        uri = m.uri or f"{uris.extension(r.extension_id or 0)}/message-store/{m.id}"
        out["message"] = {"id": m.id, "type": m.type, "uri": uri}
    if r.delegate is not None:
        d: dict[str, Any] = {"id": r.delegate.id}
        if r.delegate.name is not None:
            d["name"] = r.delegate.name
        out["delegate"] = d
    if r.delegation_type is not None:
        out["delegationType"] = r.delegation_type
    if r.recording is not None:
        rec = r.recording
        out["recording"] = {
            "id": rec.id,
            "uri": uris.recording(rec.id),
            "type": rec.type,
            "contentUri": uris.recording_content(rec.id),
        }
    if r.short_recording:
        out["shortRecording"] = True
    if r.metadata_categories:
        out["metadataCategories"] = list(r.metadata_categories)
    if r.finished is not None:
        out["finished"] = r.finished
    if detailed:
        if r.extension_id is not None:
            out["extension"] = {"id": r.extension_id, "uri": uris.extension(r.extension_id)}
        if r.billing is not None:
            out["billing"] = {
                "costIncluded": r.billing.cost_included,
                "costPurchased": r.billing.cost_purchased,
            }
    return out


def record_to_wire(
    record: CallRecord, uris: Uris, *, view: str, log_extension_id: int | None
) -> dict[str, Any]:
    """A record as listed in a company log (``log_extension_id`` None) or an extension's log."""
    detailed = view == "Detailed"
    out = _base(record, uris, detailed)
    out["id"] = record.id
    out["uri"] = uris.record(record.id, view, log_extension_id)
    out["sessionId"] = record.session_id
    if record.deleted:
        out["deleted"] = True
    if detailed:
        if record.last_modified_time is not None:
            out["lastModifiedTime"] = rc_time(record.last_modified_time)
        legs = []
        for leg in record.legs:
            wire = _base(leg, uris, True)
            wire["legType"] = leg.leg_type
            wire["master"] = leg.master
            legs.append(wire)
        out["legs"] = legs
    return out

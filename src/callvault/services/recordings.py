"""Call recordings: audio attached to call records, kept in the recording store, read back with
the same visibility as the call, and deleted on request.

Attaching audio updates the call record's ``recording`` (and its legs') through the ingest
write path, so the record's ``lastModifiedTime`` moves and sync clients see the change. Audio
shorter than ``short_seconds`` is not kept: the record says ``short_recording`` instead (as
RingCentral does for recordings under about 30 s).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from callvault.domain.calls import CallRecord, Leg, Recording
from callvault.domain.enums import RecordingType
from callvault.errors import Conflict, InvalidInput, NotFound
from callvault.services.audio import CONTENT_TYPES, EXTENSIONS, AudioProbe, NotAudio
from callvault.services.calls import CallService
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.ingest import IngestService
from callvault.storage.engine import Database
from callvault.storage.recordings import (
    BlobWriter,
    RecordingStore,
    StoredRecording,
    held_recordings,
    keys_in_use,
    live_recording,
    mark_deleted,
    recording_exists,
    save_recording,
)

__all__ = [
    "AttachOptions",
    "AttachResult",
    "RecordingNotFound",
    "RecordingService",
    "StoredRecording",
    "TooLarge",
    "Unsupported",
    "Upload",
]

logger = logging.getLogger("callvault.recordings")

DELETE_LIMIT = 100
# The longest recording id the recordings table holds.
MAX_ID_LENGTH = 64


class RecordingNotFound(NotFound):
    """No held audio under that recording id (or the viewer may not see it)."""

    def __init__(self, recording_id: str, field: str = "recordingId") -> None:
        super().__init__(f"recording {recording_id} does not exist", field=field)
        self.recording_id = recording_id


class TooLarge(InvalidInput):
    """The upload is larger than the configured limit."""

    code = "too-large"


class Unsupported(InvalidInput):
    """The declared media type is not one callvault keeps (WAV or MP3)."""

    code = "unsupported-media-type"


def declared_type(content_type: str | None) -> str | None:
    """The canonical type a Content-Type names, None when it leaves the choice to sniffing.

    Raises ``Unsupported`` for any other media type."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("", "application/octet-stream", "binary/octet-stream"):
        return None
    if media in CONTENT_TYPES:
        return CONTENT_TYPES[media]
    raise Unsupported(f"recordings are audio/mpeg or audio/wav, not {media}", field="Content-Type")


class Upload:
    """Audio on its way into the store: each chunk goes to a pending blob and the probe."""

    def __init__(self, writer: BlobWriter, declared: str | None, max_bytes: int) -> None:
        self._writer = writer
        self._probe = AudioProbe()
        self._declared = declared
        self._max = max_bytes
        self._open = True

    @property
    def size(self) -> int:
        return self._writer.size

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes; raises ``TooLarge`` or ``InvalidInput`` (not WAV/MP3)."""
        if not chunk:
            return
        if self._writer.size + len(chunk) > self._max:
            raise TooLarge(f"recordings are limited to {self._max} bytes", field="body")
        try:
            self._probe.feed(chunk)
        except NotAudio as exc:
            raise InvalidInput(f"body is not WAV or MP3 audio: {exc}", field="body") from None
        self._writer.write(chunk)

    def probe(self) -> tuple[str, int | None]:
        """(canonical content type, duration in ms or None when the audio does not say)."""
        if self._writer.size == 0:
            raise InvalidInput("request body is empty", field="body")
        try:
            result = self._probe.finish()
        except NotAudio as exc:
            raise InvalidInput(f"body is not WAV or MP3 audio: {exc}", field="body") from None
        if self._declared is not None and result.content_type != self._declared:
            raise InvalidInput(
                f"body is {result.content_type} audio, but was sent as {self._declared}",
                field="Content-Type",
            )
        return result.content_type, result.duration_ms

    def sha256(self) -> str:
        return self._writer.sha256()

    def commit(self, key: str) -> None:
        self._writer.commit(key)
        self._open = False

    def discard(self) -> None:
        """Drop the pending bytes (nothing happens once committed or discarded)."""
        if self._open:
            self._open = False
            self._writer.abort()


@dataclass(slots=True, frozen=True)
class AttachOptions:
    """Which leg the audio belongs to (index into the legs, or party id), the recording mode,
    and the length in seconds for audio whose own headers do not tell it."""

    leg_index: int | None = None
    party_id: str | None = None
    type: RecordingType | None = None
    duration_seconds: float | None = None


@dataclass(slots=True, frozen=True)
class AttachResult:
    record_id: str
    # The recording kept, or None when the audio was too short to keep.
    recording: StoredRecording | None
    type: RecordingType | None
    duration_ms: int
    # False when the same audio was already attached: nothing changed.
    changed: bool

    @property
    def short(self) -> bool:
        return self.recording is None


class RecordingService:
    def __init__(
        self,
        db: Database,
        ingest: IngestService,
        calls: CallService,
        store: RecordingStore,
        *,
        short_seconds: float = 30.0,
        max_bytes: int = 1 << 30,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.ingest = ingest
        self.calls = calls
        self.store = store
        self.short_ms = int(short_seconds * 1000)
        self.max_bytes = max_bytes
        self.clock = clock
        # Blobs are shared by identical audio: a delete must not remove a blob that an
        # upload in flight is about to reference.
        self._blob_lock = threading.Lock()

    # -- attach ---------------------------------------------------------------------------------

    def start_upload(self, account_id: int, record_id: str, content_type: str | None) -> Upload:
        """Check the call record exists and the media type is one we keep; returns the upload
        to feed. Raises ``NotFound`` or ``Unsupported``."""
        declared = declared_type(content_type)
        self._record(account_id, record_id)
        return Upload(self.store.writer(), declared, self.max_bytes)

    def attach(
        self, account_id: int, record_id: str, upload: Upload, options: AttachOptions
    ) -> AttachResult:
        """Attach the uploaded audio to the call record (or mark it short); returns what was
        kept. Raises ``NotFound``, ``InvalidInput`` or ``Conflict`` (other audio is attached
        to that recording already). The upload is committed or discarded either way."""
        try:
            return self._attach(account_id, record_id, upload, options)
        finally:
            upload.discard()

    def _attach(
        self, account_id: int, record_id: str, upload: Upload, options: AttachOptions
    ) -> AttachResult:
        content_type, measured = upload.probe()
        duration_ms = measured if measured is not None else _given_ms(options)
        record = self._record(account_id, record_id)
        leg = _pick_leg(record, options)
        current = leg.recording if leg is not None else record.recording
        rtype = options.type or (current.type if current else RecordingType.AUTOMATIC)
        if duration_ms < self.short_ms:
            _mark_short(record, leg, current)
            changed = self._write(account_id, record, None)
            return AttachResult(record.id, None, None, duration_ms, changed)
        sha = upload.sha256()
        rec_id = current.id if current is not None else self._new_id(account_id)
        if len(rec_id) > MAX_ID_LENGTH:
            raise InvalidInput(
                f"the call names recording {rec_id[:20]}…, an id too long to hold audio for",
                field="recording.id",
            )
        with self.db.read() as conn:
            held = live_recording(conn, account_id, rec_id)
        if held is not None:
            if held.sha256 == sha and held.record_id == record.id:
                return AttachResult(record.id, held, rtype, held.duration_ms, False)
            raise Conflict(
                f"recording {rec_id} already has audio; delete it before sending new audio",
                field="recording",
            )
        stored = StoredRecording(
            account_id=account_id,
            recording_id=rec_id,
            record_id=record.id,
            content_type=content_type,
            duration_ms=duration_ms,
            size=upload.size,
            sha256=sha,
            path_key=f"{sha[:2]}/{sha}{EXTENSIONS[content_type]}",
            created_ms=now_ms(self.clock),
            owner_extension_id=record.extension_id,
        )
        _place(record, leg, Recording(rec_id, rtype, held=True))
        with self._blob_lock:
            upload.commit(stored.path_key)
            try:
                self._write(account_id, record, stored)
            except Exception:
                self._drop_unused([stored.path_key])
                raise
        return AttachResult(record.id, stored, rtype, duration_ms, True)

    def _write(self, account_id: int, record: CallRecord, stored: StoredRecording | None) -> bool:
        """Store the changed record (and the recording row) in one transaction; returns
        whether the record changed."""

        def save(conn: Connection) -> None:
            if stored is not None:
                save_recording(conn, stored)

        report = self.ingest.ingest(account_id, [record], within=save)
        if report.problems:
            problem = report.problems[0]
            raise InvalidInput(problem.reason, field=problem.field)
        return report.updated > 0 or stored is not None

    def _record(self, account_id: int, record_id: str) -> CallRecord:
        found = self.calls.get_many(account_id, [record_id], with_legs=True)
        if record_id not in found:
            raise NotFound(f"call record {record_id} does not exist", field="recordId")
        return found[record_id]

    def _new_id(self, account_id: int) -> str:
        while True:
            candidate = str(10**11 + secrets.randbelow(9 * 10**11))
            with self.db.read() as conn:
                if not recording_exists(conn, account_id, candidate):
                    return candidate

    # -- read -----------------------------------------------------------------------------------

    def get(
        self, account_id: int, recording_id: str, *, viewer_extension_id: int | None
    ) -> StoredRecording:
        """The recording, if its audio is held and the viewer may see its call (None: the
        whole account, as an admin). Raises ``NotFound`` otherwise."""
        with self.db.read() as conn:
            rec = live_recording(conn, account_id, recording_id)
        if rec is None or (
            viewer_extension_id is not None and rec.owner_extension_id != viewer_extension_id
        ):
            raise RecordingNotFound(recording_id)
        return rec

    def local_path(self, rec: StoredRecording) -> Path | None:
        """The file holding the audio when the store keeps files (None: read it through
        ``store.read``)."""
        return self.store.local_path(rec.path_key)

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, account_id: int, recording_ids: list[str]) -> int:
        """Delete the audio of these recordings, all or nothing; their call records keep the
        ``recording`` (no longer held). Raises ``InvalidInput`` (none, or more than 100) or
        ``NotFound`` naming the first id whose audio is not held. Returns how many."""
        ids = list(dict.fromkeys(recording_ids))
        if not ids:
            raise InvalidInput("name at least one recording", field="records")
        if len(ids) > DELETE_LIMIT:
            raise InvalidInput(f"at most {DELETE_LIMIT} recordings at once", field="records")
        with self._blob_lock:
            with self.db.read() as conn:
                held = held_recordings(conn, account_id, ids)
            for rid in ids:
                if rid not in held:
                    raise RecordingNotFound(rid, field="records")
            records = self.calls.get_many(account_id, sorted(set(held.values())), with_legs=True)
            for record in records.values():
                _release(record, set(ids))
            keys: list[str] = []

            def mark(conn: Connection) -> None:
                keys.extend(mark_deleted(conn, account_id, ids, now_ms(self.clock)))

            self.ingest.ingest(account_id, list(records.values()), within=mark)
            self._drop_unused(keys)
        return len(ids)

    def _drop_unused(self, keys: list[str]) -> None:
        with self.db.read() as conn:
            used = keys_in_use(conn, keys)
        for key in keys:
            if key not in used:
                self.store.delete(key)


def _given_ms(options: AttachOptions) -> int:
    if options.duration_seconds is None:
        raise InvalidInput(
            "the audio does not say how long it is; send duration (seconds)", field="duration"
        )
    return round(options.duration_seconds * 1000)


def _pick_leg(record: CallRecord, options: AttachOptions) -> Leg | None:
    if options.leg_index is not None:
        if not 0 <= options.leg_index < len(record.legs):
            raise InvalidInput(
                f"the call record has {len(record.legs)} legs; no leg {options.leg_index}",
                field="leg",
            )
        return record.legs[options.leg_index]
    if options.party_id is not None:
        for leg in record.legs:
            if leg.party_id == options.party_id:
                return leg
        raise InvalidInput(f"no leg of the call has party {options.party_id}", field="partyId")
    return None


def _place(record: CallRecord, leg: Leg | None, recording: Recording) -> None:
    """Put the recording on the chosen leg (or, with none chosen, on the legs that already
    name it, else the master leg) and on the record unless it names another recording."""
    if record.recording is None or record.recording.id == recording.id:
        record.recording = recording
        record.short_recording = False
    targets = [leg] if leg is not None else _legs_naming(record, recording.id)
    if not targets and leg is None and record.legs:
        master = next((lg for lg in record.legs if lg.master), record.legs[0])
        targets = [master] if master.recording is None else []
    for target in targets:
        target.recording = recording
        target.short_recording = False


def _mark_short(record: CallRecord, leg: Leg | None, current: Recording | None) -> None:
    """Too short to keep: the recording it named (if any) goes, ``short_recording`` stays."""
    gone = current.id if current is not None else None
    affected = _legs_naming(record, gone) if gone is not None else []
    if leg is not None and all(lg is not leg for lg in affected):
        affected.append(leg)
    for lg in affected:
        lg.recording = None
        lg.short_recording = True
    if record.recording is None or record.recording.id == gone:
        record.recording = None
        record.short_recording = True


def _release(record: CallRecord, recording_ids: set[str]) -> None:
    """The audio of these recordings is gone: the record (and legs) keep naming them."""
    for part in (record, *record.legs):
        rec = part.recording
        if rec is not None and rec.id in recording_ids:
            part.recording = Recording(rec.id, rec.type, rec.content_uri, held=False)


def _legs_naming(record: CallRecord, recording_id: str) -> list[Leg]:
    return [lg for lg in record.legs if lg.recording and lg.recording.id == recording_id]

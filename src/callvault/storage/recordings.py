"""Recording audio and its metadata: the blob store (a small protocol, with a filesystem
implementation) and the ``recordings`` rows.

Blobs are immutable and keyed by the caller (the recording service derives keys from the content
hash, so identical audio is stored once). A blob is written to a pending file first and appears
under its key only when committed, so a reader never sees half an upload.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import Connection, and_, bindparam, func, select, update

from callvault.storage.schema import calls, recordings

_READ_CHUNK = 256 * 1024
_SPOOL_BYTES = 4 << 20


class BlobWriter(Protocol):
    """A blob being written: ``write`` the bytes, then ``commit`` them under a key or ``abort``.

    ``size`` and ``sha256`` describe everything written so far."""

    size: int

    def write(self, data: bytes) -> None: ...

    def sha256(self) -> str: ...

    def commit(self, key: str) -> None: ...

    def abort(self) -> None: ...


class RecordingStore(Protocol):
    """Where recording audio lives. The filesystem store is the default; an object store
    (S3 and the like) fits the same five calls, with ``local_path`` answering None."""

    def writer(self) -> BlobWriter: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def local_path(self, key: str) -> Path | None:
        """A file the server can hand to the OS to send, when the store has one."""
        ...

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of a blob, in chunks."""
        ...


def _checked_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad blob key {key!r}")
    return key


class _FileWriter:
    """Keeps the first ``_SPOOL_BYTES`` in memory and spills to a pending file beyond that, so
    a small upload that turns out to be a blob already stored never touches the disk."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._spool: bytearray | None = bytearray()
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._hash = hashlib.sha256()
        self.size = 0

    def _spill(self) -> BinaryIO:
        incoming = self._root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=incoming, suffix=".part")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        if self._spool:
            self._file.write(self._spool)
        self._spool = None
        return self._file

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        if self._spool is not None and len(self._spool) + len(data) <= _SPOOL_BYTES:
            self._spool += data
            return
        (self._file or self._spill()).write(data)

    def sha256(self) -> str:
        return self._hash.hexdigest()

    def commit(self, key: str) -> None:
        target = self._root / _checked_key(key)
        if target.exists():
            # Same key, same content: keep the blob already there.
            self.abort()
            return
        fh = self._file or self._spill()
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        assert self._path is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, target)

    def abort(self) -> None:
        self._spool = None
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class FileRecordingStore:
    """Blobs as files under ``root``; keys are relative paths such as ``ab/abcd….mp3``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def writer(self) -> BlobWriter:
        return _FileWriter(self.root)

    def exists(self, key: str) -> bool:
        return (self.root / _checked_key(key)).is_file()

    def delete(self, key: str) -> None:
        (self.root / _checked_key(key)).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self.root / _checked_key(key)

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with (self.root / _checked_key(key)).open("rb") as fh:
            fh.seek(start)
            left = end - start
            while left > 0:
                chunk = fh.read(min(_READ_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


# -- metadata rows ------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class StoredRecording:
    """A recording whose audio callvault holds; ``owner_extension_id`` is the owner of the call
    record it belongs to (None: a company-only record)."""

    account_id: int
    recording_id: str
    record_id: str
    content_type: str
    duration_ms: int
    size: int
    sha256: str
    path_key: str
    created_ms: int
    owner_extension_id: int | None = None

    @property
    def duration(self) -> int:
        """Whole seconds, rounded half up, as call durations are."""
        return (self.duration_ms + 500) // 1000


_COLUMNS = (
    recordings.c.account_id,
    recordings.c.recording_id,
    recordings.c.record_id,
    recordings.c.content_type,
    recordings.c.duration_ms,
    recordings.c.size,
    recordings.c.sha256,
    recordings.c.path_key,
    recordings.c.created_ms,
)


# Built once: a content request runs this for every Range a player asks for, and building the
# statement costs several times what running it does.
_LIVE = (
    select(*_COLUMNS, calls.c.owner_extension_id)
    .select_from(
        recordings.outerjoin(
            calls,
            and_(
                calls.c.account_id == recordings.c.account_id,
                calls.c.record_id == recordings.c.record_id,
            ),
        )
    )
    .where(
        recordings.c.account_id == bindparam("account_id"),
        recordings.c.recording_id == bindparam("recording_id"),
        recordings.c.deleted_ms.is_(None),
    )
)


def live_recording(conn: Connection, account_id: int, recording_id: str) -> StoredRecording | None:
    """The recording with its call record's owner, unless its audio was deleted."""
    row = conn.execute(_LIVE, {"account_id": account_id, "recording_id": recording_id}).first()
    return StoredRecording(**row._mapping) if row else None


def held_recordings(conn: Connection, account_id: int, ids: Sequence[str]) -> dict[str, str]:
    """Map each id among ``ids`` whose audio is held to its call record's id."""
    rows = conn.execute(
        select(recordings.c.recording_id, recordings.c.record_id).where(
            recordings.c.account_id == account_id,
            recordings.c.recording_id.in_(list(ids)),
            recordings.c.deleted_ms.is_(None),
        )
    )
    return {rid: record_id for rid, record_id in rows}


def recording_exists(conn: Connection, account_id: int, recording_id: str) -> bool:
    """Whether the id was ever used in the account (deleted audio included)."""
    row = conn.execute(
        select(recordings.c.recording_id).where(
            recordings.c.account_id == account_id, recordings.c.recording_id == recording_id
        )
    ).first()
    return row is not None


def save_recording(conn: Connection, rec: StoredRecording) -> None:
    """Insert the row, or bring back a row whose audio had been deleted."""
    values = {c.name: getattr(rec, c.name) for c in _COLUMNS}
    found = conn.execute(
        select(recordings.c.recording_id).where(
            recordings.c.account_id == rec.account_id,
            recordings.c.recording_id == rec.recording_id,
        )
    ).first()
    if found is None:
        conn.execute(recordings.insert().values(**values))
        return
    conn.execute(
        update(recordings)
        .where(
            recordings.c.account_id == rec.account_id,
            recordings.c.recording_id == rec.recording_id,
        )
        .values(**values, deleted_ms=None)
    )


def mark_deleted(conn: Connection, account_id: int, ids: Sequence[str], now_ms: int) -> list[str]:
    """Mark the recordings' audio deleted; returns the blob keys they used."""
    cond = and_(
        recordings.c.account_id == account_id,
        recordings.c.recording_id.in_(list(ids)),
        recordings.c.deleted_ms.is_(None),
    )
    keys = [k for (k,) in conn.execute(select(recordings.c.path_key).where(cond).distinct())]
    conn.execute(update(recordings).where(cond).values(deleted_ms=now_ms))
    return keys


def keys_in_use(conn: Connection, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` that some live recording (of any account) still uses."""
    if not keys:
        return set()
    rows = conn.execute(
        select(recordings.c.path_key, func.count())
        .where(recordings.c.path_key.in_(list(keys)), recordings.c.deleted_ms.is_(None))
        .group_by(recordings.c.path_key)
    )
    return {k for k, _n in rows}

"""Call-log sync: full and incremental syncs of a log (company or extension), and extract-sync
of the company log by modification. Returns records and a signed token; faces map both.

Watermark. A token carries the account's change number up to which its holder has seen every
change. Each write transaction of an account's calls takes the next number from a per-account
row as its last step and stamps it on every row it wrote; that row stays locked until the
transaction commits (storage/changes.py), so the account's writers commit in number order. A
sync first reads the newest committed number N, then the rows changed after the token's number
and at or before N: every change numbered up to N is committed by then, and anything numbered
above N (still in flight, or committed since) is left for the next sync. So a record written
concurrently, however late its transaction commits, is delivered exactly once.

Why not ``modified_ms`` with a lag: a transaction takes its time before writing and commits
whenever it finishes, so a row can become visible with a ``modified_ms`` older than a watermark
a reader already moved past. A lag of a few seconds only makes that rare (a stalled writer, a
long import batch, SQLite's busy wait, a clock step still break it) and delays every change by
the lag. The change number is exact and adds no delay; its cost is that an account's writers
queue for the lock from their last statement to commit (SQLite writers are serialised anyway).

Frame. A full sync returns the newest ``record_count`` records (from ``date_from`` when given)
and fixes the frame: the log from the oldest record returned (or from ``date_from``, or all
history when nothing was cut) upwards. An incremental sync returns records changed since the
token inside the frame, then, when asked with ``record_count`` or ``date_from``, older records
that extend the frame downwards. Changes to records below the frame are not reported: the
client does not hold them.

Tokens are HMAC-signed (a key derived from the server's signing key) and carry the scope, the
watermark, the frame and its filters. A token expires when its account's call log was reset
after it was issued, when it was issued more than ``TOKEN_TTL`` ago (every sync issues a new
one), or when it comes from a token format this version cannot read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from callvault.domain.calls import CallRecord
from callvault.domain.enums import RecordingType
from callvault.domain.query import SyncFilter
from callvault.errors import CallvaultError, InvalidInput
from callvault.services.clock import Clock, system_clock
from callvault.services.secrets import SigningKey
from callvault.storage.changes import ChangeState
from callvault.storage.codec import to_ms
from callvault.storage.engine import Database
from callvault.storage.sync import ChangeKey, LogKey, SyncRow, SyncStore, sort_newest_first

MAX_SYNC_RECORDS = 250
MAX_EXTRACT_RECORDS = 1000
DEFAULT_EXTRACT_RECORDS = 250
DATE_FROM_LIMIT = timedelta(days=30)
EXTRACT_WINDOW = timedelta(hours=1)
TOKEN_TTL = timedelta(days=30)
TOKEN_VERSION = 1
# A pk above any real one: (n, _EVERY) means "every change numbered up to n".
_EVERY = 2**62
_MAC_BYTES = 18


class SyncTokenInvalid(InvalidInput):
    """The token was not issued by this server for this log (garbled, tampered, another scope)."""

    def __init__(self, why: str) -> None:
        super().__init__(why, field="token")


class ExpiryReason(StrEnum):
    RESET = "reset"  # the account's call log was reset after the token was issued
    AGE = "age"  # issued more than TOKEN_TTL ago
    FORMAT = "format"  # a token format this version does not read


class SyncTokenExpired(CallvaultError):
    """A genuine token that can no longer be continued: the client must full-sync again."""

    code = "sync-token-expired"

    def __init__(self, reason: ExpiryReason) -> None:
        super().__init__(f"sync token expired ({reason.value})", field="token")
        self.reason = reason


class TooManyChanges(CallvaultError):
    """More changes are pending than one incremental sync may return: full-sync again."""

    code = "sync-limit-exceeded"

    def __init__(self) -> None:
        super().__init__(f"more than {MAX_SYNC_RECORDS} changes since the token", field="token")


class SyncKind(StrEnum):
    LOG = "log"
    EXTRACT = "extract"


@dataclass(slots=True)
class SyncResult:
    records: list[CallRecord]
    token: str
    sync_time: datetime
    detailed: bool
    newer_records_exist: bool = False


@dataclass(slots=True, frozen=True, kw_only=True)
class SyncToken:
    """What a token carries. ``watermark``: every change at or before it (in change order) was
    delivered. ``frame``: the lowest log position a log sync follows (None: all history)."""

    kind: SyncKind
    account_id: int
    extension_id: int | None
    watermark: ChangeKey
    frame: LogKey | None = None
    missed_only: bool = False
    recording: tuple[str, ...] | None = None
    categories: tuple[str, ...] = ()
    show_deleted: bool = False
    detailed: bool = False
    issued_ms: int
    epoch: int
    page: int = 0  # extract: records per response
    floor_ms: int | None = None  # extract: "modified since" while the first pass pages

    def filter(self, show_deleted: bool | None = None) -> SyncFilter:
        return SyncFilter(
            account_id=self.account_id,
            extension_id=self.extension_id,
            missed_only=self.missed_only,
            recording_types=(
                None
                if self.recording is None
                else frozenset(RecordingType(r) for r in self.recording)
            ),
            metadata_categories=frozenset(self.categories),
            show_deleted=self.show_deleted if show_deleted is None else show_deleted,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "v": TOKEN_VERSION,
            "k": self.kind.value,
            "a": self.account_id,
            "e": self.extension_id,
            "w": list(self.watermark),
            "f": list(self.frame) if self.frame else None,
            "mo": self.missed_only,
            "rt": list(self.recording) if self.recording is not None else None,
            "mc": list(self.categories),
            "sd": self.show_deleted,
            "d": self.detailed,
            "t": self.issued_ms,
            "r": self.epoch,
            "n": self.page,
            "fl": self.floor_ms,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SyncToken:
        """Raises ``KeyError``/``TypeError``/``ValueError`` on anything malformed."""
        frame, rt = d["f"], d["rt"]
        token = cls(
            kind=SyncKind(d["k"]),
            account_id=_int(d["a"]),
            extension_id=None if d["e"] is None else _int(d["e"]),
            watermark=(_int(d["w"][0]), _int(d["w"][1])),
            frame=None if frame is None else (_int(frame[0]), _int(frame[1])),
            missed_only=bool(d["mo"]),
            recording=None if rt is None else tuple(RecordingType(r).value for r in rt),
            categories=tuple(str(c) for c in d["mc"]),
            show_deleted=bool(d["sd"]),
            detailed=bool(d["d"]),
            issued_ms=_int(d["t"]),
            epoch=_int(d["r"]),
            page=_int(d["n"]),
            floor_ms=None if d["fl"] is None else _int(d["fl"]),
        )
        return token


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("expected an integer")
    return value


def _mac_key(secret: str) -> bytes:
    # Derived, so the signing key itself is never used for two purposes.
    return hashlib.sha256(b"callvault call-log sync token\x00" + secret.encode()).digest()


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(secret: str, payload: dict[str, Any]) -> str:
    """``base64url(json) . base64url(hmac)``: opaque to clients, unforgeable without the key."""
    body = _b64(orjson.dumps(payload))
    mac = hmac.new(_mac_key(secret), body, hashlib.sha256).digest()[:_MAC_BYTES]
    return (body + b"." + _b64(mac)).decode()


def decode_token(secret: str, token: str) -> dict[str, Any]:
    """The payload of a token this server signed; raises ``SyncTokenInvalid`` otherwise."""
    body, dot, mac = token.strip().partition(".")
    if not dot or not body.isascii() or not mac.isascii():
        raise SyncTokenInvalid("not a sync token")
    expected = hmac.new(_mac_key(secret), body.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    # Compared as text: base64 decoding would skip stray characters added to the signature.
    if not hmac.compare_digest(mac, _b64(expected).decode()):
        raise SyncTokenInvalid("not a sync token issued by this server")
    try:
        payload = orjson.loads(_unb64(body))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise SyncTokenInvalid("not a sync token") from None
    if not isinstance(payload, dict):
        raise SyncTokenInvalid("not a sync token")
    return payload


def _record_count(value: int | None, maximum: int) -> int | None:
    if value is not None and not 1 <= value <= maximum:
        raise InvalidInput(f"must be between 1 and {maximum}", field="record_count")
    return value


class SyncService:
    def __init__(self, db: Database, key: SigningKey, clock: Clock = system_clock) -> None:
        self.store = SyncStore(db)
        self.key = key
        self.clock = clock

    # -- call-log sync ----------------------------------------------------------------------

    def full_sync(
        self,
        flt: SyncFilter,
        *,
        record_count: int | None,
        date_from: datetime | None,
        detailed: bool,
    ) -> SyncResult:
        """The newest ``record_count`` records of ``flt``'s log (from ``date_from``) and a
        token for incremental syncs. Raises ``InvalidInput`` for a missing or out-of-range
        ``record_count`` or a ``date_from`` older than ``DATE_FROM_LIMIT``."""
        count = _record_count(record_count, MAX_SYNC_RECORDS)
        if count is None:
            raise InvalidInput("required for a full sync", field="record_count")
        now = self.clock()
        self._check_date_from(date_from, now)
        state = self.store.state(flt.account_id)
        floor = to_ms(date_from) if date_from else None
        found = self.store.newest(
            flt,
            upto_seq=state.change_seq,
            below=None,
            floor_ms=floor,
            limit=count + 1,
            with_legs=detailed,
        )
        rows = found[:count]
        frame = rows[-1].log_key if len(found) > count else _floor_key(floor)
        token = SyncToken(
            kind=SyncKind.LOG,
            account_id=flt.account_id,
            extension_id=flt.extension_id,
            watermark=(state.change_seq, _EVERY),
            frame=frame,
            missed_only=flt.missed_only,
            recording=(
                None
                if flt.recording_types is None
                else tuple(sorted(r.value for r in flt.recording_types))
            ),
            categories=tuple(sorted(flt.metadata_categories)),
            show_deleted=flt.show_deleted,
            detailed=detailed,
            issued_ms=to_ms(now),
            epoch=state.log_epoch,
        )
        return SyncResult([r.record for r in rows], self._sign(token), now, detailed)

    def incremental_sync(
        self,
        account_id: int,
        extension_id: int | None,
        token: str | None,
        *,
        record_count: int | None = None,
        date_from: datetime | None = None,
        show_deleted: bool | None = None,
        detailed: bool | None = None,
    ) -> SyncResult:
        """Records changed since ``token`` inside its frame (deleted ones too when
        ``show_deleted``, else as the token says), newest first, then up to ``record_count``
        older records (or those since ``date_from``) that extend the frame; at most
        ``MAX_SYNC_RECORDS`` in all, changes first.

        Raises ``SyncTokenInvalid``, ``SyncTokenExpired``, ``TooManyChanges`` (more than
        ``MAX_SYNC_RECORDS`` changes pending), or ``InvalidInput`` for the other arguments.
        """
        count = _record_count(record_count, MAX_SYNC_RECORDS)
        now = self.clock()
        self._check_date_from(date_from, now)
        state = self.store.state(account_id)
        tok = self._open(token, SyncKind.LOG, account_id, extension_id, state, now)
        flt = tok.filter(show_deleted)
        with_legs = tok.detailed if detailed is None else detailed
        changes = self.store.changes(
            flt,
            after_seq=tok.watermark[0],
            upto_seq=state.change_seq,
            frame=tok.frame,
            limit=MAX_SYNC_RECORDS + 1,
            with_legs=with_legs,
        )
        if len(changes) > MAX_SYNC_RECORDS:
            raise TooManyChanges()
        older, frame = self._extend(
            flt,
            tok.frame,
            state,
            count,
            date_from,
            room=MAX_SYNC_RECORDS - len(changes),
            with_legs=with_legs,
        )
        fresh = replace(
            tok,
            watermark=(state.change_seq, _EVERY),
            frame=frame,
            show_deleted=flt.show_deleted,
            detailed=with_legs,
            issued_ms=to_ms(now),
        )
        records = [r.record for r in sort_newest_first(changes)] + [r.record for r in older]
        return SyncResult(records, self._sign(fresh), now, with_legs)

    def _extend(
        self,
        flt: SyncFilter,
        frame: LogKey | None,
        state: ChangeState,
        count: int | None,
        date_from: datetime | None,
        *,
        room: int,
        with_legs: bool,
    ) -> tuple[list[SyncRow], LogKey | None]:
        """Records just below the frame, newest first, and the frame that then covers them."""
        if frame is None or (count is None and date_from is None) or room <= 0:
            return [], frame
        want = min(count, room) if count is not None else room
        floor = to_ms(date_from) if date_from else None
        found = self.store.newest(
            flt,
            upto_seq=state.change_seq,
            below=frame,
            floor_ms=floor,
            limit=want + 1,
            with_legs=with_legs,
        )
        older = found[:want]
        if len(found) > want:
            return older, older[-1].log_key
        if floor is None:
            return older, None  # nothing older is left: the frame now covers all history
        return older, min(frame, (floor, 0))

    # -- extract-sync -----------------------------------------------------------------------

    def full_extract(
        self,
        account_id: int,
        *,
        record_count: int | None,
        date_from: datetime | None,
        categories: frozenset[str],
        detailed: bool,
    ) -> SyncResult:
        """Company records modified since ``date_from`` (default: an hour ago), oldest change
        first, at most ``record_count`` (default 250, up to 1000); ``newer_records_exist`` says
        whether the next incremental extract has more of them."""
        count = _record_count(record_count, MAX_EXTRACT_RECORDS) or DEFAULT_EXTRACT_RECORDS
        now = self.clock()
        floor = to_ms(date_from or now - EXTRACT_WINDOW)
        state = self.store.state(account_id)
        token = SyncToken(
            kind=SyncKind.EXTRACT,
            account_id=account_id,
            extension_id=None,
            watermark=(0, 0),
            categories=tuple(sorted(categories)),
            detailed=detailed,
            issued_ms=to_ms(now),
            epoch=state.log_epoch,
            page=count,
            floor_ms=floor,
        )
        return self._extract(token, state, None, now, detailed)

    def incremental_extract(
        self,
        account_id: int,
        token: str | None,
        *,
        record_count: int | None = None,
        detailed: bool | None = None,
    ) -> SyncResult:
        """The next records modified after ``token``, as many as the full extract asked for.
        Raises ``SyncTokenInvalid``, ``SyncTokenExpired``, or ``InvalidInput`` when
        ``record_count`` is given (the full extract fixes the page size)."""
        if record_count is not None:
            raise InvalidInput("allowed for a full extract-sync only", field="record_count")
        now = self.clock()
        state = self.store.state(account_id)
        tok = self._open(token, SyncKind.EXTRACT, account_id, None, state, now)
        with_legs = tok.detailed if detailed is None else detailed
        return self._extract(tok, state, tok.watermark, now, with_legs)

    def _extract(
        self,
        tok: SyncToken,
        state: ChangeState,
        after: ChangeKey | None,
        now: datetime,
        with_legs: bool,
    ) -> SyncResult:
        found = self.store.modified(
            tok.account_id,
            frozenset(tok.categories),
            after=after,
            upto_seq=state.change_seq,
            floor_ms=tok.floor_ms,
            limit=tok.page + 1,
            with_legs=with_legs,
        )
        rows = found[: tok.page]
        more = len(found) > tok.page
        if more:
            watermark, floor = rows[-1].change_key, tok.floor_ms
        else:
            # Caught up: later changes are all newer than the floor, which can go.
            watermark, floor = max(tok.watermark, (state.change_seq, _EVERY)), None
        fresh = replace(
            tok, watermark=watermark, floor_ms=floor, detailed=with_legs, issued_ms=to_ms(now)
        )
        return SyncResult([r.record for r in rows], self._sign(fresh), now, with_legs, more)

    # -- tokens -----------------------------------------------------------------------------

    def _sign(self, token: SyncToken) -> str:
        return encode_token(self.key.get(), token.to_json())

    def _open(
        self,
        raw: str | None,
        kind: SyncKind,
        account_id: int,
        extension_id: int | None,
        state: ChangeState,
        now: datetime,
    ) -> SyncToken:
        if not raw:
            raise InvalidInput("required for an incremental sync", field="token")
        payload = decode_token(self.key.get(), raw)
        if payload.get("v") != TOKEN_VERSION:
            raise SyncTokenExpired(ExpiryReason.FORMAT)
        try:
            tok = SyncToken.from_json(payload)
        except (KeyError, IndexError, TypeError, ValueError):
            raise SyncTokenInvalid("not a sync token") from None
        if tok.kind is not kind:
            raise SyncTokenInvalid(f"issued for {tok.kind.value} sync, not {kind.value} sync")
        if tok.account_id != account_id or tok.extension_id != extension_id:
            raise SyncTokenInvalid("issued for another call log")
        if tok.epoch != state.log_epoch:
            raise SyncTokenExpired(ExpiryReason.RESET)
        if to_ms(now) - tok.issued_ms > TOKEN_TTL.total_seconds() * 1000:
            raise SyncTokenExpired(ExpiryReason.AGE)
        return tok

    def _check_date_from(self, date_from: datetime | None, now: datetime) -> None:
        if date_from is not None and date_from < now - DATE_FROM_LIMIT:
            days = DATE_FROM_LIMIT.days
            raise InvalidInput(f"must be within the last {days} days", field="date_from")


def _floor_key(floor_ms: int | None) -> LogKey | None:
    return None if floor_ms is None else (floor_ms, 0)

"""Call targets for the CDR-style faces: pages, lookups, and an extension's delta sync.

A list's total ``count`` is kept in memory per query and reused until the account's change
number moves (``TotalCache``; storage/target_reads.py says why that is exact).

The sync token is opaque to clients and stateless here: it carries the position in the
account's change sequence (storage/changes.py) and is signed with the server key, so a token
that was altered, belongs to someone else, predates a reset of the call log, or is older than
``TOKEN_TTL`` is refused (``SyncTokenRejected``), and the client starts over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from callvault.domain.target_query import TargetQuery, TargetRef
from callvault.domain.targets import ChangeKind, StoredTarget
from callvault.errors import PermissionDenied
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.secrets import SigningKey
from callvault.storage.changes import ChangeState
from callvault.storage.codec import from_ms, to_ms
from callvault.storage.engine import Database
from callvault.storage.target_reads import TargetStore

# A sync token not used for this long is forgotten; the client does a full sync again.
TOKEN_TTL = timedelta(days=30)
# Changes handed out per diff; the returned token continues where the slice ended.
DIFF_LIMIT = 1000
# "Every row of this change number is done" (a row position beyond any primary key).
_ALL_ROWS = 2**62
_VERSION = 1
# Totals kept per process. An entry is a key of a few small tuples and two numbers; a client
# paging through a filter asks for one key again and again, so a thousand cover many clients.
TOTALS_KEPT = 1024


class SyncTokenRejected(PermissionDenied):
    """The sync token is not one of ours, not the caller's, or no longer usable."""

    def __init__(self, why: str) -> None:
        super().__init__(f"sync token {why}; start over with a new sync token", field="token")


@dataclass(slots=True, frozen=True)
class TargetChange:
    kind: ChangeKind
    target: StoredTarget


@dataclass(slots=True, frozen=True)
class SyncDiff:
    """The changes since a token, and the token to continue from."""

    token: str
    changes: list[TargetChange]


@dataclass(slots=True, frozen=True)
class _Position:
    account_id: int
    extension_id: int
    user_id: int
    seq: int
    row: int
    started_from: int | None
    epoch: int
    issued_ms: int


class TotalCache:
    """List totals by query, each with the account's change state it was counted at; the
    least recently used go first beyond ``size``. Safe to share between threads.

    An entry is returned only at exactly its state, so a total counted before a write is
    never served after it, in this process or another (each validates against the database).
    """

    def __init__(self, size: int = TOTALS_KEPT) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[ChangeState, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, state: ChangeState) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != state:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, state: ChangeState, total: int) -> None:
        with self._lock:
            old = self._entries.get(key)
            # A slow reader may finish counting after a faster one counted at a newer state;
            # keep the newer entry, the one later readers can use. (Both parts only grow.)
            if old is not None and _newer(old[0], state):
                return
            self._entries[key] = (state, total)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _newer(a: ChangeState, b: ChangeState) -> bool:
    return (a.log_epoch, a.change_seq) > (b.log_epoch, b.change_seq)


class TargetService:
    def __init__(
        self,
        db: Database,
        key: SigningKey,
        clock: Clock = system_clock,
        totals: TotalCache | None = None,
    ) -> None:
        self.store = TargetStore(db)
        self.key = key
        self.clock = clock
        self.totals = totals if totals is not None else TotalCache()

    def list(self, query: TargetQuery) -> tuple[list[StoredTarget], int]:
        """One page of the company's (or an extension's own) targets, and the total count:
        exact, and counted again only when the account changed since the same filter was
        last counted."""
        return self.store.page(query, self.totals)

    def list_stored(self, query: TargetQuery) -> tuple[Sequence[TargetRef], int]:
        """``list`` with each target's version read and its decoding deferred, for a face
        that keeps rendered items (``TargetRef.version`` tells when one is stale)."""
        return self.store.page_stored(query, self.totals)

    def get(
        self, account_id: int, target_id: str, extension_id: int | None = None
    ) -> StoredTarget | None:
        """A target of the company's view, or of the extension's own when given; else None."""
        return self.store.get(account_id, target_id, extension_id)

    # -- delta sync ------------------------------------------------------------------------

    def start_sync(
        self, account_id: int, extension_id: int, user_id: int, date_from: datetime | None
    ) -> str:
        """A first sync token. With ``date_from`` the first diff lists every own target that
        started since then as created; without, the diffs list changes from now on."""
        seq, epoch = self.store.newest_change(account_id)
        if date_from is not None:
            seq = 0
        position = _Position(
            account_id,
            extension_id,
            user_id,
            seq,
            _ALL_ROWS,
            to_ms(date_from) if date_from is not None else None,
            epoch,
            now_ms(self.clock),
        )
        return self._sign(position)

    def diff(self, account_id: int, extension_id: int, user_id: int, token: str) -> SyncDiff:
        """The caller's target changes since ``token``, oldest first, at most ``DIFF_LIMIT``.

        Raises ``SyncTokenRejected`` for a token that cannot be continued.
        """
        pos = self._verify(token)
        if (pos.account_id, pos.extension_id, pos.user_id) != (account_id, extension_id, user_id):
            raise SyncTokenRejected("belongs to another user")
        started_from = from_ms(pos.started_from) if pos.started_from is not None else None
        got = self.store.changes(
            account_id,
            extension_id,
            after=(pos.seq, pos.row),
            started_from=started_from,
            limit=DIFF_LIMIT,
        )
        if got.log_epoch != pos.epoch or pos.seq > got.upto:
            raise SyncTokenRejected("was issued before the call log was reset")
        changes = [c for t in got.items if (c := _change(t, pos.seq, pos.row)) is not None]
        if len(got.items) == DIFF_LIMIT:
            last = got.items[-1]
            seq, row = last.change, last.row
        else:  # everything up to the newest committed change has been handed out
            seq, row = got.upto, _ALL_ROWS
        nxt = _Position(
            account_id,
            extension_id,
            user_id,
            seq,
            row,
            pos.started_from,
            pos.epoch,
            now_ms(self.clock),
        )
        return SyncDiff(self._sign(nxt), changes)

    # -- tokens ------------------------------------------------------------------------------

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self.key.get().encode(), b"cdr-sync." + payload, hashlib.sha256)
        return _b64(digest.digest()[:18])

    def _sign(self, p: _Position) -> str:
        fields: list[Any] = [
            _VERSION,
            p.account_id,
            p.extension_id,
            p.user_id,
            p.seq,
            p.row,
            p.started_from,
            p.epoch,
            p.issued_ms,
        ]
        payload = _b64(orjson.dumps(fields)).encode()
        return f"{payload.decode()}.{self._mac(payload)}"

    def _verify(self, token: str) -> _Position:
        payload, _, mac = token.strip().partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload.encode())):
            raise SyncTokenRejected("is not recognised")
        try:
            fields = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            version, *values = fields
            if version != _VERSION:
                raise ValueError(version)
            pos = _Position(*values)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            raise SyncTokenRejected("is not recognised") from None
        if now_ms(self.clock) - pos.issued_ms > TOKEN_TTL // timedelta(milliseconds=1):
            raise SyncTokenRejected("has expired")
        return pos


def _change(target: StoredTarget, seq: int, row: int) -> TargetChange | None:
    """What a client that has seen every change before (``seq``, ``row``) is told about a
    target: it knows the target if the write that created it was among those."""
    created = target.created_change
    is_new = created > seq or (created == seq and target.row > row)
    if target.deleted:
        # A target created and deleted since the client's last sync was never seen by it.
        return None if is_new else TargetChange(ChangeKind.DELETED, target)
    return TargetChange(ChangeKind.CREATED if is_new else ChangeKind.UPDATED, target)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

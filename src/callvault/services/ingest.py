"""The single write path for finished call records: validate ownership, dedupe, store.

Idempotent by construction: a record is keyed by (account, record id) and carries a content
hash, so the same record sent twice changes nothing, and a changed record replaces the stored
one and moves its ``lastModifiedTime``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from callvault.domain.calls import CallRecord
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.storage.calls import CallStore, EncodedCall, encode_call
from callvault.storage.changes import pending_change, reserve_change_if_free, stamp_pending
from callvault.storage.engine import Database
from callvault.storage.schema import extensions


@dataclass(slots=True)
class RecordProblem:
    """A record that was not stored: its position in the batch, the field, and why."""

    index: int
    field: str
    reason: str
    record_id: str | None = None


@dataclass(slots=True)
class IngestReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RecordProblem] = field(default_factory=list)

    def merge(self, other: IngestReport, offset: int = 0) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        for p in other.problems:
            p.index += offset
            self.problems.append(p)


class IngestService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    def ingest(
        self,
        account_id: int,
        records: Sequence[CallRecord | None],
        *,
        positions: Sequence[int] = (),
        within: Callable[[Connection], None] | None = None,
    ) -> IngestReport:
        """Store ``records`` for ``account_id``; returns counts and per-record problems.

        ``None`` entries (records a face already rejected) are skipped but keep their position.
        Records whose owner extension is not in the account are reported, not stored.
        ``within`` runs in the same transaction after the records are written (e.g. the row of
        a recording attached to one of them), so both are stored or neither.
        """
        report = IngestReport()
        known_ext = self._extension_ids(account_id)
        copies: dict[str, list[EncodedCall]] = {}
        for i, record in enumerate(records):
            if record is None:
                continue
            pos = positions[i] if positions else i
            bad = _ownership_problem(record, known_ext)
            if bad:
                report.problems.append(RecordProblem(pos, bad[0], bad[1], record.id))
                continue
            copies.setdefault(record.id, []).append(encode_call(account_id, record))
        if not copies and within is None:
            return report
        # Two writers storing the same new record at once: the second one's insert waits for
        # the first and then fails on the unique key (or, when it holds the account's change
        # number, the two wait for each other and the database ends one). Done again, the
        # transaction finds the record stored and counts it as such: ingestion stays
        # idempotent under concurrency.
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                counts = self._write(account_id, copies, within)
                break
            except DBAPIError as exc:
                if attempt == _ATTEMPTS or not _retryable(exc):
                    raise
        report.created, report.updated, report.unchanged = counts
        return report

    def _write(
        self,
        account_id: int,
        copies: dict[str, list[EncodedCall]],
        within: Callable[[Connection], None] | None,
    ) -> tuple[int, int, int]:
        """One write transaction for the encoded ``copies``; returns (created, updated,
        unchanged)."""
        created = updated = unchanged = 0
        with self.db.write() as conn:
            modified = now_ms(self.clock)
            existing = CallStore.existing(conn, account_id, list(copies))
            fresh: list[EncodedCall] = []
            changed: list[tuple[int, EncodedCall]] = []
            for rid, versions in copies.items():
                found = existing.get(rid)
                # Count a record repeated in one batch as if its copies came one by one; only
                # the last copy is written.
                stored_hash = found[1] if found else None
                for enc in versions:
                    if stored_hash is None:
                        created += 1
                    elif enc.content_hash == stored_hash:
                        unchanged += 1
                    else:
                        updated += 1
                    stored_hash = enc.content_hash
                last = versions[-1]
                if found is None:
                    fresh.append(last)
                elif found[1] != last.content_hash:
                    changed.append((found[0], last))
            writes = bool(fresh or changed)
            # The rows carry the account's next change number: taken now if no other writer
            # holds it, else written under a placeholder and stamped last, so that this
            # transaction holds the account's lock only briefly (storage/changes.py).
            number = reserve_change_if_free(conn, account_id) if writes else None
            row_seq = pending_change() if number is None else number
            for pk, enc in changed:
                CallStore.replace(conn, pk, enc, modified, row_seq)
            CallStore.insert(conn, fresh, modified, row_seq)
            if within is not None:
                within(conn)
            if writes and number is None:
                stamp_pending(conn, account_id, row_seq)
        return created, updated, unchanged

    def _extension_ids(self, account_id: int) -> set[int]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(extensions.c.id).where(extensions.c.account_id == account_id)
            )
            return {r[0] for r in rows}


# Transactions tried before a conflict with concurrent writers is passed on.
_ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure: the transaction was ended for
# another's sake and may simply be run again.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES


def _ownership_problem(record: CallRecord, known: set[int]) -> tuple[str, str] | None:
    if record.extension_id is not None and record.extension_id not in known:
        return "extension.id", f"extension {record.extension_id} is not in this account"
    for n, leg in enumerate(record.legs):
        if leg.extension_id is not None and leg.extension_id not in known:
            return f"legs[{n}].extension.id", f"extension {leg.extension_id} is not in this account"
    return None

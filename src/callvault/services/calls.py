"""Reading call logs: lists, records by id, and the user's soft delete."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from callvault.domain.calls import CallRecord
from callvault.domain.query import CallQuery, Page, StoredRecord
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.storage.calls import CallStore
from callvault.storage.engine import Database


class CallService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.store = CallStore(db)
        self.clock = clock

    def list(self, query: CallQuery) -> Page[CallRecord]:
        """One page of a company (``extension_id`` None) or extension log, newest first."""
        return self.store.list(query)

    def list_stored(self, query: CallQuery) -> Page[StoredRecord]:
        """``list`` with each record's id and version read and its decoding deferred, for a
        face that keeps rendered records (``StoredRecord.version`` tells when one is stale)."""
        return self.store.list_stored(query)

    def get_many(
        self,
        account_id: int,
        record_ids: Sequence[str],
        *,
        extension_id: int | None = None,
        with_legs: bool = False,
    ) -> dict[str, CallRecord]:
        """Records found among ``record_ids``; ids not found (or not in the log) are absent."""
        return self.store.get_many(
            account_id, record_ids, extension_id=extension_id, with_legs=with_legs
        )

    def delete_before(self, account_id: int, extension_id: int, date_to: datetime) -> int:
        """Soft-delete the extension's records older than ``date_to``; returns how many."""
        return self.store.soft_delete(account_id, extension_id, date_to, now_ms(self.clock))

    def with_recordings(self, account_id: int) -> Iterator[CallRecord]:
        """Every record of the account that names a recording (without legs), in key order,
        read in batches."""
        after = 0
        while batch := self.store.with_recordings(account_id, after_pk=after):
            for _pk, record in batch:
                yield record
            after = batch[-1][0]

    def count(self, account_id: int) -> int:
        return self.store.count(account_id)

"""Generic record reads for faces that let clients choose columns and operators (the OneUptime
face): a ``RecordQuery`` compiled to SQL by the store, answered with records and totals.

A record is a tuple of values: the query's fields in order, then each relation's fields in
order (all None when there is no related record), list-valued fields as tuples.
"""

from __future__ import annotations

from callvault.domain.record_query import Condition, Op, RecordQuery
from callvault.storage import record_query as compiled
from callvault.storage.engine import Database

Values = compiled.Values


class RecordService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, query: RecordQuery) -> tuple[int, list[Values]]:
        """The total number of matching records (paging ignored) and the asked page."""
        with self.db.read() as conn:
            total = compiled.count(conn, query)
            rows = compiled.fetch(conn, query) if total > query.offset else []
        return total, rows

    def count(self, query: RecordQuery) -> int:
        with self.db.read() as conn:
            return compiled.count(conn, query)

    def get(self, query: RecordQuery, record_id: str) -> Values | None:
        """One record by id (with the query's fields and relations), or None."""
        query.where = [*query.where, Condition("id", Op.EQ, (record_id,))]
        query.limit, query.offset = 1, 0
        with self.db.read() as conn:
            rows = compiled.fetch(conn, query)
        return rows[0] if rows else None

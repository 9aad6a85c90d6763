"""Stored rows → OneUptime's JSON (reference §3.7): ``_id`` a plain string, other ids, dates and
phone numbers as ``{"_type", "value"}``, everything else plain; columns not selected are left
out, related records nested. Also the CSV form of a list (``?output-type=csv``).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from typing import Any

from callvault.api.oneuptime.models import Column, Kind
from callvault.api.oneuptime.query import Projection
from callvault.domain.record_query import Row


def iso_ms(epoch_ms: int) -> str:
    """JavaScript's ``toISOString``: UTC, milliseconds, ``Z``."""
    seconds, millis = divmod(epoch_ms, 1000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def wire_value(column: Column, value: object) -> Any:
    if value is None:
        return None
    match column.kind:
        case Kind.ID | Kind.NUM_ID:
            return str(value)
        case Kind.REF | Kind.NUM_REF:
            return {"_type": "ObjectID", "value": str(value)}
        case Kind.DATE:
            return {"_type": "DateTime", "value": iso_ms(int(value))}  # type: ignore[call-overload]
        case Kind.PHONE:
            return {"_type": "Phone", "value": value}
        case Kind.PHONES:
            return [{"_type": "Phone", "value": v} for v in value]  # type: ignore[attr-defined]
        case Kind.BOOL:
            return bool(value)
        case _:
            return value


def _fill(out: dict[str, Any], row: Row, columns: Sequence[tuple[str, Column]]) -> None:
    for wire, column in columns:
        out[wire] = wire_value(column, row.get(column.field))


def to_wire(row: Row, projection: Projection) -> dict[str, Any]:
    """One record as OneUptime's ``BaseModel.toJSON`` writes it."""
    out: dict[str, Any] = {}
    _fill(out, row, projection.columns)
    for wire, rel, columns in projection.relations:
        related = row.get(rel.field)
        if not isinstance(related, dict):
            out[wire] = None
            continue
        nested: dict[str, Any] = {}
        _fill(nested, related, columns)
        out[wire] = nested
    return out


def _plain(value: Any) -> str:
    """A CSV cell: the value behind a ``_type`` wrapper, lists joined."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if "_type" in value:
            return _plain(value.get("value"))
        return str(value.get("_id", ""))
    if isinstance(value, list):
        return ";".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(records: Sequence[dict[str, Any]], projection: Projection) -> str:
    """Records as CSV, one column per selected column (related records as their ``_id``)."""
    header = [wire for wire, _ in projection.columns] + [w for w, _, _ in projection.relations]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([_plain(record.get(name)) for name in header])
    return buffer.getvalue()

"""Stored values → OneUptime's JSON (reference §3.7): ``_id`` a plain string, other ids, dates and
phone numbers as ``{"_type", "value"}``, everything else plain; columns not selected are left
out, related records nested. Also the CSV form of a list (``?output-type=csv``).

A ``select`` is compiled once per request into a ``Renderer``: each column's conversion is
chosen from its kind up front, so rendering a record is one pass over its values.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from callvault.api.oneuptime.models import Kind, Model
from callvault.api.oneuptime.query import Projection

Convert = Callable[[Any], Any]


def iso_ms(epoch_ms: int) -> str:
    """JavaScript's ``toISOString``: UTC, milliseconds, ``Z``."""
    seconds, millis = divmod(epoch_ms, 1000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}Z"
    )


def _object_id(value: Any) -> dict[str, Any]:
    return {"_type": "ObjectID", "value": str(value)}


def _date(value: Any) -> dict[str, Any]:
    return {"_type": "DateTime", "value": iso_ms(int(value))}


def _phone(value: Any) -> dict[str, Any]:
    return {"_type": "Phone", "value": value}


def _phones(values: Any) -> list[dict[str, Any]]:
    return [{"_type": "Phone", "value": v} for v in values]


# How a non-null value of each kind goes on the wire; None: as stored (null is always null).
CONVERT: dict[Kind, Convert | None] = {
    Kind.ID: str,
    Kind.NUM_ID: str,
    Kind.REF: _object_id,
    Kind.NUM_REF: _object_id,
    Kind.DATE: _date,
    Kind.PHONE: _phone,
    Kind.PHONES: _phones,
    Kind.TEXT: None,
    Kind.NUMBER: None,
    Kind.BOOL: bool,
}

_Columns = tuple[tuple[str, Convert | None], ...]


class Renderer:
    """One projection of one model, rendering the records ``RecordService`` reads for it
    (values in the projection's order) as ``BaseModel.toJSON`` writes them.

    ``shape`` names the projection (model, columns, related columns, in order): with the
    values, it is all a rendered record depends on.
    """

    __slots__ = ("_columns", "_relations", "shape")

    def __init__(self, model: Model, projection: Projection) -> None:
        # The record's id comes first, and each related record's id first among its values:
        # reuse keys and "no related record" rely on it.
        assert projection.columns[0][0] == "_id"
        assert all(cols[0][0] == "_id" for _, _, cols in projection.relations)
        self._columns: _Columns = tuple((w, CONVERT[c.kind]) for w, c in projection.columns)
        self._relations = tuple(
            (wire, tuple((w, CONVERT[c.kind]) for w, c in cols))
            for wire, _rel, cols in projection.relations
        )
        related = "".join(f";{wire}({','.join(w for w, _ in c)})" for wire, c in self._relations)
        # Interned: the cache's keys of one select then share one string, compared by identity.
        self.shape = sys.intern(f"{model.name}:{','.join(w for w, _ in self._columns)}{related}")

    def render(self, values: Sequence[object]) -> dict[str, Any]:
        """The record as a JSON object (key order as selected)."""
        out = _fill({}, self._columns, values, 0)
        at = len(self._columns)
        for wire, columns in self._relations:
            # A LEFT JOIN that found nothing: every value None, the related id too.
            out[wire] = None if values[at] is None else _fill({}, columns, values, at)
            at += len(columns)
        return out


def _fill(
    out: dict[str, Any], columns: _Columns, values: Sequence[object], at: int
) -> dict[str, Any]:
    for wire, convert in columns:
        value = values[at]
        at += 1
        out[wire] = value if convert is None or value is None else convert(value)
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

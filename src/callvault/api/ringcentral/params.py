"""Query-string parsing the way RingCentral clients send it.

Arrays come repeated (``direction=Inbound&direction=Outbound``) or comma-joined; booleans in any
case; timestamps often carry an unencoded ``+hh:mm`` offset, which form decoding would turn into
a space, so date values are decoded without ``+``→space. Every failure is CMN-101 naming the
parameter.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from urllib.parse import unquote, unquote_plus

from callvault.api.ringcentral.errors import invalid_param
from callvault.domain.enums import RecordingType, parse_enum
from callvault.importers.ringcentral_json import RecordError, parse_time

E = TypeVar("E", bound=StrEnum)

_DATE_KEYS = frozenset({"dateFrom", "dateTo"})
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100
DEFAULT_WINDOW = timedelta(hours=24)
MAX_INT32 = 2**31 - 1
_VIEWS = {"simple": "Simple", "detailed": "Detailed"}


def _printable(key: str, value: str) -> str:
    """Control characters (NUL above all) are never part of a valid value."""
    if not value.isprintable():
        raise invalid_param(key, None, "control characters are not allowed")
    return value


class QueryParams:
    """The raw query string, keeping every repetition and the order of first appearance."""

    def __init__(self, raw: str) -> None:
        self.values: dict[str, list[str]] = defaultdict(list)
        for pair in raw.split("&"):
            if not pair:
                continue
            key, _, value = pair.partition("=")
            key = unquote_plus(key)
            # "+" in a timestamp is the zone sign, not an encoded space.
            decoded = unquote(value) if key in _DATE_KEYS else unquote_plus(value)
            self.values[key].append(decoded)

    def one(self, key: str) -> str | None:
        got = self.values.get(key)
        if not got:
            return None
        if len(got) > 1 and len(set(got)) > 1:
            raise invalid_param(key, ",".join(got), "only one value is allowed")
        return _printable(key, got[0].strip())

    def many(self, key: str) -> list[str]:
        out: list[str] = []
        for value in self.values.get(key, []):
            out.extend(_printable(key, p.strip()) for p in value.split(",") if p.strip())
        return out

    def enums(self, key: str, enum: type[E]) -> frozenset[E]:
        out = set()
        for value in self.many(key):
            try:
                out.add(parse_enum(enum, value))
            except ValueError:
                raise invalid_param(key, value) from None
        return frozenset(out)

    def enum(self, key: str, enum: type[E]) -> E | None:
        value = self.one(key)
        if value is None or value == "":
            return None
        try:
            return parse_enum(enum, value)
        except ValueError:
            raise invalid_param(key, value) from None

    def bool(self, key: str, default: bool) -> bool:
        value = self.one(key)
        if value is None or value == "":
            return default
        lowered = value.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise invalid_param(key, value)

    def time(self, key: str) -> datetime | None:
        value = self.one(key)
        if not value:
            return None
        # A client that form-encoded "+02:00" as a space: put the sign back.
        if value.count(" ") == 1 and len(value) > 6 and value[-6] == " ":
            value = value.replace(" ", "+")
        try:
            return parse_time(value, key)
        except RecordError:
            raise invalid_param(key, value, "expected ISO-8601 date-time with timezone") from None

    def positive_int(self, key: str, default: int) -> int:
        value = self.one(key)
        if value is None or value == "":
            return default
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_INT32:
            raise invalid_param(key, value)
        return int(value)

    def per_page(self) -> int:
        value = self.one("perPage")
        if value is not None and value.lower() == "max":
            return MAX_PER_PAGE
        return min(self.positive_int("perPage", DEFAULT_PER_PAGE), MAX_PER_PAGE)


def view_param(params: QueryParams) -> str | None:
    """``Simple`` or ``Detailed`` (any case); None when not given."""
    raw = params.one("view")
    if raw is None or raw == "":
        return None
    view = _VIEWS.get(raw.lower())
    if view is None:
        raise invalid_param("view", raw)
    return view


def recording_filter(params: QueryParams) -> frozenset[RecordingType] | None:
    """``recordingType`` (``All``: any recording), else the deprecated ``withRecording=true``
    (any recording); None means no recording filter."""
    raw = params.one("recordingType")
    if raw:
        if raw.lower() == "all":
            return frozenset()
        try:
            return frozenset({parse_enum(RecordingType, raw)})
        except ValueError:
            raise invalid_param("recordingType", raw) from None
    # Deprecated withRecording=true means "any recording"; ignored when recordingType is set.
    return frozenset() if params.bool("withRecording", False) else None


def date_window(params: QueryParams, now: datetime) -> tuple[datetime, datetime]:
    """The effective window: ``dateTo`` defaults to now, ``dateFrom`` to 24 h before ``dateTo``."""
    date_to = params.time("dateTo") or now
    try:
        date_from = params.time("dateFrom") or (date_to - DEFAULT_WINDOW)
    except OverflowError:
        raise invalid_param("dateTo", params.one("dateTo"), "out of range") from None
    if date_from > date_to:
        raise invalid_param("dateFrom", None, "dateFrom must not be after dateTo")
    return date_from, date_to

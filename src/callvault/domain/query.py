"""What a caller asks of the call store: a filter, a window and a page, free of any dialect."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

from callvault.domain.calls import CallRecord
from callvault.domain.enums import CallType, Direction, RecordingType, Transport

T = TypeVar("T")


@dataclass(slots=True, kw_only=True)
class CallQuery:
    """A call-log list query. ``extension_id`` set means the extension's own log."""

    account_id: int
    extension_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    directions: frozenset[Direction] = frozenset()
    types: frozenset[CallType] = frozenset()
    transports: frozenset[Transport] = frozenset()
    phone_number: str | None = None
    session_id: str | None = None
    telephony_session_id: str | None = None
    # None: no recording filter; empty set: any recording; else those recording types.
    recording_types: frozenset[RecordingType] | None = None
    metadata_categories: frozenset[str] = frozenset()
    show_deleted: bool = False
    show_blocked: bool = True
    page: int = 1
    per_page: int = 100
    with_legs: bool = False


@dataclass(slots=True, frozen=True, kw_only=True)
class SyncFilter:
    """The records a call-log sync frame follows: a log (company, or an extension's) and the
    filters fixed by the full sync. ``show_deleted`` makes deletions part of the changes."""

    account_id: int
    extension_id: int | None = None
    missed_only: bool = False
    # As in CallQuery: None no filter, empty set any recording, else those recording types.
    recording_types: frozenset[RecordingType] | None = None
    metadata_categories: frozenset[str] = frozenset()
    show_deleted: bool = False


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of results and whether more exist after it (no total: counting is costly)."""

    items: list[T] = field(default_factory=list)
    has_more: bool = False


class StoredRecord(NamedTuple):
    """A listed record as the store holds it: its id and version now, the record on demand.

    ``version`` differs whenever anything about the stored record differs (content, deletion,
    modification time), so a face may keep what it rendered from one version and reuse it
    instead of calling ``load``, which decodes the whole record with its legs.
    """

    id: str
    version: Hashable
    load: Callable[[], CallRecord]

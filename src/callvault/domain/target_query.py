"""What a caller asks of the call-target store: a predicate tree over target fields, free-text
search, an order and a window. Faces parse their own query language into this; the store
compiles it to SQL, so no face filters rows in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from callvault.domain.targets import StoredTarget


class TargetField(StrEnum):
    """Every scalar of ``CallTarget`` a query may test or sort on."""

    ID = "id"
    SESSION_ID = "session_id"
    CALLER = "caller"
    CALLER_DOMAIN = "caller_domain"
    CALLER_NAME = "caller_name"
    CALLEE = "callee"
    CALLEE_DOMAIN = "callee_domain"
    CALLEE_NAME = "callee_name"
    STARTED = "started"
    RANG = "rang"
    ANSWERED = "answered"
    ENDED = "ended"
    CALL_ID = "call_id"
    DIRECTION = "direction"
    END_REASON = "end_reason"
    REROUTED_BY = "rerouted_by"
    STATUS_CODE = "status_code"
    DESTINATION = "destination"
    OUTBOUND_CALLER_ID = "outbound_caller_id"
    DID = "did"
    TRUNK = "trunk"
    TALK_SECONDS = "talk_seconds"
    COST = "cost"
    BILLED_ACCOUNT = "billed_account"
    SERVICE_NUMBER = "service_number"
    USER_DATA = "user_data"


class FieldKind(StrEnum):
    TEXT = "text"
    TIME = "time"  # may be unknown (null): rang, answered
    INTEGER = "integer"
    NUMBER = "number"
    CHOICE = "choice"  # an enum's value, "" when none


KIND: dict[TargetField, FieldKind] = {
    **{f: FieldKind.TEXT for f in TargetField},
    TargetField.STARTED: FieldKind.TIME,
    TargetField.RANG: FieldKind.TIME,
    TargetField.ANSWERED: FieldKind.TIME,
    TargetField.ENDED: FieldKind.TIME,
    TargetField.STATUS_CODE: FieldKind.INTEGER,
    TargetField.TALK_SECONDS: FieldKind.INTEGER,
    TargetField.COST: FieldKind.NUMBER,
    TargetField.DIRECTION: FieldKind.CHOICE,
    TargetField.END_REASON: FieldKind.CHOICE,
    TargetField.REROUTED_BY: FieldKind.CHOICE,
}


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"


class Match(StrEnum):
    STARTS = "starts"
    ENDS = "ends"
    CONTAINS = "contains"


Value = str | int | float | datetime | None


@dataclass(slots=True, frozen=True)
class Compare:
    """``field op value``; ``None`` is "unknown" (only ``eq``/``ne`` can test for it)."""

    field: TargetField
    op: Op
    value: Value


@dataclass(slots=True, frozen=True)
class TextMatch:
    """Case-sensitive prefix, suffix or substring test on a text field."""

    field: TargetField
    kind: Match
    text: str


@dataclass(slots=True, frozen=True)
class OneOf:
    """The field's value is one of ``values`` (choice fields: ``""`` is none)."""

    field: TargetField
    values: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class AllOf:
    parts: tuple[Predicate, ...]


@dataclass(slots=True, frozen=True)
class AnyOf:
    parts: tuple[Predicate, ...]


@dataclass(slots=True, frozen=True)
class Negation:
    part: Predicate


Predicate = Compare | TextMatch | OneOf | AllOf | AnyOf | Negation


@dataclass(slots=True, frozen=True)
class SortKey:
    field: TargetField
    descending: bool = False


# Fields free-text search looks in (case-insensitively).
SEARCHED = (
    TargetField.CALLER,
    TargetField.CALLEE,
    TargetField.CALLER_NAME,
    TargetField.CALLEE_NAME,
    TargetField.DID,
    TargetField.OUTBOUND_CALLER_ID,
)


@dataclass(slots=True, kw_only=True)
class TargetQuery:
    """A page of targets. ``extension_id`` set: that extension's own targets; else the
    company's. ``search`` holds alternatives, each a group of words that must all appear."""

    account_id: int
    extension_id: int | None = None
    where: Predicate | None = None
    search: tuple[tuple[str, ...], ...] = ()
    order: tuple[SortKey, ...] = (SortKey(TargetField.STARTED, descending=True),)
    offset: int = 0
    limit: int = 100


class TargetRef(NamedTuple):
    """A listed target as the store holds it: its version now, the target on demand.

    ``version`` differs whenever the stored row differs, so a face may keep what it rendered
    from one version and reuse it instead of calling ``load``.
    """

    version: Hashable
    load: Callable[[], StoredTarget]

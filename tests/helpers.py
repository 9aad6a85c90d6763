"""Assertions and small helpers shared by the API tests: RingCentral's wire shapes checked
strictly, ingestion of records over HTTP, and a multipart/mixed reader."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
from sqlalchemy import Engine, event

from tests.builders import TestAccount
from tests.openapi import assert_rc

# RingCentral's timestamp form: UTC, milliseconds, "Z".
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Top-level error codes RingCentral sends instead of repeating errors[0].errorCode.
_LEGACY_TOP_CODES = {"InsufficientPermissions", "TokenExpired", "TokenInvalid"}
_TIME_FIELDS = ("startTime", "lastModifiedTime")


def ago(**delta: float) -> datetime:
    """A moment before now, truncated to whole milliseconds (what the wire can carry)."""
    moment = datetime.now(UTC) - timedelta(**delta)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def rc_stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ingest(
    http: httpx.Client, acc: TestAccount, records: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """POST records as the account's admin; every one must be accepted."""
    r = http.post("/api/v1/calls", json=list(records), headers=acc.auth())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["rejected"] == 0, body
    return body


def _check_times(record: Mapping[str, Any]) -> None:
    for key in _TIME_FIELDS:
        if key in record:
            assert TIMESTAMP.match(record[key]), f"{key}={record[key]!r}"
    for leg in record.get("legs", []):
        _check_times(leg)


def _check_no_nulls(value: Any, path: str) -> None:
    """Absent values are left out, never sent as null."""
    assert value is not None, f"{path} is null"
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_nulls(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_no_nulls(item, f"{path}[{n}]")


def assert_record(body: Any) -> dict[str, Any]:
    """A ``CallLogRecord``: strict schema, RingCentral timestamps, no nulls."""
    assert_rc(body, "CallLogRecord")
    _check_times(body)
    _check_no_nulls(body, "record")
    record: dict[str, Any] = body
    return record


def assert_call_log_body(body: Any) -> dict[str, Any]:
    """A ``CallLogResponse``: strict schema, and every record as ``assert_record`` wants."""
    checked: dict[str, Any] = assert_rc(body, "CallLogResponse")
    for record in checked["records"]:
        assert_record(record)
    return checked


def assert_call_log(response: httpx.Response) -> dict[str, Any]:
    """A 200 ``CallLogResponse`` with a JSON content type."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return assert_call_log_body(response.json())


def assert_rc_error(
    response: httpx.Response,
    status: int,
    code: str,
    model: str = "ApiErrorResponseModel",
    *,
    parameter: str | None = None,
) -> dict[str, Any]:
    """A RingCentral error: ``errors[]`` strictly per ``model``, plus the legacy top-level copy
    of the first error (RingCentral still sends it; the published schema does not list it)."""
    assert response.status_code == status, (str(response.request.url), response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert_rc({"errors": body["errors"]}, model)
    first = body["errors"][0]
    assert first["errorCode"] == code, body
    assert body["errorCode"] in (code, *_LEGACY_TOP_CODES), body
    assert body["message"] == first["message"]
    for key, value in body.items():
        if key not in ("errorCode", "message", "errors"):
            assert first.get(key) == value, (key, body)
    if parameter is not None:
        assert first["parameterName"] == parameter, body
        assert f"[{parameter}]" in first["message"], body
    return body


def multipart_parts(response: httpx.Response) -> list[tuple[str, Any]]:
    """The parts of a ``multipart/mixed`` body as (content type, decoded JSON)."""
    import json

    ctype = response.headers["content-type"]
    assert ctype.startswith("multipart/mixed; boundary="), ctype
    raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + response.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts.append((part.get_content_type(), json.loads(payload)))
    return parts


class SqlLog:
    """The SQL an engine ran while a test watched (the server's threads included), each
    statement in lower case with single spaces."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(" ".join(statement.lower().split()))

    def containing(self, *parts: str) -> int:
        """How many statements contain every one of ``parts``."""
        return sum(1 for s in self.seen if all(p in s for p in parts))

    def starting(self, *prefixes: str) -> int:
        """How many statements start with one of ``prefixes``."""
        return sum(1 for s in self.seen if s.startswith(prefixes))


@contextmanager
def watching_sql(engine: Engine) -> Iterator[SqlLog]:
    """Log the statements ``engine`` runs until the block ends."""
    log = SqlLog()
    event.listen(engine, "before_cursor_execute", log)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", log)

"""PortSIP JSON files, streamed in constant memory: list responses (``{"count", "items"}``),
detail bodies (``{"items": {...}}``), bare arrays, single records or webhook bodies, and NDJSON
of any of those. Yields the items; ``portsip_json.records_from`` parses each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
import orjson

from callvault.importers.portsip_json import is_call_cdr
from callvault.importers.ringcentral_json import RecordError


def iter_file_items(stream: IO[bytes]) -> Iterator[Any]:
    """Stream the items of a PortSIP JSON file in constant memory: a list response
    (``{"count", "items": [...]}``), a detail body (``{"items": {...}}``), a bare array, a
    single record or webhook body, or NDJSON of any of those."""
    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    if not head:
        return
    if head == b"[":
        yield from ijson.items(_Prepend(head, stream), "item", use_float=True)
        return
    first_line = head + stream.readline()
    try:
        value = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        # One document over many lines: stream its "items" if it has them.
        yield from _document(_Prepend(first_line, stream))
        return
    yield from _unwrap(value)
    for line in stream:
        if line.strip():
            yield from _unwrap(orjson.loads(line))


def _unwrap(value: Any) -> Iterator[Any]:
    if isinstance(value, dict) and "items" in value and not is_call_cdr(value):
        items = value["items"]
        yield from items if isinstance(items, list) else [items]
    elif isinstance(value, list):
        yield from value
    else:
        yield value


def _document(stream: _Prepend) -> Iterator[Any]:
    events = ijson.parse(stream, use_float=True)
    _, kind, _ = next(events)
    if kind != "start_map":
        raise RecordError("file", "is not a PortSIP JSON document")
    top: dict[str, Any] = {}
    for prefix, event, key in events:
        if prefix == "" and event == "end_map":
            break
        _, ev, value = next(events)
        if key == "items" and ev == "start_array" and "call_targets" not in top:
            for _, item_ev, item_value in events:
                if item_ev == "end_array":
                    break
                yield _build(events, item_ev, item_value)
            top["items"] = []
            continue
        top[key] = _build(events, ev, value)
    if "items" in top and not top["items"]:
        return
    yield from _unwrap(top)


def _build(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1 if event in ("start_map", "start_array") else 0
    while depth:
        _, ev, val = next(events)
        builder.event(ev, val)
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
    return builder.value


class _Prepend:
    """A byte stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.stream.read(size)
        if size < 0:
            data, self.head = self.head + self.stream.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        if len(data) < size:
            data += self.stream.read(size - len(data))
        return data

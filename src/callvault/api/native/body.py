"""Batch request bodies of the native API: a JSON array (or one object), or NDJSON."""

from __future__ import annotations

from typing import Any

import orjson

from callvault.api.native.errors import NativeError


def decode_batch(body: bytes, content_type: str) -> list[Any]:
    """A JSON array (or one object), or NDJSON; NDJSON lines that fail to parse become
    ``BadLine`` entries so their neighbours are still stored."""
    text = body.strip()
    if not text:
        raise NativeError(400, "invalid-input", "request body is empty", field="body")
    if "ndjson" in content_type or (text.startswith(b"{") and b"\n" in text):
        try:
            value = orjson.loads(text)
            return value if isinstance(value, list) else [value]
        except orjson.JSONDecodeError:
            pass
        items: list[Any] = []
        for n, line in enumerate(text.split(b"\n")):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(BadLine(f"line {n + 1} is not valid JSON: {exc}"))
        return items
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NativeError(400, "invalid-json", f"body is not valid JSON: {exc}", "body") from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise NativeError(400, "invalid-input", "body must be a JSON array", "body")
    return value


class BadLine:
    """An NDJSON line that is not JSON; reported at its position, neighbours still stored."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

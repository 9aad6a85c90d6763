"""Serving recording audio the way RingCentral's media host does: HTTP byte ranges (RFC 9110
§14), ``Content-Disposition`` from ``contentDisposition``/``contentDispositionFilename``, and
files streamed in constant memory.

The Range header is checked before the response starts, so an unsatisfiable range is answered
in RingCentral's error shape (416, CMN-107) rather than as a bare status.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import quote

from starlette.concurrency import iterate_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from callvault.api.ringcentral.errors import RcError, invalid_param
from callvault.api.ringcentral.params import QueryParams

Ranges = list[tuple[int, int]]

_DISPOSITIONS = {"inline": "inline", "attachment": "attachment"}


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> Ranges | None:
    """The byte ranges asked for, as ``[start, end)`` pairs merged and in order, or None to
    send the whole file (no header, another unit, or a header that does not parse: RFC 9110
    lets a server ignore those). Raises ``Unsatisfiable`` when no range overlaps the file."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    wanted: Ranges = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = (p.strip() for p in part.partition("-"))
        if not dash or not all(p == "" or (p.isascii() and p.isdigit()) for p in (first, last)):
            return None
        if first:
            start = int(first)
            if last and int(last) < start:
                return None
            if start < size:
                wanted.append((start, min(int(last) + 1, size) if last else size))
        elif last:
            suffix = int(last)
            if suffix > 0:  # "bytes=-0" asks for nothing
                wanted.append((max(size - suffix, 0), size))
        else:
            return None
    if not wanted:
        raise Unsatisfiable
    wanted.sort()
    merged = [wanted[0]]
    for start, end in wanted[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def checked_ranges(header: str | None, size: int) -> Ranges | None:
    try:
        return parse_range(header, size)
    except Unsatisfiable:
        raise RcError(
            416,
            "CMN-107",
            "Requested Range Not Satisfiable",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None


def _safe_filename(raw: str) -> str:
    """The last path part, without control characters or quotes, at most 200 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"'
    ).strip()
    return name[:200].strip(" .")


def content_disposition(params: QueryParams, default_name: str) -> str | None:
    """The ``Content-Disposition`` value the query asks for; None when it asks for none.

    A filename alone means a download (``attachment``); ``Attachment`` without a filename
    suggests ``default_name``."""
    raw_kind = params.one("contentDisposition")
    raw_name = params.one("contentDispositionFilename")
    if not raw_kind and not raw_name:
        return None
    kind = "attachment"
    if raw_kind:
        found = _DISPOSITIONS.get(raw_kind.lower())
        if found is None:
            raise invalid_param("contentDisposition", raw_kind, "expected Inline or Attachment")
        kind = found
    name = _safe_filename(raw_name) if raw_name else ""
    if not name and (kind == "attachment" or raw_name):
        name = default_name
    if not name:
        return kind
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


class RecordingFile(FileResponse):
    """Starlette's file response (chunked reads, single and multi-part ranges, If-Range) with
    the Range header read by ``parse_range``; unsatisfiable ranges were refused before.

    Reads 256 KiB at a time rather than 64 KiB: each read is a hop to a worker thread, and a
    quarter of the hops keeps a one-worker server's throughput up (bench/recording_content.py)
    while memory per response stays constant."""

    chunk_size = 256 * 1024

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> Ranges:
        try:
            return parse_range(http_range, file_size) or []
        except Unsatisfiable:  # the file changed size since the check: send it whole
            return []


def file_response(
    path: str | os.PathLike[str],
    stat: os.stat_result,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    return RecordingFile(path, media_type=media_type, headers=headers, stat_result=stat)


def streamed_response(
    read: Callable[[int, int], Iterator[bytes]],
    size: int,
    ranges: Ranges | None,
    media_type: str,
    headers: dict[str, str],
    *,
    head: bool,
) -> Response:
    """For stores without local files: the whole blob, or one range of it, read through
    ``read(start, end)`` (several ranges are answered with the whole blob, as RFC 9110
    allows)."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    status, start, end = 200, 0, size
    if ranges is not None and len(ranges) == 1:
        status, (start, end) = 206, ranges[0]
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if head:
        return Response(status_code=status, media_type=media_type, headers=headers)
    return StreamingResponse(
        iterate_in_threadpool(read(start, end)),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )

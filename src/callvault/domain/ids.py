"""Deterministic identifiers: the same facts always give the same id (idempotent ingestion)."""

from __future__ import annotations

import base64
import hashlib


def derived_id(*parts: object) -> str:
    """A stable, opaque 16-character id from identifying facts."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=10).digest()
    return base64.b32encode(digest).decode().rstrip("=")

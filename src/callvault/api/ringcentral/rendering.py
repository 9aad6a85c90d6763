"""Call-log records rendered as RingCentral JSON through the process's cache of rendered items
(api/rendered.py), so a record listed again while unchanged is not decoded and mapped again.

A rendered record depends on the stored version (``StoredRecord.version``: content hash,
deletion, modification time), the view, whose log lists it (its ``uri``) and the base URLs;
all of them are in the key.
"""

from __future__ import annotations

import orjson

from callvault.api.rendered import RenderedItems
from callvault.api.ringcentral.mapping import Uris, record_to_wire
from callvault.domain.query import StoredRecord


def render_record(
    items: RenderedItems,
    stored: StoredRecord,
    uris: Uris,
    *,
    view: str,
    log_extension_id: int | None,
) -> orjson.Fragment:
    """The record's ``CallLogRecord`` JSON, rendered now or reused from an earlier request."""
    key = (
        "ringcentral",
        uris.base,
        uris.media,
        uris.account_id,
        stored.id,
        stored.version,
        view,
        log_extension_id,
    )
    return items.item(
        key,
        lambda: record_to_wire(stored.load(), uris, view=view, log_extension_id=log_extension_id),
    )

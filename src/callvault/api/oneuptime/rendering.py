"""Records of a get-list rendered through the process's cache of rendered items
(api/rendered.py), so a record listed again while unchanged is not mapped again.

A rendered record depends on the projection (``Renderer.shape``: model, columns and related
columns, in order) and on the values read for it: its own columns and those of its related
records (a log's ``incomingCallPolicy.name`` is the policy's, and changes when the policy is
renamed). The key names the projection and holds all those values themselves, so two
versions of a record share an entry only when everything rendered from them is equal.

Why not ``updated_ms``: it is a time, not a version of what is rendered. The escalation engine
stamps a write with the time a webhook or the sandbox's virtual clock gives, so two writes of a
log can carry the same millisecond (a sandbox call answered the moment it is dialled; ``at`` is
the caller's to choose); users and projects have no such column; and every writer, now and
later, would have to remember to stamp it. The values change exactly when the rendered record
does. (Not their hash: equal hashes of different values, rare as they are, would serve a stale
item; the values cost a few hundred bytes per entry.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import orjson

from callvault.api.oneuptime.mapping import Renderer
from callvault.api.rendered import RenderedItems
from callvault.services.records import Values


def render_records(
    items: RenderedItems, renderer: Renderer, records: Sequence[Values]
) -> list[orjson.Fragment]:
    """Each record's JSON, rendered now or reused from an earlier request."""
    shape, render, item = renderer.shape, renderer.render, items.item
    return [item(("oneuptime", shape, values), partial(render, values)) for values in records]

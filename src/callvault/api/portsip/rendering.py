"""Listed call targets rendered through the process's cache of rendered items
(api/rendered.py), so a target listed again while its row is unchanged is not mapped again.

A rendered target depends on the response shape and on its row, whose version (row key,
change number, modification time) moves with every write of the row; both are in the key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from callvault.api.portsip.mapping import target_body
from callvault.api.rendered import RenderedItems
from callvault.domain.target_query import TargetRef


def render_targets(
    items: RenderedItems, refs: Sequence[TargetRef], shape: Sequence[str]
) -> list[orjson.Fragment]:
    """Each target's item of ``shape``, rendered now or reused from an earlier request."""
    return [items.item(("portsip", shape, ref.version), _render(ref, shape)) for ref in refs]


def _render(ref: TargetRef, shape: Sequence[str]) -> Callable[[], dict[str, Any]]:
    return lambda: target_body(ref.load().target, shape)

"""RingCentral's list envelope: ``uri``, ``records``, ``paging`` and ``navigation`` (§4).

Paging carries only page/perPage/pageStart/pageEnd (no totals); navigation has firstPage
always, nextPage when more exist, previousPage past page 1, and no lastPage. Every URI is the
request's with the effective parameters filled in and ``page`` replaced.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def page_uri(base: str, effective: dict[str, str], page: int) -> str:
    parts = dict(effective, page=str(page))
    query = "&".join(f"{quote(k)}={quote(v, safe=':,')}" for k, v in parts.items())
    return f"{base}?{query}"


def list_body(
    base: str,
    effective: dict[str, str],
    *,
    page: int,
    per_page: int,
    records: list[Any],
    has_more: bool,
) -> dict[str, Any]:
    paging: dict[str, Any] = {"page": page, "perPage": per_page}
    if records:
        start = (page - 1) * per_page
        paging["pageStart"] = start
        paging["pageEnd"] = start + len(records) - 1
    navigation: dict[str, Any] = {"firstPage": {"uri": page_uri(base, effective, 1)}}
    if has_more:
        navigation["nextPage"] = {"uri": page_uri(base, effective, page + 1)}
    if page > 1:
        navigation["previousPage"] = {"uri": page_uri(base, effective, page - 1)}
    return {
        "uri": page_uri(base, effective, page),
        "records": records,
        "paging": paging,
        "navigation": navigation,
    }

"""OneUptime's generic read API for the four incoming-call models (reference §3.1):
``GET|POST /api/<path>/get-list``, ``POST /api/<path>/count``, ``GET|POST
/api/<path>/:id/get-item``; create, update and delete answer OneUptime's "not allowed".

Lists answer ``{count, limit, skip, data}`` with the effective paging, each record rendered
once and reused while unchanged (rendering.py); a missing item is ``200 {}``; an unknown route
under a model's path is OneUptime's "Page not found".
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.oneuptime.auth import Caller, authenticate, require
from callvault.api.oneuptime.errors import ErrorRoute, bad_data, page_not_found
from callvault.api.oneuptime.mapping import Renderer, to_csv
from callvault.api.oneuptime.models import MODELS, SERVED, Model
from callvault.api.oneuptime.query import (
    Projection,
    check_group_by,
    paging,
    parse_query,
    parse_select,
    parse_sort,
    read_body,
)
from callvault.api.oneuptime.rendering import render_records
from callvault.api.rendered import rendered_items
from callvault.domain.record_query import RecordQuery
from callvault.services.container import Services

router = APIRouter(route_class=ErrorRoute)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _check_relations(caller: Caller, projection: Projection) -> None:
    """Selecting a related incoming-call model needs the right to read it too."""
    for _wire, rel, _cols in projection.relations:
        target = MODELS[rel.model]
        if target.path:
            require(caller, target, "read")


def _record_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise bad_data(
            f'Invalid ID format: "{raw}". Expected a valid UUID '
            '(e.g., "550e8400-e29b-41d4-a716-446655440000").'
        ) from None


def _wants_csv(request: Request) -> bool:
    return request.query_params.get("output-type", "").lower() == "csv"


def _csv(text: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8")


def _routes(model: Model) -> None:
    base = f"/api/{model.path}"

    async def get_list(request: Request) -> Response:
        caller = authenticate(request, model)
        require(caller, model, "read")
        body = read_body(await request.body())
        projection = parse_select(model, body.get("select"))
        _check_relations(caller, projection)
        query = RecordQuery(
            entity=model.entity,
            account_id=caller.account_id,
            fields=projection.fields(),
            relations=projection.relation_fields(),
            where=parse_query(model, body.get("query")),
            order=parse_sort(model, body.get("sort")),
        )
        check_group_by(body.get("groupBy"))
        max_limit = _services(request).settings.oneuptime_max_limit
        query.limit, query.offset = paging(request.query_params, body, max_limit)
        total, records = await run_in_threadpool(_services(request).records.list, query)
        renderer = Renderer(model, projection)
        if _wants_csv(request):
            return _csv(to_csv([renderer.render(r) for r in records], projection))
        data = render_records(rendered_items(request), renderer, records)
        return JSONBytes({"count": total, "limit": query.limit, "skip": query.offset, "data": data})

    async def count(request: Request) -> Response:
        caller = authenticate(request, model)
        require(caller, model, "read")
        body = read_body(await request.body())
        query = RecordQuery(
            entity=model.entity,
            account_id=caller.account_id,
            where=parse_query(model, body.get("query")),
        )
        total = await run_in_threadpool(_services(request).records.count, query)
        return JSONBytes({"count": total})

    async def get_item(request: Request, record_id: str) -> Response:
        caller = authenticate(request, model)
        require(caller, model, "read")
        wanted = _record_id(record_id)
        body = read_body(await request.body())
        projection = parse_select(model, body.get("select"))
        _check_relations(caller, projection)
        query = RecordQuery(
            entity=model.entity,
            account_id=caller.account_id,
            fields=projection.fields(),
            relations=projection.relation_fields(),
        )
        found = await run_in_threadpool(_services(request).records.get, query, wanted)
        # OneUptime answers a missing (or invisible) id with an empty object, not a 404.
        item: dict[str, Any] = {} if found is None else Renderer(model, projection).render(found)
        if _wants_csv(request):
            return _csv(to_csv([item] if item else [], projection))
        return JSONBytes(item)

    def refuse(action: str) -> Any:
        async def handler(request: Request) -> Response:
            caller = authenticate(request, model, action)
            require(caller, model, action)
            raise AssertionError("unreachable: no model of this face is writable")

        return handler

    async def not_found(request: Request, rest: str) -> Response:
        raise page_not_found(str(request.url))

    router.add_api_route(f"{base}/get-list", get_list, methods=["GET", "POST"])
    router.add_api_route(f"{base}/count", count, methods=["POST"])
    router.add_api_route(f"{base}/{{record_id}}/get-item", get_item, methods=["GET", "POST"])
    router.add_api_route(base, refuse("create"), methods=["POST"])
    router.add_api_route(f"{base}/{{record_id}}", refuse("update"), methods=["PUT"])
    router.add_api_route(
        f"{base}/{{record_id}}/update-item", refuse("update"), methods=["GET", "POST"]
    )
    router.add_api_route(f"{base}/{{record_id}}", refuse("delete"), methods=["DELETE"])
    router.add_api_route(
        f"{base}/{{record_id}}/delete-item", refuse("delete"), methods=["GET", "POST"]
    )
    router.add_api_route(
        f"{base}/{{rest:path}}",
        not_found,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )


for _model in SERVED:
    _routes(_model)

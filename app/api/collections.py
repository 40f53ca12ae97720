"""Collections API (superusers only): list, view, create, update, delete, truncate, import, scaffolds."""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any

from ..core.collections.model import Collection
from ..core.collections.scaffolds import scaffolds
from ..core.errors import BadRequest
from ..core.records.listing import parse_list_params
from ..core.records.projection import parse_fields, project
from ..runtime import Runtime
from .guards import require_superuser
from .request import read_body, request_info
from .responses import empty_response, json_response

SORTABLE = {"name", "type", "created", "updated", "id", "system"}


def _sorted(collections: list[Collection], sort: str) -> list[Collection]:
    for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
        name = part.lstrip("+-")
        if name not in SORTABLE:
            raise BadRequest(detail=f"Invalid sort field {name!r}.")
        collections = sorted(collections, key=attrgetter(name), reverse=part.startswith("-"))
    return collections


def mount(api: Any, runtime: Runtime) -> None:
    store = runtime.collections
    max_body = runtime.settings.max_body_size

    async def superuser() -> Any:
        info = await request_info(runtime)
        require_superuser(info)
        return info

    @api.route("/collections", name="collections_list", methods=["get"])
    async def collections_list() -> Any:
        info = await superuser()
        params = parse_list_params(info.query)
        collections = store.all()
        if params.filter.strip():
            compiler = runtime.collection_filter
            if compiler is None:
                raise BadRequest("Filtering is not available.")
            collections = [c for c in collections if compiler(c, params.filter)]
        collections = _sorted(collections, params.sort)
        total = len(collections)
        page = collections[params.offset : params.offset + params.per_page]
        items: list[Any] = [c.to_json() for c in page]
        projection = parse_fields(params.fields)
        if projection:
            items = [project(item, projection) for item in items]
        return json_response(
            {
                "items": items,
                "page": params.page,
                "perPage": params.per_page,
                "totalItems": -1 if params.skip_total else total,
                "totalPages": -1 if params.skip_total else math.ceil(total / params.per_page),
            }
        )

    @api.route("/collections", name="collections_create", methods=["post"])
    async def collections_create() -> Any:
        await superuser()
        body = await read_body(max_body)
        return json_response(store.create(body.data).to_json())

    @api.route("/collections/meta/scaffolds", name="collections_scaffolds", methods=["get"])
    async def collections_scaffolds() -> Any:
        await superuser()
        return json_response(scaffolds())

    @api.route("/collections/import", name="collections_import", methods=["put"])
    async def collections_import() -> Any:
        await superuser()
        body = await read_body(max_body)
        store.import_(body.data.get("collections"), bool(body.data.get("deleteMissing")))
        return empty_response(204)

    @api.route("/collections/<str:key>", name="collections_view", methods=["get"])
    async def collections_view(key: str) -> Any:
        await superuser()
        return json_response(store.get(key).to_json())

    @api.route("/collections/<str:key>", name="collections_update", methods=["patch"])
    async def collections_update(key: str) -> Any:
        await superuser()
        body = await read_body(max_body)
        return json_response(store.update(key, body.data).to_json())

    @api.route("/collections/<str:key>", name="collections_delete", methods=["delete"])
    async def collections_delete(key: str) -> Any:
        await superuser()
        store.delete(key)
        return empty_response(204)

    @api.route("/collections/<str:key>/truncate", name="collections_truncate", methods=["delete"])
    async def collections_truncate(key: str) -> Any:
        info = await superuser()
        store.truncate(key, info.auth)
        return empty_response(204)

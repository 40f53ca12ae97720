"""Records CRUD routes: ``/api/collections/{collection}/records[/{id}]``. Thin: parse, call, serialize."""

from __future__ import annotations

from typing import Any

from ..core.errors import BadRequest
from ..core.records.listing import parse_list_params
from ..runtime import Runtime
from .request import Body, read_body, request_info
from .responses import empty_response, json_response

UPLOADS_NOT_SUPPORTED = "File uploads are not supported yet."


def _param(info: Any, key: str) -> str:
    value = info.query.get(key, "")
    return str(value[0] if isinstance(value, list) and value else value or "")


def refuse_uploads(body: Body) -> None:
    if body.files:
        raise BadRequest(
            UPLOADS_NOT_SUPPORTED,
            {
                name: {"code": "validation_unsupported", "message": UPLOADS_NOT_SUPPORTED}
                for name in body.files
            },
        )


def mount(api: Any, runtime: Runtime) -> None:
    service = runtime.records
    max_body = runtime.settings.max_body_size

    @api.route("/collections/<str:collection>/records", name="records_list", methods=["get"])
    async def records_list(collection: str) -> Any:
        info = await request_info(runtime)
        params = parse_list_params(info.query)
        return json_response(service.search(collection, params, info), sort_keys=bool(params.expand))

    @api.route("/collections/<str:collection>/records/<str:record_id>", name="records_view", methods=["get"])
    async def records_view(collection: str, record_id: str) -> Any:
        info = await request_info(runtime)
        expand = _param(info, "expand")
        record = service.get(collection, record_id, info, expand, _param(info, "fields"))
        return json_response(record, sort_keys=bool(expand))

    @api.route("/collections/<str:collection>/records", name="records_create", methods=["post"])
    async def records_create(collection: str) -> Any:
        service.collection(collection)
        body = await read_body(max_body)
        refuse_uploads(body)
        info = await request_info(runtime, body)
        return _written(service, *service.create(collection, body.data, info), info)

    @api.route(
        "/collections/<str:collection>/records/<str:record_id>", name="records_update", methods=["patch"]
    )
    async def records_update(collection: str, record_id: str) -> Any:
        service.collection(collection)
        body = await read_body(max_body)
        refuse_uploads(body)
        info = await request_info(runtime, body)
        return _written(service, *service.update(collection, record_id, body.data, info), info)

    @api.route(
        "/collections/<str:collection>/records/<str:record_id>", name="records_delete", methods=["delete"]
    )
    async def records_delete(collection: str, record_id: str) -> Any:
        info = await request_info(runtime)
        service.delete(collection, record_id, info)
        return empty_response(204)


def _written(service: Any, compiled: Any, record: dict[str, Any], info: Any) -> Any:
    """The answer to a create or update: the record as the caller may see it."""
    expand = _param(info, "expand")
    return json_response(
        service.present_record(compiled, record, info, expand, _param(info, "fields")),
        sort_keys=bool(expand),
    )

"""``POST /api/batch``: several record writes in one transaction, all or nothing (PocketBase's format).

Body: ``{"requests": [{"method", "url", "headers"?, "body"?}]}`` (or multipart with ``@jsonPayload``).
Allowed: ``POST`` and ``PUT`` (upsert) on ``/api/collections/{c}/records``, ``PATCH`` and ``DELETE``
on ``/api/collections/{c}/records/{id}``. Each item runs through the same records service, with
the same rules, as the single-record routes; a failing item rolls everything back and is reported
under ``data.requests.<index>``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..core.errors import ApiError, BadRequest, Forbidden
from ..core.rules.context import RequestInfo
from ..db.errors import DatabaseUnavailable, SchemaMismatch
from ..runtime import Runtime
from .pipes import to_api_error
from .ratelimit import check_batch_item
from .request import read_body, request_info
from .responses import json_response

# Exactly the record routes' paths, as PocketBase's router takes them (no trailing slash).
_RECORDS_URL = re.compile(r"^/api/collections/([^/?#]+)/records(?:/([^/?#]+))?$")
FAILED = "Batch transaction failed."
INVALID = "Invalid batch request data."
UNREADABLE = "Failed to read the submitted batch data."
BLANK = {"code": "validation_required", "message": "Cannot be blank."}


def mount(api: Any, runtime: Runtime) -> None:
    @api.route("/batch", name="batch", methods=["post"])
    async def batch() -> Any:
        config = runtime.app_settings.get()["batch"]
        if not config["enabled"]:
            raise Forbidden("Batch requests are not allowed.")
        limit_size = config["maxBodySize"] or runtime.settings.max_body_size
        try:
            body = await read_body(min(limit_size, runtime.settings.max_body_size))
        except BadRequest:
            raise BadRequest(UNREADABLE) from None
        info = await request_info(runtime, body)
        requests = body.data.get("requests")
        # PocketBase's two answers: a body that does not decode into a list of objects is unreadable;
        # a readable one is then validated (blank, too long, items without method or url).
        if requests is not None and (
            not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests)
        ):
            raise BadRequest(UNREADABLE)
        if not requests:
            raise BadRequest(INVALID, {"requests": BLANK})
        limit = config["maxRequests"]
        if len(requests) > limit:
            raise BadRequest(
                INVALID,
                {
                    "requests": {
                        "code": "validation_length_too_long",
                        "message": f"The length must be no more than {limit}.",
                        "params": {"max": limit, "min": 0},
                    }
                },
            )
        blanks = {
            str(index): {key: BLANK for key in ("method", "url") if not item.get(key)}
            for index, item in enumerate(requests)
        }
        blanks = {index: problems for index, problems in blanks.items() if problems}
        if blanks:
            raise BadRequest(INVALID, {"requests": blanks})
        if body.files:
            raise BadRequest(
                FAILED,
                {
                    "requests": {
                        "code": "validation_unsupported",
                        "message": "File uploads are not supported yet.",
                    }
                },
            )
        results: list[dict[str, Any]] = []
        with runtime.db.transaction():
            for index, item in enumerate(requests):
                try:
                    results.append(_run_item(runtime, item, info))
                except (DatabaseUnavailable, SchemaMismatch):
                    # Not this item's fault (connection lost, schema changed): the whole batch is
                    # rolled back and the client may send it again (503 with Retry-After).
                    raise
                except Exception as exc:
                    error = to_api_error(exc, runtime.settings.dev)
                    raise BadRequest(
                        FAILED,
                        {
                            "requests": {
                                str(index): {
                                    "code": "batch_request_failed",
                                    "message": "Batch request failed.",
                                    "response": error.envelope(),
                                }
                            }
                        },
                    ) from None
        return json_response(results)


def _item_info(item: dict[str, Any], base: RequestInfo, query: dict[str, Any]) -> RequestInfo:
    """The context an item's rules see: the batch request's own auth (an item's Authorization
    header is not authenticated again, as in PocketBase), its headers plus the item's, and
    ``@request.context = "batch"`` so a rule can keep an action out of batches."""
    raw_headers = item.get("headers")
    headers = (
        {str(k).lower(): str(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
    )
    headers.pop("authorization", None)
    body = item.get("body")
    return RequestInfo(
        auth=base.auth,
        method=str(item.get("method", "")).upper(),
        query=query,
        headers={**base.headers, **headers},
        body=body if isinstance(body, dict) else {},
        context="batch",
    )


def _run_item(runtime: Runtime, item: dict[str, Any], base: RequestInfo) -> dict[str, Any]:
    method = str(item.get("method", "")).upper()
    url = urlsplit(str(item.get("url", "")))
    match = _RECORDS_URL.match(url.path)
    if not match:
        raise ApiError()
    collection, record_id = unquote(match.group(1)), unquote(match.group(2) or "")
    query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    info = _item_info(item, base, query)
    data = info.body
    service = runtime.records
    expand = str(query.get("expand", "") or "")
    fields = str(query.get("fields", "") or "")
    if runtime.rate_limiter is not None and method in ("POST", "PATCH", "DELETE"):
        # Each item counts against the rules of the route it stands for (PocketBase).
        check_batch_item(runtime, method, collection, record_id, base.auth)
    if method == "POST" and not record_id:
        compiled, record = service.create(collection, data, info)
    elif method == "PUT" and not record_id:
        compiled, record = _upsert(runtime, collection, data, info)
    elif method == "PATCH" and record_id:
        compiled, record = service.update(collection, record_id, data, info)
    elif method == "DELETE" and record_id:
        service.delete(collection, record_id, info)
        return {"body": None, "status": 204}
    else:
        raise ApiError()
    return {"body": service.present_record(compiled, record, info, expand, fields), "status": 200}


def _upsert(runtime: Runtime, collection: str, data: dict[str, Any], info: RequestInfo) -> Any:
    """PUT: update when a record with that id exists (under the update rule: someone else's record
    is a 404, never a duplicate-id create), create otherwise."""
    record_id = data.get("id")
    if isinstance(record_id, str) and record_id and runtime.records.exists(collection, record_id):
        if runtime.rate_limiter is not None:
            check_batch_item(runtime, "PATCH", collection, record_id, info.auth)
        rest = {k: v for k, v in data.items() if k != "id"}
        return runtime.records.update(collection, record_id, rest, info)
    if runtime.rate_limiter is not None:
        check_batch_item(runtime, "POST", collection, "", info.auth)
    return runtime.records.create(collection, data, info)

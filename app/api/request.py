"""Reading a request: the JSON or multipart body (with ``@jsonPayload``), and the ``RequestInfo``
rules see (auth from the ``Authorization`` header, method, query, headers, body).

On the local door the body is received on the event loop (``prefetch_body``) before the request's
work moves to a worker thread (``app.api.offload``), where it is parsed: the client's socket
belongs to the loop, and handler code there never waits for the network.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson
from emmett import current

from ..auth.session import load_auth, token_from_header
from ..core.errors import BadRequest, PayloadTooLarge
from ..core.rules.context import AuthState, RequestInfo
from ..runtime import Runtime

INVALID_BODY = "Failed to load the submitted data due to invalid formatting."
UNSUPPORTED_CONTENT_TYPE = "Unsupported Content-Type."
MAX_MULTIPART_FIELDS = 1000


class UploadedFile:
    """A file part of a multipart request."""

    __slots__ = ("content_type", "data", "filename")

    def __init__(self, filename: str, content_type: str, data: bytes):
        self.filename = filename
        self.content_type = content_type
        self.data = data


class Body:
    """The submitted data: field values, and uploaded files by field key."""

    __slots__ = ("data", "files")

    def __init__(self, data: dict[str, Any], files: dict[str, list[UploadedFile]] | None = None):
        self.data = data
        self.files = files or {}


# The body can be read from the server only once; a handler that runs again (the API pipe retries
# once after a schema reload) must get the same parsed body. Keyed by the request object.
_BODY_CACHE: ContextVar[tuple[int, Body] | None] = ContextVar("emmettbase_body", default=None)


class ReceivedBody:
    """A request body already received on the loop, in place of Emmett's body reader: awaiting
    it (or iterating it, as Emmett's multipart parser does) gives the same bytes again on any
    thread and loop, or raises what receiving it raised."""

    __slots__ = ("data", "error")

    def __init__(self, data: bytes = b"", error: Exception | None = None):
        self.data = data
        self.error = error

    def __await__(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.data
        yield  # a generator: awaitable without ever suspending

    async def __aiter__(self) -> Any:
        if self.error is not None:
            raise self.error
        yield self.data


async def prefetch_body(max_size: int) -> None:
    """Receive the current request's body now, on the loop, and leave it on the request for the
    handler's thread (``request.body``, ``body_params`` and ``files`` all read it from there).
    Nothing is parsed or refused here: the handler does that, in its own order. A body announced
    larger than ``max_size`` is not read: reading it gives 413."""
    request = current.request
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_size:
        request.__dict__["body"] = ReceivedBody(error=PayloadTooLarge())
        return
    try:
        received = ReceivedBody(await request.body)
    except Exception as exc:  # raised again where the handler reads the body
        received = ReceivedBody(error=exc)
    # ``body`` is a cached property of Emmett's request: the instance's own value wins.
    request.__dict__["body"] = received


async def read_body(max_size: int) -> Body:
    request = current.request
    cached = _BODY_CACHE.get()
    if cached is not None and cached[0] == id(request):
        return cached[1]
    body = await _read_body(request, max_size)
    _BODY_CACHE.set((id(request), body))
    return body


async def _read_body(request: Any, max_size: int) -> Body:
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return Body({})
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_size:
        raise PayloadTooLarge()
    content_type = request.headers.get("content-type") or ""
    # PocketBase's body binding: case-sensitive prefixes of the Content-Type; an empty body needs
    # none, any other body (text/plain, no header, ...) is refused rather than guessed as JSON.
    if content_type.startswith("multipart/form-data"):
        return await _read_multipart(request)
    raw = await request.body
    if len(raw) > max_size:
        raise PayloadTooLarge()
    if not raw:
        return Body({})
    if content_type.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qs

        try:
            pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_MULTIPART_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest(INVALID_BODY) from None
        return Body({k: v[0] if len(v) == 1 else v for k, v in pairs.items()})
    if not content_type.startswith("application/json"):
        raise BadRequest(UNSUPPORTED_CONTENT_TYPE)
    if not raw.strip():
        return Body({})
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(INVALID_BODY) from None
    if not isinstance(data, dict):
        raise BadRequest(INVALID_BODY)
    return Body(data)


async def _read_multipart(request: Any) -> Body:
    try:
        params = await request.body_params
        uploads = await request.files
    except (UnicodeDecodeError, TypeError):
        # A part name or value that is not UTF-8. Emmett decodes values itself (UnicodeDecodeError)
        # and its parser fails to even build its own encoding error for a bad part name (TypeError);
        # both come from the client's bytes, so they are a malformed body, not a server fault.
        raise BadRequest(INVALID_BODY) from None
    if len(params) + len(uploads) > MAX_MULTIPART_FIELDS:
        raise BadRequest("Too many multipart fields.")
    data: dict[str, Any] = {}
    payload = params.get("@jsonPayload")
    if payload is not None:
        for item in payload if isinstance(payload, list) else [payload]:
            try:
                parsed = orjson.loads(item)
            except orjson.JSONDecodeError:
                raise BadRequest(INVALID_BODY) from None
            if not isinstance(parsed, dict):
                raise BadRequest(INVALID_BODY)
            data.update(parsed)
    for key, value in params.items():
        if key != "@jsonPayload":
            data[key] = value
    files: dict[str, list[UploadedFile]] = {}
    for key, value in uploads.items():
        for storage in value if isinstance(value, list) else [value]:
            content = storage.read() if hasattr(storage, "read") else b""
            files.setdefault(key, []).append(
                UploadedFile(
                    storage.filename or "", storage.content_type or "application/octet-stream", content
                )
            )
    return Body(data, files)


def query_dict() -> dict[str, Any]:
    return dict(current.request.query_params)


# The auth state of the current request, loaded once: the rate-limit guard may need it before the
# handler does. Keyed by the request object, like the body.
_AUTH_CACHE: ContextVar[tuple[int, AuthState | None] | None] = ContextVar("emmettbase_auth", default=None)


def request_auth(runtime: Runtime) -> AuthState | None:
    """The verified auth state of the current request (None for guests and invalid tokens)."""
    request = current.request
    cached = _AUTH_CACHE.get()
    if cached is not None and cached[0] == id(request):
        return cached[1]
    token = token_from_header(request.headers.get("authorization"))
    auth = load_auth(runtime.db, runtime.registry, token) if token else None
    _AUTH_CACHE.set((id(request), auth))
    return auth


async def request_info(runtime: Runtime, body: Body | None = None, context: str = "default") -> RequestInfo:
    request = current.request
    return RequestInfo(
        auth=request_auth(runtime),
        method=request.method,
        query=query_dict(),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body.data if body else {},
        context=context,
    )

"""One client interface over the two doors of the app, so an API test body runs through both.

- ``AsgiDoor`` sends requests to the ASGI app in-process through httpx's ``ASGITransport``.
- ``LambdaDoor`` turns the same request into an API Gateway HTTP API event and calls the real
  Lambda handler (Mangum around the same app), then decodes what it returned.

Both answer with ``httpx.Response`` objects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .apigw import LambdaContext, decode_response, http_api_event

BASE_URL = "http://testserver"


class Door:
    name = "door"

    def __init__(self, emmett_app: Any):
        self.app = emmett_app

    @property
    def runtime(self) -> Any:
        return self.app.runtime

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        request = httpx.Request(method.upper(), BASE_URL + url, **kwargs)
        request.read()
        return self.send(request)

    def send(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)

    def close(self) -> None:
        self.app.runtime.close()


class AsgiDoor(Door):
    name = "asgi"

    def __init__(self, emmett_app: Any):
        from app.asgi import ASGIApp

        super().__init__(emmett_app)
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ASGIApp(emmett_app), client=("198.51.100.9", 50000)),
            base_url=BASE_URL,
        )

    def send(self, request: httpx.Request) -> httpx.Response:
        response = self.loop.run_until_complete(self.client.send(request))
        self.loop.run_until_complete(response.aread())
        return response

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        super().close()


class LambdaDoor(Door):
    """Drives the handler that ``app.adapters.lambda_http`` gives Lambda."""

    name = "lambda"

    def __init__(self, handler: Any):
        super().__init__(handler.app.emmett_app)
        self.handler = handler

    def send(self, request: httpx.Request) -> httpx.Response:
        event = http_api_event(
            request.method,
            request.url.path,
            request.url.query.decode("ascii"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            request.content,
        )
        status, headers, body = decode_response(self.handler(event, LambdaContext()))
        return httpx.Response(status, headers=headers, content=body, request=request)


def open_door(kind: str, settings: Any) -> Door:
    """Build the app from ``settings`` the way that door's users get it."""
    if kind == "asgi":
        from app import create_app

        return AsgiDoor(create_app(settings))
    if kind == "lambda":
        from app.adapters.lambda_http import build_handler

        # As on Lambda (serverless: mail sent inline), on the test's database; SQLite and the
        # .eml mailbox need the explicit opt-in there (docs/configuration.md).
        return LambdaDoor(build_handler(settings.with_(serverless=True, serverless_ephemeral=True)))
    raise ValueError(kind)

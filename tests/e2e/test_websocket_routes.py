"""Websocket routes registered under ``/api`` (realtime will be one) are served by Granian as
websockets: the JSON error pipe of the API wraps HTTP routes only.

The app is served in-process by Granian's embedded server on a loopback port, over RSGI (what
``emmettbase serve`` runs) and over ASGI (the entry other servers use), and a real ``websockets``
client talks to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.server import serve_embedded

pytestmark = pytest.mark.e2e


def _echo_app(settings: Any) -> Any:
    from emmett import websocket

    from app import create_app

    app = create_app(settings)

    @app.api_module.websocket("/test-echo")
    async def echo() -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            await websocket.send(f"echo:{message}")

    return app


@pytest.fixture(params=["rsgi", "asgi"])
def served(request: pytest.FixtureRequest, make_settings: Any) -> Iterator[str]:
    from granian.constants import Interfaces

    from app.asgi import ASGIApp
    from app.serving import HealthFastPath

    app = _echo_app(make_settings())
    if request.param == "rsgi":
        target, interface = HealthFastPath(app), Interfaces.RSGI
    else:
        target, interface = ASGIApp(app), Interfaces.ASGI
    try:
        with serve_embedded(target, interface) as url:
            yield url
    finally:
        app.runtime.close()


def test_websocket_route_under_api_bypasses_the_json_pipe(served: str):
    with connect(f"ws://{served}/api/test-echo", open_timeout=5, close_timeout=2) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "echo:hello"
        ws.send("again")
        assert ws.recv(timeout=5) == "echo:again"
    # HTTP routes of the same module still answer through the pipe, in the envelope
    missing = httpx.get(f"http://{served}/api/collections/nope/records")
    assert missing.status_code == 404 and missing.json()["status"] == 404

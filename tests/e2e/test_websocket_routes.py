"""Websocket routes registered under ``/api`` (realtime will be one) are served by Granian as
websockets: the JSON error pipe of the API wraps HTTP routes only.

The app is served in-process by Granian's embedded server on a loopback port, over RSGI (what
``emmettbase serve`` runs) and over ASGI (the entry other servers use), and a real ``websockets``
client talks to it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.server import free_port

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
    from granian.server.embed import Server

    from app.asgi import ASGIApp
    from app.serving import HealthFastPath

    app = _echo_app(make_settings())
    if request.param == "rsgi":
        target, interface = HealthFastPath(app), Interfaces.RSGI
    else:
        target, interface = ASGIApp(app), Interfaces.ASGI
    port = free_port()
    server = Server(target, address="127.0.0.1", port=port, interface=interface, websockets=True)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    url = f"127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"http://{url}/api/health", timeout=0.5)
            break
        except httpx.HTTPError:
            threading.Event().wait(0.05)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(server.stop)
        thread.join(10)
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

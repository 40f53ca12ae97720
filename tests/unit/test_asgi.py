"""The ASGI entry's fixes: ASGI3 callable, ``websocket`` scope type, and lifespan."""

from __future__ import annotations

import asyncio
import inspect

from app import create_app
from app.asgi import ASGIApp
from app.settings import Settings


def make_app(tmp_path):
    return ASGIApp(create_app(Settings.from_env({}, data_dir=str(tmp_path))))


def test_is_an_asgi3_coroutine_callable(tmp_path):
    assert inspect.iscoroutinefunction(make_app(tmp_path).__call__)


def test_lifespan_startup_and_shutdown(tmp_path):
    app = make_app(tmp_path)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_websocket_scope_reaches_emmett_router(tmp_path):
    """An unknown websocket path is closed by Emmett's router, not a KeyError on the scope type."""
    app = make_app(tmp_path)
    inbox = [{"type": "websocket.connect"}]
    sent = []

    async def receive():
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(0.05)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/nothing-here",
        "scheme": "ws",
        "headers": [],
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8090),
    }
    asyncio.run(app(scope, receive, send))
    assert sent and sent[0]["type"] == "websocket.close"

"""The ASGI entry point, with the three fixes Emmett 2.8's ASGI side needs (FACTS.md).

1. Emmett registers its websocket handler under the scope type ``"ws"`` while ASGI servers send
   ``"websocket"``: every websocket raised KeyError.
2. There is no lifespan handler: servers that send ``lifespan`` events got a KeyError.
3. ``App.__call__`` is a plain function, so servers sniffing for ASGI3 took it for ASGI2.

``ASGIApp`` is a small async callable that dispatches by scope type. Mangum (Lambda), uvicorn and
Granian's ASGI mode all run it. ``application`` is built lazily from the environment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .tools.loops import settle

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ASGIApp:
    def __init__(self, emmett_app: Any, settle: bool = False):
        self.emmett_app = emmett_app
        #: await the after-commit work a request scheduled before answering (the Lambda door)
        self.settle = settle
        self._http = emmett_app._asgi_handlers["http"]
        self._websocket = emmett_app._asgi_handlers["ws"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                await self._http(scope, receive, send)
            finally:
                if self.settle:
                    await settle()
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise RuntimeError(f"unsupported ASGI scope type {kind!r}")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                runtime = getattr(self.emmett_app, "runtime", None)
                if runtime is not None:
                    runtime.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_asgi_app(settings: Any = None, **ports: Any) -> ASGIApp:
    from . import create_app

    return ASGIApp(create_app(settings, **ports))


def __getattr__(name: str) -> Any:
    # ``app.asgi:application`` for ASGI servers; built on first access, from the environment.
    if name == "application":
        value = create_asgi_app()
        globals()["application"] = value
        return value
    raise AttributeError(name)

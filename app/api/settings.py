"""``GET/PATCH /api/settings`` (superusers): the application settings in PocketBase's shape."""

from __future__ import annotations

from typing import Any

from ..core.settings_store import public
from ..runtime import Runtime
from .guards import require_superuser
from .request import read_body, request_info
from .responses import json_response


def mount(api: Any, runtime: Runtime) -> None:
    store = runtime.app_settings

    @api.route("/settings", name="settings_view", methods=["get"])
    async def settings_view() -> Any:
        require_superuser(await request_info(runtime))
        return json_response(public(store.get()))

    @api.route("/settings", name="settings_update", methods=["patch"])
    async def settings_update() -> Any:
        body = await read_body(runtime.settings.max_body_size)
        require_superuser(await request_info(runtime, body))
        return json_response(public(store.update(body.data)))

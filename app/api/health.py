"""``GET /api/health``: liveness in PocketBase's own envelope ``{"message", "code", "data"}``.

It does not touch the database, so a paused Aurora cluster is not woken by load-balancer probes.
"""

from __future__ import annotations

from typing import Any

from .responses import json_response

HEALTHY = {"message": "API is healthy.", "code": 200, "data": {}}


def mount(api: Any) -> None:
    @api.route("/health", name="health", methods=["get", "head"])
    async def health() -> Any:
        return json_response(HEALTHY)

"""Health, error envelopes, security headers and CORS — through both doors, on both databases."""

from __future__ import annotations

import pytest

from app.api.responses import json_response
from app.core.errors import BadRequest
from app.db.errors import DatabaseUnavailable

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "1; mode=block",
    "cross-origin-opener-policy": "same-origin",
}
GENERIC = "Something went wrong while processing your request."


def assert_security_headers(response):
    for key, value in SECURITY_HEADERS.items():
        assert response.headers.get(key) == value, key


def test_health_answers_pocketbase_shape(api):
    response = api.get("/api/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "API is healthy.", "code": 200, "data": {}}
    assert_security_headers(response)


def test_health_head_has_no_body(api):
    response = api.request("HEAD", "/api/health")
    assert response.status_code == 200
    assert response.content == b""


def test_unknown_api_path_is_a_404_envelope(api):
    response = api.get("/api/definitely/not/here")
    assert response.status_code == 404
    assert response.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
    assert_security_headers(response)


def test_unknown_method_on_known_path_is_an_envelope(api):
    response = api.delete("/api/health")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_cors_simple_request_and_preflight(api):
    simple = api.get("/api/health", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "Origin" in simple.headers["vary"]

    preflight = api.options(
        "/api/collections/posts/records",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    assert_security_headers(preflight)


def _add_route(api, path, handler, methods=("get",)):
    module = api.app.api_module
    module.route(path, name=path.strip("/").replace("/", "_"), methods=list(methods))(handler)


def test_unexpected_exception_is_a_generic_500_without_details(api):
    async def explode():
        raise RuntimeError("SELECT secret FROM passwords -- do not leak")

    _add_route(api, "/_test/explode", explode)
    response = api.get("/api/_test/explode")
    assert response.status_code == 500
    assert response.json() == {"data": {}, "message": GENERIC, "status": 500}
    assert "passwords" not in response.text
    assert_security_headers(response)


def test_dev_mode_shows_the_error_text(door_kind, make_settings):
    from tests.support.doors import open_door

    door = open_door(door_kind, make_settings(dev=True))
    try:

        async def explode():
            raise RuntimeError("visible in dev")

        _add_route(door, "/_test/explode", explode)
        response = door.get("/api/_test/explode")
        assert response.status_code == 500
        assert "visible in dev" in response.json()["message"]
    finally:
        door.close()


def test_api_errors_keep_their_status_and_data(api):
    async def invalid():
        raise BadRequest(
            "Failed to create record.", {"title": {"code": "validation_required", "message": "x"}}
        )

    _add_route(api, "/_test/invalid", invalid)
    response = api.get("/api/_test/invalid")
    assert response.status_code == 400
    assert response.json() == {
        "data": {"title": {"code": "validation_required", "message": "x"}},
        "message": "Failed to create record.",
        "status": 400,
    }


def test_database_unavailable_is_a_503_with_retry_after(api):
    async def unavailable():
        raise DatabaseUnavailable(retry_after=3)

    _add_route(api, "/_test/unavailable", unavailable)
    response = api.get("/api/_test/unavailable")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"
    assert response.json()["status"] == 503


def test_malformed_multipart_is_a_400_envelope(api):
    from emmett import current

    async def upload():
        await current.request.body_params
        return json_response({"ok": True})

    _add_route(api, "/_test/upload", upload, methods=("post",))
    response = api.post(
        "/api/_test/upload",
        content=b'--XYZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
        headers={"content-type": "multipart/form-data; boundary=XYZ"},
    )
    assert response.status_code == 400
    assert response.json()["status"] == 400


@pytest.mark.parametrize("size", [0, 5])
def test_json_body_round_trip(api, size):
    from emmett import current

    async def echo():
        return json_response({"len": len(await current.request.body)})

    _add_route(api, "/_test/echo", echo, methods=("post",))
    response = api.post("/api/_test/echo", content=b"x" * size, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"len": size}
